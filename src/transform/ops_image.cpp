// Image ops: layout transposes, center/random crop, random flip, bilinear resize. They need a 2-D [H, W]
// or 3-D HWC/CHW sample; byte-moving ops accept any dtype, resize u8 and f32. center_crop and resize also
// take a variable input (a decoded image) and run per sample there. This file holds the transposes and
// resize; the crops and the flip are in ops_window.cpp. All are registered here.
#include "transform/ops_image.hpp"

#include <Kokkos_Core.hpp>  // before the kernels, so FERRY_HD is KOKKOS_INLINE_FUNCTION

#include "core/strings.hpp"
#include "transform/dispatch.hpp"
#include "transform/kernels_image.hpp"
#include "transform/op.hpp"
#include "transform/resample.hpp"

namespace ferry::transform {

namespace {

class TransposeOp final : public Op {
 public:
  TransposeOp(const char* name, const TensorDesc& input, TensorDesc output, bool to_chw)
      : Op(name, std::move(output)), input_(input), to_chw_(to_chw) {}

  std::optional<DeviceStep> device_step() const override {
    DeviceStep step;
    step.kind = DeviceStep::Kind::transpose;
    step.to_chw = to_chw_;
    return step;
  }

  void run(const OpRun& r) override {
    const std::size_t pixels = input_.height() * input_.width();
    const std::size_t channels = input_.channels();
    visit_word(dtype_size(input_.dtype), [&](auto tag) {
      using W = decltype(tag);
      const W* in = reinterpret_cast<const W*>(r.in);
      W* out = reinterpret_cast<W*>(r.out);
      if (to_chw_) {
        for_each_md("ferry::hwc_to_chw", kernels::HwcToChw<W>{in, out, pixels, channels}, r.n, channels,
                    pixels);
      } else {
        for_each_md("ferry::chw_to_hwc", kernels::ChwToHwc<W>{in, out, pixels, channels}, r.n, pixels,
                    channels);
      }
    });
  }

 private:
  TensorDesc input_;
  bool to_chw_;
};

std::unique_ptr<Op> make_hwc_to_chw(const OpArgs& a) {
  a.need_layout(ImageLayout::hwc);
  const TensorDesc& in = a.input();
  TensorDesc out{in.dtype, {in.channels(), in.height(), in.width()}, ImageLayout::chw};
  return std::make_unique<TransposeOp>("hwc_to_chw", in, std::move(out), true);
}

std::unique_ptr<Op> make_chw_to_hwc(const OpArgs& a) {
  a.need_layout(ImageLayout::chw);
  const TensorDesc& in = a.input();
  TensorDesc out{in.dtype, {in.height(), in.width(), in.channels()}, ImageLayout::hwc};
  return std::make_unique<TransposeOp>("chw_to_hwc", in, std::move(out), false);
}

// resize(height, width) to a fixed size, or resize(shorter) keeping the aspect ratio (torchvision's
// Resize(int)). Bilinear (kernels::Bilinear), u8 or f32; a variable input runs per sample.
class ResizeOp final : public Op {
 public:
  ResizeOp(std::string text, const TensorDesc& input, TensorDesc output, std::size_t shorter)
      : Op(std::move(text), std::move(output)), input_(input), shorter_(shorter) {}

  std::optional<DeviceStep> device_step() const override {
    if (input_.dtype != DType::f32) return std::nullopt;  // the CUDA kernel is f32 only
    DeviceStep step;
    step.kind = DeviceStep::Kind::resize;
    return step;
  }

  TensorDesc sample_output(const std::byte*, std::size_t, const TensorDesc& in) override {
    if (!shorter_) return output();
    const auto [h, w] = shorter_side_size(in.height(), in.width(), shorter_);
    return resized(in, h, w);
  }

  void run_sample(const SampleRun& r) override {
    resampler_.run(r.in, r.in_desc, {0, 0, r.in_desc.height(), r.in_desc.width()}, r.out, r.out_desc);
  }

  void run(const OpRun& r) override {
    const kernels::Planes src = planes_of(input_);
    const kernels::Planes dst = planes_of(output());
    const float sy = static_cast<float>(src.height) / static_cast<float>(dst.height);
    const float sx = static_cast<float>(src.width) / static_cast<float>(dst.width);
    const auto launch = [&](auto tag) {
      using T = decltype(tag);
      for_each_md("ferry::resize",
                  kernels::Bilinear<T>{reinterpret_cast<const T*>(r.in), reinterpret_cast<T*>(r.out), src,
                                       dst, sy, sx},
                  r.n * dst.planes, dst.height);  // a row per call: its source rows found once
    };
    if (input_.dtype == DType::u8)
      launch(std::uint8_t{});
    else
      launch(float{});
  }

 private:
  TensorDesc input_;
  std::size_t shorter_;  // 0: fixed height and width
  Resampler resampler_;  // per-sample runs
};

std::unique_ptr<Op> make_resize(const OpArgs& a) {
  a.need_image();
  const TensorDesc& in = a.input();
  a.need_u8_or_f32();
  if (a.has("shorter")) {
    if (a.has("height") || a.has("width")) a.bad_param("shorter", "goes without height and width");
    const std::size_t shorter = a.count("shorter");
    TensorDesc out = resized(in, 0, 0);
    if (!in.variable) {
      const auto [h, w] = shorter_side_size(in.height(), in.width(), shorter);
      out = resized(in, h, w);
    }
    return std::make_unique<ResizeOp>(str_cat("resize(shorter=", shorter, ")"), in, std::move(out), shorter);
  }
  const std::size_t h = a.count("height");
  const std::size_t w = a.count("width");
  return std::make_unique<ResizeOp>(str_cat("resize(height=", h, ", width=", w, ")"), in, resized(in, h, w),
                                    0);
}

}  // namespace

void add_image_ops(OpRegistry& registry) {
  registry.add("hwc_to_chw", {make_hwc_to_chw, {}});
  registry.add("chw_to_hwc", {make_chw_to_hwc, {}});
  OpInfo resize{make_resize, {"height", "width", "shorter"}};
  resize.variable_input = true;
  registry.add("resize", std::move(resize));
  add_window_ops(registry);
}

}  // namespace ferry::transform
