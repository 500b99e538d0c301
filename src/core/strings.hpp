// Small string helpers shared by every layer.
#pragma once

#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace ferry {

template <typename... Args>
std::string str_cat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}

// "[a, b, c]" for any range of streamable values.
template <typename Range>
std::string join(const Range& values, std::string_view sep = ", ") {
  std::ostringstream out;
  bool first = true;
  for (const auto& v : values) {
    if (!first) out << sep;
    out << v;
    first = false;
  }
  return out.str();
}

std::vector<std::string> split(std::string_view text, char sep);
std::string_view trim(std::string_view text);

// Human-readable byte count: "1.5 MiB".
std::string format_bytes(double bytes);

}  // namespace ferry
