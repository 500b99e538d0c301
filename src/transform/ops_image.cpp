// Image ops: layout transposes, center/random crop, random flip, bilinear resize. They need a 2-D [H, W]
// or 3-D HWC/CHW sample; byte-moving ops accept any dtype.
#include <Kokkos_Core.hpp>  // before the kernels, so FERRY_HD is KOKKOS_INLINE_FUNCTION

#include "core/strings.hpp"
#include "transform/dispatch.hpp"
#include "transform/kernels_image.hpp"
#include "transform/op.hpp"

namespace ferry::transform {

namespace {

std::int64_t signed_size(std::size_t n) {
  return static_cast<std::int64_t>(n);
}

kernels::Planes planes_of(const TensorDesc& desc) {
  const ImageGeometry g = geometry(desc);
  return {g.planes, g.height, g.width, g.inner};
}

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

// center_crop, random_crop, random_flip: each output pixel is an input pixel (or a zero pad) moved by a
// placement that is fixed (center) or drawn per sample from its key (random).
class WindowOp final : public Op {
 public:
  WindowOp(std::string text, const TensorDesc& input, const TensorDesc& output, kernels::Placement fixed)
      : Op(std::move(text), output), input_(input), fixed_(fixed), random_(false) {}
  WindowOp(std::string text, const TensorDesc& input, const TensorDesc& output, std::int64_t pad,
           float flip_p)
      : Op(std::move(text), output), input_(input), pad_(pad), flip_p_(flip_p), random_(true) {}

  std::optional<DeviceStep> device_step() const override {
    DeviceStep step;
    step.kind = DeviceStep::Kind::window;
    step.random = random_;
    step.top = fixed_.top;
    step.left = fixed_.left;
    step.flip = fixed_.flip != 0;
    step.pad = pad_;
    step.flip_p = flip_p_;
    return step;
  }

  void run(const OpRun& r) override {
    const kernels::Planes src = planes_of(input_);
    const kernels::Planes dst = planes_of(output());
    const kernels::Placement* places = nullptr;
    if (random_) {
      if (places_.size() < r.n) places_.resize(r.n);
      // May be 0 (no freedom) but never negative: the factory checked that the window fits the padding.
      const std::int64_t range_y = signed_size(src.height) - signed_size(dst.height) + 2 * pad_;
      const std::int64_t range_x = signed_size(src.width) - signed_size(dst.width) + 2 * pad_;
      for_each("ferry::place_random", r.n,
               kernels::PlaceRandom{r.keys, places_.data(), range_y, range_x, pad_, flip_p_});
      places = places_.data();
    }
    visit_word(dtype_size(input_.dtype), [&](auto tag) {
      using W = decltype(tag);
      for_each_md("ferry::window",
                  kernels::Window<W>{reinterpret_cast<const W*>(r.in), reinterpret_cast<W*>(r.out), src, dst,
                                     places, fixed_},
                  r.n * dst.planes, dst.height);
    });
  }

 private:
  TensorDesc input_;
  kernels::Placement fixed_{0, 0, 0};
  std::int64_t pad_ = 0;
  float flip_p_ = 0.0f;
  bool random_;
  std::vector<kernels::Placement> places_;  // per sample of the largest batch seen
};

void need_fits(const OpArgs& a, std::size_t height, std::size_t width, std::size_t pad) {
  const TensorDesc& in = a.input();
  if (height > in.height() + 2 * pad || width > in.width() + 2 * pad) {
    a.fail(str_cat("window ", height, "x", width, pad ? str_cat(" (padding ", pad, ")") : std::string(),
                   " is larger than the input ", in.str()));
  }
}

std::unique_ptr<Op> make_center_crop(const OpArgs& a) {
  const std::size_t h = a.count("height");
  const std::size_t w = a.count("width");
  a.need_image();
  need_fits(a, h, w, 0);
  const TensorDesc& in = a.input();
  // Offsets round down (torchvision rounds half to even): the extra row/column is dropped at the
  // bottom/right.
  const kernels::Placement fixed{static_cast<std::int64_t>((in.height() - h) / 2),
                                 static_cast<std::int64_t>((in.width() - w) / 2), 0};
  return std::make_unique<WindowOp>(str_cat("center_crop(height=", h, ", width=", w, ")"), in,
                                    resized(in, h, w), fixed);
}

std::unique_ptr<Op> make_random_crop(const OpArgs& a) {
  const std::size_t h = a.count("height");
  const std::size_t w = a.count("width");
  const std::size_t pad = a.count("padding", 0, 0);
  a.need_image();
  need_fits(a, h, w, pad);
  const TensorDesc& in = a.input();
  return std::make_unique<WindowOp>(str_cat("random_crop(height=", h, ", width=", w, ", padding=", pad, ")"),
                                    in, resized(in, h, w), static_cast<std::int64_t>(pad), 0.0f);
}

std::unique_ptr<Op> make_random_flip(const OpArgs& a) {
  const double p = a.number("p", 0.5);
  if (!(p >= 0.0 && p <= 1.0)) a.bad_param("p", str_cat("must be in [0, 1], got ", format_number(p)));
  a.need_image();
  return std::make_unique<WindowOp>(str_cat("random_flip(p=", format_number(p), ")"), a.input(), a.input(), 0,
                                    static_cast<float>(p));
}

class ResizeOp final : public Op {
 public:
  ResizeOp(const TensorDesc& input, std::size_t height, std::size_t width)
      : Op(str_cat("resize(height=", height, ", width=", width, ")"), resized(input, height, width)),
        input_(input) {}

  std::optional<DeviceStep> device_step() const override {
    DeviceStep step;
    step.kind = DeviceStep::Kind::resize;
    return step;
  }

  void run(const OpRun& r) override {
    const kernels::Planes src = planes_of(input_);
    const kernels::Planes dst = planes_of(output());
    const float sy = static_cast<float>(src.height) / static_cast<float>(dst.height);
    const float sx = static_cast<float>(src.width) / static_cast<float>(dst.width);
    for_each_md("ferry::resize",
                kernels::ResizeBilinear{reinterpret_cast<const float*>(r.in), reinterpret_cast<float*>(r.out),
                                        src, dst, sy, sx},
                r.n * dst.planes, dst.height, dst.width);
  }

 private:
  TensorDesc input_;
};

std::unique_ptr<Op> make_resize(const OpArgs& a) {
  const std::size_t h = a.count("height");
  const std::size_t w = a.count("width");
  a.need_image();
  a.need_f32();
  return std::make_unique<ResizeOp>(a.input(), h, w);
}

}  // namespace

void add_image_ops(OpRegistry& registry) {
  registry.add("hwc_to_chw", {make_hwc_to_chw, {}});
  registry.add("chw_to_hwc", {make_chw_to_hwc, {}});
  registry.add("center_crop", {make_center_crop, {"height", "width"}});
  registry.add("random_crop", {make_random_crop, {"height", "width", "padding"}, true});
  registry.add("random_flip", {make_random_flip, {"p"}, true});
  registry.add("resize", {make_resize, {"height", "width"}});
}

}  // namespace ferry::transform
