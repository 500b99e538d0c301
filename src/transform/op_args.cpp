#include <charconv>
#include <cmath>

#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "transform/op.hpp"

namespace ferry::transform {

namespace {

bool parse_double(std::string_view text, double& out) {
  text = trim(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty() && std::isfinite(out);
}

}  // namespace

OpArgs::OpArgs(const OpSpec& spec, const TensorDesc& input, std::string_view field)
    : spec_(spec), input_(input), field_(field) {}

std::string OpArgs::context() const {
  return str_cat("field '", field_, "': op ", spec_.name);
}

const std::string* OpArgs::find(std::string_view key) const {
  for (const auto& [k, v] : spec_.params) {
    if (k == key) return &v;
  }
  return nullptr;
}

void OpArgs::bad_param(std::string_view key, const std::string& why) const {
  throw ConfigError(str_cat(context(), ": parameter '", key, "' ", why));
}

void OpArgs::fail(const std::string& why) const {
  throw TransformError(str_cat(context(), ": ", why));
}

double OpArgs::number(std::string_view key, std::optional<double> fallback) const {
  const std::string* text = find(key);
  if (!text) {
    if (!fallback) bad_param(key, "is missing");
    return *fallback;
  }
  double value = 0;
  if (!parse_double(*text, value)) bad_param(key, str_cat("must be a number, got '", *text, "'"));
  return value;
}

std::size_t OpArgs::count(std::string_view key, std::optional<std::size_t> fallback, std::size_t min) const {
  const std::string* text = find(key);
  if (!text) {
    if (!fallback) bad_param(key, "is missing");
    return *fallback;
  }
  const std::string_view t = trim(*text);
  unsigned long long value = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (ec != std::errc() || end != t.data() + t.size() || t.empty() || value < min || value > kMaxCount) {
    bad_param(key, str_cat("must be a whole number from ", min, " to ", kMaxCount, ", got '", *text, "'"));
  }
  return static_cast<std::size_t>(value);
}

std::vector<double> OpArgs::numbers(std::string_view key) const {
  const std::string* text = find(key);
  if (!text) bad_param(key, "is missing");
  std::string_view body = trim(*text);
  if (!body.empty() && body.front() == '[') {
    if (body.back() != ']') bad_param(key, str_cat("must be a list like [0.5, 0.25], got '", *text, "'"));
    body = body.substr(1, body.size() - 2);
  }
  std::vector<double> values;
  if (trim(body).empty()) bad_param(key, "must have at least one value");
  for (const std::string& item : split(body, ',')) {
    double v = 0;
    if (!parse_double(item, v)) bad_param(key, str_cat("must be a list of numbers, got '", *text, "'"));
    values.push_back(v);
  }
  return values;
}

std::string OpArgs::word(std::string_view key, std::string_view fallback) const {
  const std::string* text = find(key);
  return text ? std::string(trim(*text)) : std::string(fallback);
}

std::pair<std::size_t, std::size_t> OpArgs::window() const {
  if (!has("size")) return {count("height"), count("width")};
  if (has("height") || has("width")) bad_param("size", "goes without height and width");
  const std::size_t size = count("size");
  return {size, size};
}

void OpArgs::need_u8_or_f32() const {
  if (input_.dtype == DType::u8 || input_.dtype == DType::f32) return;
  fail(str_cat("needs u8 or f32 input, got ", dtype_name(input_.dtype), ": put cast first"));
}

void OpArgs::need_f32() const {
  if (input_.dtype == DType::f32) return;
  throw TransformError(str_cat("op ", spec_.name, " needs f32 input, field '", field_, "' is ",
                               dtype_name(input_.dtype), ": put cast first"));
}

void OpArgs::need_image() const {
  if (input_.image()) return;
  fail(str_cat("needs an image ([H, W], [H, W, C] or CHW after hwc_to_chw), got shape ", input_.shape_str(),
               ": only elementwise ops apply to this field"));
}

void OpArgs::need_layout(ImageLayout layout) const {
  need_image();
  if (input_.layout == layout) return;
  fail(str_cat("needs ", layout_name(layout), " input, got ", input_.str()));
}

std::string format_number(double value) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  return ec == std::errc() ? std::string(buf, end) : std::string("nan");
}

std::string format_numbers(const std::vector<double>& values) {
  std::vector<std::string> parts;
  for (double v : values) parts.push_back(format_number(v));
  return str_cat("[", join(parts), "]");
}

}  // namespace ferry::transform
