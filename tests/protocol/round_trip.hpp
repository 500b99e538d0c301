// The protocol tests' round trip: a message encoded and decoded back, with nothing left over.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>

#include "roles/protocol.hpp"

namespace ferry::roles {

template <typename Message>
Message round_trip(const Message& m, std::size_t* size = nullptr) {
  Writer w;
  encode(w, m);
  if (size) *size = w.size();
  Reader r(w.view());
  Message back;
  decode(r, back);
  EXPECT_TRUE(r.done());
  return back;
}

}  // namespace ferry::roles
