// Window ops: center_crop, random_crop (with zero padding), random_flip. Each moves input pixels into an
// output window: a fixed placement (center) or one drawn per sample from its key (random). They need a 2-D
// [H, W] or 3-D HWC/CHW sample of any dtype; center_crop also takes a variable input and runs per sample.
#include <Kokkos_Core.hpp>  // before the kernels, so FERRY_HD is KOKKOS_INLINE_FUNCTION

#include "core/strings.hpp"
#include "transform/dispatch.hpp"
#include "transform/kernels_image.hpp"
#include "transform/op.hpp"
#include "transform/ops_image.hpp"

namespace ferry::transform {

namespace {

std::int64_t signed_size(std::size_t n) {
  return static_cast<std::int64_t>(n);
}

// Offsets round down (torchvision rounds half to even): the extra row/column is dropped at the bottom/right.
// A window larger than the image (variable input only) is padded with zeros, torchvision's padding.
std::int64_t centred(std::size_t in, std::size_t out) {
  if (in >= out) return static_cast<std::int64_t>((in - out) / 2);
  return -static_cast<std::int64_t>((out - in) / 2);
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
  // A centred window of a variable input: the placement is computed per sample.
  WindowOp(std::string text, const TensorDesc& input, const TensorDesc& output)
      : Op(std::move(text), output), input_(input), random_(false) {}

  TensorDesc sample_output(const std::byte*, std::size_t, const TensorDesc&) override { return output(); }

  void run_sample(const SampleRun& r) override {
    const kernels::Planes src = planes_of(r.in_desc);
    const kernels::Planes dst = planes_of(r.out_desc);
    const kernels::Placement fixed{centred(src.height, dst.height), centred(src.width, dst.width), 0};
    visit_word(dtype_size(input_.dtype), [&](auto tag) {
      using W = decltype(tag);
      for_each_md("ferry::window",
                  kernels::Window<W>{reinterpret_cast<const W*>(r.in), reinterpret_cast<W*>(r.out), src, dst,
                                     nullptr, fixed},
                  dst.planes, dst.height);
    });
  }

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
  const auto [h, w] = a.window();  // center_crop(size) is center_crop(height, width)
  a.need_image();
  const TensorDesc& in = a.input();
  std::string text = str_cat("center_crop(height=", h, ", width=", w, ")");
  if (in.variable) return std::make_unique<WindowOp>(std::move(text), in, resized(in, h, w));
  need_fits(a, h, w, 0);
  const kernels::Placement fixed{centred(in.height(), h), centred(in.width(), w), 0};
  return std::make_unique<WindowOp>(std::move(text), in, resized(in, h, w), fixed);
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

}  // namespace

void add_window_ops(OpRegistry& registry) {
  OpInfo center_crop{make_center_crop, {"height", "width", "size"}};
  center_crop.variable_input = true;
  registry.add("center_crop", std::move(center_crop));
  registry.add("random_crop", {make_random_crop, {"height", "width", "padding"}, true});
  registry.add("random_flip", {make_random_flip, {"p"}, true});
}

}  // namespace ferry::transform
