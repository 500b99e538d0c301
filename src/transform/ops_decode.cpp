// decode_jpeg and decode_png: encoded bytes of a variable-length field into u8 HWC images whose height and
// width come from each sample's header. They run one sample at a time (Chain::run_variable), on CPUs.
#include <memory>

#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "transform/image_codec.hpp"
#include "transform/op.hpp"

namespace ferry::transform {

namespace {

class DecodeOp final : public Op {
 public:
  enum class Format { jpeg, png };

  DecodeOp(std::string text, TensorDesc output, std::string context, Format format, ColorMode mode,
           int scale_denom, bool fast = false)
      : Op(std::move(text), std::move(output)),
        context_(std::move(context)),
        format_(format),
        mode_(mode),
        scale_denom_(scale_denom) {
    if (format_ == Format::jpeg) jpeg_ = std::make_unique<JpegDecoder>(fast);
  }

  void run(const OpRun&) override { throw InternalError(str_cat(context_, ": runs per sample only")); }

  TensorDesc sample_output(const std::byte* in, std::size_t in_bytes, const TensorDesc&) override {
    try {
      size_ = format_ == Format::jpeg ? jpeg_->header(in, in_bytes, mode_, scale_denom_)
                                      : png_header(in, in_bytes, mode_);
    } catch (const TransformError& e) {
      throw TransformError(str_cat(context_, ": ", e.what()));
    }
    TensorDesc out = output();
    out.shape = {size_.height, size_.width, size_.channels};
    out.variable = false;
    return out;
  }

  void run_sample(const SampleRun& r) override {
    try {
      if (format_ == Format::jpeg)
        jpeg_->decode(r.in, r.in_bytes, size_, mode_, r.out);
      else
        png_decode(r.in, r.in_bytes, size_, mode_, r.out);
    } catch (const TransformError& e) {
      throw TransformError(str_cat(context_, ": ", e.what()));
    }
  }

 private:
  std::string context_;
  Format format_;
  ColorMode mode_;
  int scale_denom_;
  std::unique_ptr<JpegDecoder> jpeg_;
  ImageSize size_;  // of the sample between sample_output() and run_sample()
};

ColorMode color_mode(const OpArgs& a) {
  const std::string mode = a.word("mode", "rgb");
  if (mode == "rgb") return ColorMode::rgb;
  if (mode == "gray") return ColorMode::gray;
  a.bad_param("mode", str_cat("must be rgb or gray, got '", mode, "'"));
}

void need_encoded_bytes(const OpArgs& a) {
  const TensorDesc& in = a.input();
  if (in.variable && in.dtype == DType::u8 && in.shape.size() == 1) return;
  a.fail(str_cat("needs encoded bytes (a variable-length field, u8[?]), got ", in.str()));
}

TensorDesc decoded(ColorMode mode) {
  return {
      DType::u8, {0, 0, mode == ColorMode::rgb ? std::size_t{3} : std::size_t{1}}, ImageLayout::hwc, true};
}

const char* mode_name(ColorMode mode) {
  return mode == ColorMode::rgb ? "rgb" : "gray";
}

std::unique_ptr<Op> make_decode_jpeg(const OpArgs& a) {
  need_encoded_bytes(a);
  const ColorMode mode = color_mode(a);
  const double scale = a.number("scale", 1.0);
  int denom = 0;
  for (int d : {1, 2, 4, 8})
    if (scale == 1.0 / d) denom = d;
  if (denom == 0) a.bad_param("scale", str_cat("must be 1, 0.5, 0.25 or 0.125, got ", format_number(scale)));
  const std::string fast = a.word("fast", "false");
  if (fast != "true" && fast != "false")
    a.bad_param("fast", str_cat("must be true or false, got '", fast, "'"));
  // fast=false, the default, stays out of the text: chains written before the option keep their fingerprints.
  return std::make_unique<DecodeOp>(
      str_cat("decode_jpeg(mode=", mode_name(mode), ", scale=", format_number(scale),
              fast == "true" ? ", fast=true" : "", ")"),
      decoded(mode), a.context(), DecodeOp::Format::jpeg, mode, denom, fast == "true");
}

std::unique_ptr<Op> make_decode_png(const OpArgs& a) {
  need_encoded_bytes(a);
  const ColorMode mode = color_mode(a);
  return std::make_unique<DecodeOp>(str_cat("decode_png(mode=", mode_name(mode), ")"), decoded(mode),
                                    a.context(), DecodeOp::Format::png, mode, 1);
}

}  // namespace

void add_decode_ops(OpRegistry& registry) {
  OpInfo jpeg{make_decode_jpeg, {"mode", "scale", "fast"}};
  jpeg.variable_input = true;
  registry.add("decode_jpeg", std::move(jpeg));
  OpInfo png{make_decode_png, {"mode"}};
  png.variable_input = true;
  registry.add("decode_png", std::move(png));
}

}  // namespace ferry::transform
