// Elementwise ops: cast, normalize, minmax, log1p, noise. They apply to any shape; per-channel ops use the
// image's channel axis, or the first dimension for layout none.
#include <Kokkos_Core.hpp>  // before the kernels, so FERRY_HD is KOKKOS_INLINE_FUNCTION
#include <algorithm>

#include "core/strings.hpp"
#include "transform/dispatch.hpp"
#include "transform/kernels_elementwise.hpp"
#include "transform/op.hpp"
#include "transform/vector_math.hpp"

namespace ferry::transform {

namespace {

TensorDesc as_f32(TensorDesc desc) {
  desc.dtype = DType::f32;
  return desc;
}

// Host cast: blocks of elements in a plain loop over locals. Through the element functor, GCC kept the loop
// scalar (the stores might alias the functor's members); here it vectorizes. Same arithmetic, same bits.
template <typename In>
struct CastBlocks {
  static constexpr std::size_t kBlock = 4096;  // elements
  kernels::Cast<In> f;
  std::size_t count;

  void operator()(std::size_t b) const {
    using M = typename kernels::CastMath<In>::type;
    const std::size_t begin = b * kBlock, end = std::min(count, begin + kBlock);
    const In* in = f.in;  // locals, not members: GCC checks the overlap once, then vectorizes
    float* out = f.out;
    const M scale = static_cast<M>(f.scale), shift = static_cast<M>(f.shift);
    for (std::size_t i = begin; i < end; ++i)
      out[i] = static_cast<float>(static_cast<M>(in[i]) * scale + shift);
  }
};

// Cast, then hwc_to_chw, in one pass over memory: one sample per call, a block of pixels at a time, cast in
// order into a buffer that stays in the L1 cache (the loop the compiler vectorizes), then its channels
// written to their planes. The same expression per element as Cast, so the same bytes.
template <typename In>
struct CastToChw {
  static constexpr std::size_t kBlock = 512;  // pixels: 8 KiB of floats at 4 channels
  kernels::Cast<In> f;
  std::size_t pixels, channels;

  void operator()(std::size_t n) const {
    using M = typename kernels::CastMath<In>::type;
    const std::size_t ch = channels;
    const In* in = f.in + n * pixels * ch;
    float* out = f.out + n * pixels * ch;
    const M scale = static_cast<M>(f.scale), shift = static_cast<M>(f.shift);
    if (ch > 4) {  // rare: plane by plane
      for (std::size_t p = 0; p < pixels; ++p)
        for (std::size_t c = 0; c < ch; ++c)
          out[c * pixels + p] = static_cast<float>(static_cast<M>(in[p * ch + c]) * scale + shift);
      return;
    }
    float block[kBlock * 4];
    for (std::size_t p0 = 0; p0 < pixels; p0 += kBlock) {
      const std::size_t m = std::min(kBlock, pixels - p0);
      const In* from = in + p0 * ch;
      for (std::size_t i = 0; i < m * ch; ++i)
        block[i] = static_cast<float>(static_cast<M>(from[i]) * scale + shift);
      if (ch == 3) {  // RGB: one loop over the three planes, which the compiler vectorizes
        float *r = out + p0, *g = r + pixels, *b = g + pixels;
        for (std::size_t p = 0; p < m; ++p) {
          r[p] = block[3 * p];
          g[p] = block[3 * p + 1];
          b[p] = block[3 * p + 2];
        }
        continue;
      }
      for (std::size_t c = 0; c < ch; ++c) {
        float* plane = out + c * pixels + p0;
        for (std::size_t p = 0; p < m; ++p) plane[p] = block[p * ch + c];
      }
    }
  }
};

class CastOp final : public Op {
 public:
  CastOp(const OpArgs& a, double scale, double shift)
      : Op(str_cat("cast(to=f32, scale=", format_number(scale), ", shift=", format_number(shift), ")"),
           as_f32(a.input())),
        input_(a.input()),
        scale_(scale),
        shift_(shift) {}

  std::optional<DeviceStep> device_step() const override {
    DeviceStep step;
    step.kind = DeviceStep::Kind::cast;
    step.from = input_.dtype;
    step.scale = scale_;
    step.shift = shift_;
    return step;
  }

  // A cast followed by hwc_to_chw writes each value once, where the transpose would put it (the same
  // expression per element, so the same bytes): one pass over the floats instead of two.
  bool absorb(const DeviceStep& next) override {
    if (pixels_ != 0 || next.kind != DeviceStep::Kind::transpose || !next.to_chw) return false;
    pixels_ = next.in.height() * next.in.width();
    channels_ = next.in.channels();
    return pixels_ != 0;
  }

  void run(const OpRun& r) override {
    const std::size_t count = r.n * input_.elements();
    visit_dtype(input_.dtype, [&](auto tag) {
      using T = decltype(tag);
      const kernels::Cast<T> f{reinterpret_cast<const T*>(r.in), reinterpret_cast<float*>(r.out), scale_,
                               shift_};
      if (pixels_ != 0) {
        for_each("ferry::cast_to_chw", r.n, CastToChw<T>{f, pixels_, channels_});
        return;
      }
      for_each("ferry::cast", (count + CastBlocks<T>::kBlock - 1) / CastBlocks<T>::kBlock,
               CastBlocks<T>{f, count});
    });
  }

 private:
  TensorDesc input_;
  double scale_;
  double shift_;
  std::size_t pixels_ = 0, channels_ = 0;  // an absorbed hwc_to_chw: its planes
};

std::unique_ptr<Op> make_cast(const OpArgs& a) {
  const std::string to = a.word("to", "f32");
  DType dtype{};
  if (!parse_dtype(to, dtype)) a.bad_param("to", str_cat("must be a dtype, got '", to, "'"));
  if (dtype != DType::f32) a.bad_param("to", str_cat("supports only f32 for now, got '", to, "'"));
  return std::make_unique<CastOp>(a, a.number("scale", 1.0), a.number("shift", 0.0));
}

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
  registry.add("cast", {make_cast, {"to", "scale", "shift"}});
  registry.add("normalize", {make_normalize, {"mean", "std"}});
  registry.add("minmax", {make_minmax, {"min", "max"}});
  registry.add("log1p", {make_log1p, {}});
  registry.add("noise", {make_noise, {"std", "mean"}, true});
}

}  // namespace ferry::transform
