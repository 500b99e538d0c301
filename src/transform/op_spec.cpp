// OpSpec text form and the op-chain parser. Grammar (whitespace allowed between tokens):
//   chain := [ op { '|' op } ]        op := name [ '(' [ param { ',' param } ] ')' ]
//   param := name '=' value           value := scalar | '[' [ scalar { ',' scalar } ] ']'
//   name := [A-Za-z_][A-Za-z0-9_]*    scalar := characters other than ",()[]|=" and whitespace
#include <cctype>

#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "ferry/transform.hpp"

namespace ferry {

std::string OpSpec::text() const {
  if (params.empty()) return name;
  std::string out = name + "(";
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (i) out += ", ";
    out += str_cat(params[i].first, "=", params[i].second);
  }
  return out + ")";
}

namespace {

class Parser {
 public:
  Parser(const std::string& text, const std::string& where) : text_(text), where_(where) {}

  std::vector<OpSpec> chain() {
    std::vector<OpSpec> ops;
    skip_space();
    if (done()) return ops;  // an empty chain: the field passes through unchanged
    while (true) {
      ops.push_back(op());
      skip_space();
      if (done()) return ops;
      expect('|', "'|' between ops");
    }
  }

 private:
  OpSpec op() {
    OpSpec spec;
    spec.name = name("an op name");
    skip_space();
    if (peek() != '(') return spec;
    ++pos_;
    skip_space();
    if (peek() == ')') {
      ++pos_;
      return spec;
    }
    while (true) {
      std::string key = name("a parameter name");
      for (const auto& [k, v] : spec.params) {
        if (k == key) fail(str_cat("parameter '", key, "' given twice"));
      }
      skip_space();
      expect('=', str_cat("'=' after parameter '", key, "'"));
      spec.params.emplace_back(std::move(key), value());
      skip_space();
      if (peek() == ')') {
        ++pos_;
        return spec;
      }
      expect(',', "',' or ')' after a parameter");
    }
  }

  std::string value() {
    skip_space();
    if (peek() != '[') return scalar();
    ++pos_;
    std::vector<std::string> items;
    skip_space();
    if (peek() != ']') {
      while (true) {
        items.push_back(scalar());
        skip_space();
        if (peek() == ']') break;
        expect(',', "',' or ']' in a list");
      }
    }
    ++pos_;
    return str_cat("[", join(items), "]");  // canonical spacing, so OpSpec::text() is stable
  }

  std::string scalar() {
    skip_space();
    const std::size_t start = pos_;
    while (!done() && !std::isspace(static_cast<unsigned char>(peek())) && !is_special(peek())) ++pos_;
    if (pos_ == start) fail("expected a value");
    return text_.substr(start, pos_ - start);
  }

  std::string name(const char* what) {
    skip_space();
    const std::size_t start = pos_;
    if (!done() && (std::isalpha(static_cast<unsigned char>(peek())) || peek() == '_')) {
      while (!done() && (std::isalnum(static_cast<unsigned char>(peek())) || peek() == '_')) ++pos_;
    }
    if (pos_ == start) fail(str_cat("expected ", what));
    return text_.substr(start, pos_ - start);
  }

  void expect(char c, const std::string& what) {
    skip_space();
    if (peek() != c) fail(str_cat("expected ", what));
    ++pos_;
  }

  [[noreturn]] void fail(const std::string& why) const {
    const std::string rest = done() ? std::string("end of text") : str_cat("'", text_.substr(pos_), "'");
    throw ConfigError(str_cat(where_, ": bad op chain '", text_, "': ", why, " at ", rest));
  }

  static bool is_special(char c) { return std::string_view(",()[]|=").find(c) != std::string_view::npos; }
  void skip_space() {
    while (!done() && std::isspace(static_cast<unsigned char>(peek()))) ++pos_;
  }
  bool done() const { return pos_ >= text_.size(); }
  char peek() const { return done() ? '\0' : text_[pos_]; }

  const std::string& text_;
  const std::string& where_;
  std::size_t pos_ = 0;
};

}  // namespace

std::vector<OpSpec> parse_op_chain(const std::string& text, const std::string& where) {
  return Parser(text, where).chain();
}

}  // namespace ferry
