// The cast op: cast(to=f32, scale, shift), y = x * scale + shift into f32 from any dtype. The host runs it in
// blocks the compiler vectorizes, and a following hwc_to_chw in the same pass (Op::absorb).
#include <Kokkos_Core.hpp>  // before the kernels, so FERRY_HD is KOKKOS_INLINE_FUNCTION
#include <algorithm>

#include "core/strings.hpp"
#include "transform/dispatch.hpp"
#include "transform/kernels_elementwise.hpp"
#include "transform/op.hpp"
#include "transform/ops_elementwise.hpp"

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

}  // namespace

void add_cast_ops(OpRegistry& registry) {
  registry.add("cast", {make_cast, {"to", "scale", "shift"}});
}

}  // namespace ferry::transform
