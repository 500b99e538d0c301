// How a failure travels between ranks with its kind, so that every rank reports another rank's failure as
// the class the failing rank threw: the C API's status and Python's exception class are the same on every
// rank (docs/errors.md). Used by the set-up's gathered errors and by the kAbort broadcast.
#pragma once

#include <cstddef>
#include <exception>
#include <span>
#include <string>
#include <vector>

#include "ferry/error.hpp"

namespace ferry::roles {

// One letter per ferry::Error class that crosses ranks.
enum class ErrorKind : char {
  config = 'C',
  dataset = 'D',
  transform = 'T',
  transport = 'N',
  internal = 'I',
};

// Thrown on a rank that learns from a kAbort message that another rank failed; its text names that rank and
// kind() says which class that rank threw (transport when unknown: a rank that left the job).
class RemoteFailure : public Error {
 public:
  explicit RemoteFailure(const std::string& message, ErrorKind kind = ErrorKind::transport)
      : Error(message), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

// The kind of `e`: its ferry::Error class (a plain ferry::Error counts as config, a RemoteFailure as the
// kind it carries); any other exception is internal.
ErrorKind kind_of(const std::exception& e) noexcept;
// A letter read off the wire; transport for one that names no kind.
ErrorKind kind_from(char letter) noexcept;
// Throws the ferry::Error class of `kind` with `text`.
[[noreturn]] void throw_kind(ErrorKind kind, const std::string& text);

// kAbort payload: the kind's letter, then the text.
std::vector<std::byte> encode_abort(ErrorKind kind, const std::string& text);
RemoteFailure decode_abort(std::span<const std::byte> bytes);

// Set-up errors travel between ranks as text (core/collective_errors.hpp); a tag (the kind's letter and a
// mark) before each keeps its kind, so every rank throws the type the failing rank threw (when all failures
// agree; ConfigError otherwise).
std::string tag_kind(const std::exception& e);
// Any other exception out of Ferry's own code (an .at() out of range, a std::bad_alloc) is reported as an
// InternalError that names the rank's role (`role`, as role_name gives it); the gathered text names the rank.
std::string tag_unexpected(const char* role, const char* what);
// Throws the gathered text of every failing rank, tags dropped, as the kind they agree on.
[[noreturn]] void throw_tagged(const std::string& gathered);

}  // namespace ferry::roles
