// libFuzzer target: the roles' control messages (roles/wire.hpp, roles/protocol.cpp). The first byte picks
// the message kind, the rest is the message. A malformed message may throw ferry::Error (what the role loop
// turns into an abort with a message); anything else escaping, a crash or UB is a finding. A message that
// decodes must encode to bytes that decode and encode to the same bytes again.
#include <cstdint>
#include <string>

#include "ferry/error.hpp"
#include "fuzz_input.hpp"
#include "roles/protocol.hpp"

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
    switch (in.mode() % 10) {
      case 0:
        round_trip<Descriptor>(in.rest(), "Descriptor");
        break;
      case 1:
        round_trip<Misses>(in.rest(), "Misses");
        break;
      case 2:
        round_trip<SamplesHeader>(in.rest(), "SamplesHeader");
        break;
      case 3:
        round_trip<InsertHeader>(in.rest(), "InsertHeader");
        break;
      case 4:
        round_trip<Stored>(in.rest(), "Stored");
        break;
      case 5:
        round_trip<Credit>(in.rest(), "Credit");
        break;
      case 6:
        round_trip<RoleChange>(in.rest(), "RoleChange");
        break;
      case 7:
        round_trip<EpochFigures>(in.rest(), "EpochFigures");
        break;
      case 8:
        round_trip<MissDone>(in.rest(), "MissDone");
        break;
      default:
        round_trip<Handover>(in.rest(), "Handover");
        break;
    }
  } catch (const ferry::Error&) {
  }
  return 0;
}
