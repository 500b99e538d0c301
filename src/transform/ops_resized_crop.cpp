// random_resized_crop(size | height, width, scale, ratio): torchvision's RandomResizedCrop. The window comes
// from resized_crop_box() with draws from the sample's key (seed, epoch, ID, op index); the window is then
// resized bilinearly (align_corners=false, no antialiasing) to the output size. u8 or f32; a fixed or a
// variable input (then it runs per sample, right after decode). A random_flip, cast and normalize after it
// run inside it (Op::absorb), so an augment chain reads the image once and writes the floats once.
#include "transform/op.hpp"

#include <Kokkos_Core.hpp>  // before the kernels, so FERRY_HD is KOKKOS_INLINE_FUNCTION
#include <algorithm>
#include <memory>

#include "core/strings.hpp"
#include "transform/crop_box.hpp"
#include "transform/kernels_image.hpp"
#include "transform/resample.hpp"

namespace ferry::transform {

namespace {

class ResizedCropOp final : public Op {
 public:
  ResizedCropOp(std::string text, const TensorDesc& input, TensorDesc output, CropRange range)
      : Op(std::move(text), output), input_(input), range_(range), fused_output_(std::move(output)) {}

  // Takes a random_flip (a random window of the same size, no padding: PlaceRandom's flip is its only
  // draw), and on a u8 input a cast to f32 and then normalize/minmax steps, folded into a per-channel
  // table of 256 floats computed by the same functors (kernels::Cast, kernels::ChannelAffine), so every
  // value is the one the ops would give one after the other.
  bool absorb(const DeviceStep& next) override {
    using Kind = DeviceStep::Kind;
    if (next.kind == Kind::window && next.random && next.pad == 0 && !flip_ && next.in == next.out) {
      flip_ = true;
      flip_p_ = next.flip_p;
    } else if (next.kind == Kind::cast && input_.dtype == DType::u8 && next.from == DType::u8 &&
               lut_.empty()) {
      build_lut(next);
    } else if (next.kind == Kind::affine && !lut_.empty()) {
      apply_affine(next);
    } else {
      return false;
    }
    fused_output_ = next.out;
    return true;
  }

  TensorDesc sample_output(const std::byte*, std::size_t, const TensorDesc&) override {
    return fused_output_;
  }

  void run_sample(const SampleRun& r) override {
    KeyDraws draws(r.key);
    const CropBox box = resized_crop_box(r.in_desc.height(), r.in_desc.width(), range_, draws);
    resampler_.run(r.in, r.in_desc, box, r.out, r.out_desc, {flipped(r.absorbed_key), lut()});
  }

  void run(const OpRun& r) override {
    const std::size_t in_bytes = input_.bytes(), out_bytes = fused_output_.bytes();
    for (std::size_t i = 0; i < r.n; ++i) {
      run_sample({r.in + i * in_bytes, in_bytes, input_, r.out + i * out_bytes, fused_output_, r.keys[i],
                  r.absorbed_keys ? r.absorbed_keys[i] : 0});
    }
  }

 private:
  // random_flip's decision for its key, by its own functor (range 0: no offset draws matter).
  bool flipped(std::uint64_t key) const {
    if (!flip_) return false;
    kernels::Placement place{};
    kernels::PlaceRandom{&key, &place, 0, 0, 0, flip_p_}(0);
    return place.flip != 0;
  }
  const float* lut() const { return lut_.empty() ? nullptr : lut_.data(); }

  void build_lut(const DeviceStep& cast) {
    std::uint8_t values[256];
    for (int v = 0; v < 256; ++v) values[v] = static_cast<std::uint8_t>(v);
    const std::size_t channels = input_.channel_count();
    lut_.resize(channels * 256);
    const kernels::Cast<std::uint8_t> f{values, lut_.data(), cast.scale, cast.shift};
    for (std::size_t i = 0; i < 256; ++i) f(i);
    for (std::size_t c = 1; c < channels; ++c) std::copy_n(lut_.data(), 256, lut_.data() + c * 256);
  }

  void apply_affine(const DeviceStep& affine) {
    for (std::size_t c = 0; c < affine.sub.size(); ++c) {
      float* channel = lut_.data() + c * 256;
      const kernels::ChannelAffine f{channel, channel, &affine.sub[c], &affine.div[c], 1, 1};
      for (std::size_t i = 0; i < 256; ++i) f(i);
    }
  }

  TensorDesc input_;
  CropRange range_;
  TensorDesc fused_output_;  // output() with the absorbed ops applied
  bool flip_ = false;
  float flip_p_ = 0.0f;
  std::vector<float> lut_;  // channel_count() x 256 when a cast was absorbed
  Resampler resampler_;
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
