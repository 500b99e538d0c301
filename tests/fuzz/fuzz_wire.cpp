// libFuzzer target: the roles' control messages (roles/wire.hpp, roles/protocol.cpp). The first byte picks
// the message kind, the rest is the message. A malformed message may throw ferry::Error (what the role loop
// turns into an abort with a message); anything else escaping, a crash or UB is a finding. A message that
// decodes must encode to bytes that decode and encode to the same bytes again.
#include <cstdint>
#include <string>

#include "ferry/error.hpp"
#include "fuzz_input.hpp"
#include "roles/protocol.hpp"
#include "wire_kinds.hpp"

namespace {

using namespace ferry::roles;

template <typename Message>
void round_trip(std::span<const std::byte> bytes, const char* kind) {
  Message first;
  Reader r(bytes);
  decode(r, first);
  Writer once;
  encode(once, first);
  Message second;
  Reader again(once.view());
  decode(again, second);
  if (!again.done()) ferry::fuzz::broken(kind, "re-encoded message has trailing bytes");
  Writer twice;
  encode(twice, second);
  if (!std::ranges::equal(once.view(), twice.view())) ferry::fuzz::broken(kind, "encoding is not stable");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ferry::fuzz::Input in(data, size);
  try {
    ferry::fuzz::visit_wire_kind(
        in.mode(), [&]<typename Message>(const char* kind) { round_trip<Message>(in.rest(), kind); });
  } catch (const ferry::Error&) {
  }
  return 0;
}
