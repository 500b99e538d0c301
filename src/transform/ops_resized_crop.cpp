// random_resized_crop(size | height, width, scale, ratio): torchvision's RandomResizedCrop. The window comes
// from resized_crop_box() with draws from the sample's key (seed, epoch, ID, op index); the window is then
// resized bilinearly (align_corners=false, no antialiasing) to the output size. u8 or f32; a fixed or a
// variable input (then it runs per sample, right after decode).
#include "transform/op.hpp"

#include <memory>

#include "core/strings.hpp"
#include "transform/crop_box.hpp"
#include "transform/resample.hpp"

namespace ferry::transform {

namespace {

class ResizedCropOp final : public Op {
 public:
  ResizedCropOp(std::string text, const TensorDesc& input, TensorDesc output, CropRange range)
      : Op(std::move(text), std::move(output)), input_(input), range_(range) {}

  TensorDesc sample_output(const std::byte*, std::size_t, const TensorDesc&) override { return output(); }

  void run_sample(const SampleRun& r) override {
    KeyDraws draws(r.key);
    const CropBox box = resized_crop_box(r.in_desc.height(), r.in_desc.width(), range_, draws);
    resample(r.in, r.in_desc, box, r.out, r.out_desc);
  }

  void run(const OpRun& r) override {
    const std::size_t in_bytes = input_.bytes(), out_bytes = output().bytes();
    for (std::size_t i = 0; i < r.n; ++i) {
      run_sample({r.in + i * in_bytes, in_bytes, input_, r.out + i * out_bytes, output(), r.keys[i]});
    }
  }

 private:
  TensorDesc input_;
  CropRange range_;
};

std::pair<double, double> range_of(const OpArgs& a, std::string_view key, double lo, double hi) {
  if (!a.has(key)) return {lo, hi};
  const std::vector<double> v = a.numbers(key);
  if (v.size() != 2 || !(v[0] > 0) || !(v[0] <= v[1])) {
    a.bad_param(key, str_cat("must be [lo, hi] with 0 < lo <= hi, got ", format_numbers(v)));
  }
  return {v[0], v[1]};
}

std::unique_ptr<Op> make_random_resized_crop(const OpArgs& a) {
  a.need_image();
  const TensorDesc& in = a.input();
  a.need_u8_or_f32();
  const auto [h, w] = a.window();
  CropRange range;
  std::tie(range.scale_lo, range.scale_hi) = range_of(a, "scale", 0.08, 1.0);
  std::tie(range.ratio_lo, range.ratio_hi) = range_of(a, "ratio", 3.0 / 4.0, 4.0 / 3.0);
  if (range.scale_hi > 1.0) a.bad_param("scale", "must not exceed 1 (a window inside the image)");
  std::string text = str_cat("random_resized_crop(height=", h, ", width=", w,
                             ", scale=", format_numbers({range.scale_lo, range.scale_hi}),
                             ", ratio=", format_numbers({range.ratio_lo, range.ratio_hi}), ")");
  return std::make_unique<ResizedCropOp>(std::move(text), in, resized(in, h, w), range);
}

}  // namespace

void add_resized_crop_ops(OpRegistry& registry) {
  OpInfo info{make_random_resized_crop, {"height", "width", "size", "scale", "ratio"}, true};
  info.variable_input = true;
  registry.add("random_resized_crop", std::move(info));
}

}  // namespace ferry::transform
