// Elementwise ops: cast, normalize, minmax, log1p, noise. They apply to any shape; per-channel ops use the
// image's channel axis, or the first dimension for layout none. Cast is in ops_cast.cpp; all five are
// registered here.
#include "transform/ops_elementwise.hpp"

#include <Kokkos_Core.hpp>  // before the kernels, so FERRY_HD is KOKKOS_INLINE_FUNCTION
#include <algorithm>

#include "core/strings.hpp"
#include "transform/dispatch.hpp"
#include "transform/kernels_elementwise.hpp"
#include "transform/op.hpp"
#include "transform/vector_math.hpp"

namespace ferry::transform {

namespace {

// normalize and minmax: y = (x - sub_c) / div_c with per-channel arrays expanded to the channel count.
class ChannelAffineOp final : public Op {
 public:
  ChannelAffineOp(std::string text, const TensorDesc& input, std::vector<float> sub, std::vector<float> div)
      : Op(std::move(text), input), input_(input), sub_(std::move(sub)), div_(std::move(div)) {}

  std::optional<DeviceStep> device_step() const override {
    DeviceStep step;
    step.kind = DeviceStep::Kind::affine;
    step.sub = sub_;
    step.div = div_;
    step.stride = input_.channel_stride();
    return step;
  }

  void run(const OpRun& r) override {
    const std::size_t stride = input_.channel_stride();
    const std::size_t channels = sub_.size();
    const kernels::ChannelAffine functor{reinterpret_cast<const float*>(r.in),
                                         reinterpret_cast<float*>(r.out),
                                         sub_.data(),
                                         div_.data(),
                                         stride,
                                         channels};
    const std::size_t count = r.n * input_.elements();
    if (stride == 1) {
      // HWC: a short channel run per pixel; an index space with a tiny innermost extent would cost more.
      for_each_tagged<kernels::PerPixel>("ferry::channel_affine", count / channels, functor);
    } else {
      for_each_md("ferry::channel_affine", functor, count / (channels * stride), channels, stride);
    }
  }

 private:
  TensorDesc input_;
  std::vector<float> sub_;  // channel_count() values
  std::vector<float> div_;
};

// A per-channel list of 1 (broadcast) or C values, expanded to C.
std::vector<double> per_channel(const OpArgs& a, std::string_view key) {
  std::vector<double> values = a.numbers(key);
  const std::size_t channels = a.input().channel_count();
  if (values.size() == 1) return std::vector<double>(channels, values[0]);
  if (values.size() != channels) {
    a.fail(str_cat("parameter '", key, "' has ", values.size(), " values but input ", a.input().str(),
                   " has ", channels, " channels (give 1 or ", channels, ")"));
  }
  return values;
}

std::unique_ptr<Op> make_normalize(const OpArgs& a) {
  const std::vector<double> mean_text = a.numbers("mean");
  const std::vector<double> std_text = a.numbers("std");
  for (double s : std_text) {
    if (!(s > 0.0)) a.bad_param("std", str_cat("must be > 0, got ", format_number(s)));
  }
  a.need_f32();
  const std::vector<double> mean = per_channel(a, "mean");
  const std::vector<double> stdev = per_channel(a, "std");
  return std::make_unique<ChannelAffineOp>(
      str_cat("normalize(mean=", format_numbers(mean_text), ", std=", format_numbers(std_text), ")"),
      a.input(), std::vector<float>(mean.begin(), mean.end()),
      std::vector<float>(stdev.begin(), stdev.end()));
}

std::unique_ptr<Op> make_minmax(const OpArgs& a) {
  const std::vector<double> min_text = a.numbers("min");
  const std::vector<double> max_text = a.numbers("max");
  a.need_f32();
  const std::vector<double> lo = per_channel(a, "min");
  const std::vector<double> hi = per_channel(a, "max");
  std::vector<float> sub, div;
  for (std::size_t c = 0; c < lo.size(); ++c) {
    if (!(hi[c] > lo[c])) {
      a.bad_param("max", str_cat("must exceed min in every channel; channel ", c, " has min ",
                                 format_number(lo[c]), ", max ", format_number(hi[c])));
    }
    sub.push_back(static_cast<float>(lo[c]));
    div.push_back(static_cast<float>(hi[c] - lo[c]));
  }
  return std::make_unique<ChannelAffineOp>(
      str_cat("minmax(min=", format_numbers(min_text), ", max=", format_numbers(max_text), ")"), a.input(),
      std::move(sub), std::move(div));
}

// Host log1p: blocks of elements through the vector routine (kernels::Log1p, one libm call per element, stays
// the device functor). The launch still goes through Kokkos, so a threaded host space splits the blocks.
struct Log1pBlocks {
  static constexpr std::size_t kBlock = 4096;  // elements: a multiple of every vector width
  const float* in;
  float* out;
  std::size_t count;

  void operator()(std::size_t b) const {
    const std::size_t begin = b * kBlock;
    vmath::log1p(in + begin, out + begin, std::min(kBlock, count - begin));
  }
};

class Log1pOp final : public Op {
 public:
  explicit Log1pOp(const TensorDesc& input) : Op("log1p", input), elements_(input.elements()) {}

  std::optional<DeviceStep> device_step() const override {
    DeviceStep step;
    step.kind = DeviceStep::Kind::log1p;
    return step;
  }

  void run(const OpRun& r) override {
    const std::size_t count = r.n * elements_;
    for_each("ferry::log1p", (count + Log1pBlocks::kBlock - 1) / Log1pBlocks::kBlock,
             Log1pBlocks{reinterpret_cast<const float*>(r.in), reinterpret_cast<float*>(r.out), count});
  }

 private:
  std::size_t elements_;
};

std::unique_ptr<Op> make_log1p(const OpArgs& a) {
  a.need_f32();
  return std::make_unique<Log1pOp>(a.input());
}

class NoiseOp final : public Op {
 public:
  NoiseOp(const TensorDesc& input, double stdev, double mean)
      : Op(str_cat("noise(std=", format_number(stdev), ", mean=", format_number(mean), ")"), input),
        elements_(input.elements()),
        std_(static_cast<float>(stdev)),
        mean_(static_cast<float>(mean)) {}

  std::optional<DeviceStep> device_step() const override {
    DeviceStep step;
    step.kind = DeviceStep::Kind::noise;
    step.random = true;
    step.mean = mean_;
    step.stdev = std_;
    return step;
  }

  void run(const OpRun& r) override {
    for_each_md("ferry::noise",
                kernels::GaussianNoise{reinterpret_cast<const float*>(r.in), reinterpret_cast<float*>(r.out),
                                       r.keys, elements_, mean_, std_},
                r.n, elements_);
  }

 private:
  std::size_t elements_;
  float std_;
  float mean_;
};

std::unique_ptr<Op> make_noise(const OpArgs& a) {
  const double stdev = a.number("std");
  if (!(stdev >= 0.0)) a.bad_param("std", str_cat("must be >= 0, got ", format_number(stdev)));
  const double mean = a.number("mean", 0.0);
  a.need_f32();
  return std::make_unique<NoiseOp>(a.input(), stdev, mean);
}

}  // namespace

void add_elementwise_ops(OpRegistry& registry) {
  add_cast_ops(registry);
  registry.add("normalize", {make_normalize, {"mean", "std"}});
  registry.add("minmax", {make_minmax, {"min", "max"}});
  registry.add("log1p", {make_log1p, {}});
  registry.add("noise", {make_noise, {"std", "mean"}, true});
}

}  // namespace ferry::transform
