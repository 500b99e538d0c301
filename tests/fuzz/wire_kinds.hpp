// The message kinds of fuzz_wire: its first input byte picks one as `mode % kWireKinds` (a kind is added at
// the end, so the committed seeds, whose mode bytes are below the old count, keep their meaning). The fuzz
// target and the seed test (tests/protocol/test_fuzz_seeds.cpp) both dispatch through this, so a seed's mode
// byte means the same message in both.
#pragma once

#include <cstdint>

#include "roles/protocol.hpp"
#include "roles/shaped_sample.hpp"

namespace ferry::fuzz {

inline constexpr unsigned kWireKinds = 12;

// Calls visit.template operator()<Message>(name) for the message kind `mode` picks.
template <typename Visit>
void visit_wire_kind(std::uint8_t mode, Visit&& visit) {
  using namespace ferry::roles;
  switch (mode % kWireKinds) {
    case 0:
      return visit.template operator()<Descriptor>("Descriptor");
    case 1:
      return visit.template operator()<Misses>("Misses");
    case 2:
      return visit.template operator()<SamplesHeader>("SamplesHeader");
    case 3:
      return visit.template operator()<InsertHeader>("InsertHeader");
    case 4:
      return visit.template operator()<Stored>("Stored");
    case 5:
      return visit.template operator()<Credit>("Credit");
    case 6:
      return visit.template operator()<RoleChange>("RoleChange");
    case 7:
      return visit.template operator()<EpochFigures>("EpochFigures");
    case 8:
      return visit.template operator()<MissDone>("MissDone");
    case 9:
      return visit.template operator()<Handover>("Handover");
    case 10:
      return visit.template operator()<PoolSlot>("PoolSlot");
    default:
      return visit.template operator()<ShapedSample>("ShapedSample");
  }
}

}  // namespace ferry::fuzz
