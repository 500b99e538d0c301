#include "roles/failure.hpp"

#include <cstring>

#include "core/strings.hpp"

namespace ferry::roles {

ErrorKind kind_of(const std::exception& e) noexcept {
  if (const auto* remote = dynamic_cast<const RemoteFailure*>(&e)) return remote->kind();
  if (dynamic_cast<const DatasetError*>(&e)) return ErrorKind::dataset;
  if (dynamic_cast<const TransformError*>(&e)) return ErrorKind::transform;
  if (dynamic_cast<const TransportError*>(&e)) return ErrorKind::transport;
  if (dynamic_cast<const InternalError*>(&e)) return ErrorKind::internal;
  if (dynamic_cast<const Error*>(&e)) return ErrorKind::config;
  return ErrorKind::internal;  // an .at() out of range, a bad_alloc: a bug or no memory, not the input
}

ErrorKind kind_from(char letter) noexcept {
  switch (letter) {
    case 'C':
      return ErrorKind::config;
    case 'D':
      return ErrorKind::dataset;
    case 'T':
      return ErrorKind::transform;
    case 'I':
      return ErrorKind::internal;
    default:
      return ErrorKind::transport;
  }
}

void throw_kind(ErrorKind kind, const std::string& text) {
  switch (kind) {
    case ErrorKind::dataset:
      throw DatasetError(text, "", "");
    case ErrorKind::transform:
      throw TransformError(text);
    case ErrorKind::transport:
      throw TransportError(text, 0);
    case ErrorKind::internal:
      throw InternalError(text);
    case ErrorKind::config:
      break;
  }
  throw ConfigError(text);
}

std::vector<std::byte> encode_abort(ErrorKind kind, const std::string& text) {
  std::vector<std::byte> bytes(1 + text.size());
  bytes[0] = static_cast<std::byte>(kind);
  if (!text.empty()) std::memcpy(bytes.data() + 1, text.data(), text.size());
  return bytes;
}

RemoteFailure decode_abort(std::span<const std::byte> bytes) {
  if (bytes.empty()) return RemoteFailure("another rank failed (no message)");
  const ErrorKind kind = kind_from(static_cast<char>(bytes[0]));
  return RemoteFailure(std::string(reinterpret_cast<const char*>(bytes.data()) + 1, bytes.size() - 1), kind);
}

namespace {

// Follows the kind letter of a tagged set-up error.
constexpr char kKindMark = '\x1f';

}  // namespace

std::string tag_kind(const std::exception& e) {
  return std::string{static_cast<char>(kind_of(e)), kKindMark};
}

std::string tag_unexpected(const char* role, const char* what) {
  return std::string{static_cast<char>(ErrorKind::internal), kKindMark} + str_cat(role, " set-up: ", what);
}

[[noreturn]] void throw_tagged(const std::string& gathered) {
  std::string text;
  char kind = 0;
  bool mixed = false;
  for (std::size_t i = 0; i < gathered.size(); ++i) {
    if (i + 1 < gathered.size() && gathered[i + 1] == kKindMark) {
      mixed = mixed || (kind != 0 && kind != gathered[i]);
      kind = gathered[i];
      ++i;  // drop the tag and its mark
      continue;
    }
    text += gathered[i];
  }
  throw_kind(mixed || kind == 0 ? ErrorKind::config : kind_from(kind), text);
}

}  // namespace ferry::roles
