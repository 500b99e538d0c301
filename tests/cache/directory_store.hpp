// Stores an entry in a directory the way the cache does (admit, then ack), for the directory tests.
#pragma once

#include <gtest/gtest.h>

#include <vector>

#include "cache/directory.hpp"
#include "oracle.hpp"

namespace ferry::cache::testing {

// Admits and acks `id` as a 64-byte entry; fails the test when declined.
inline Location store(Directory& dir, std::uint64_t id, std::vector<Key>* evicted = nullptr) {
  auto location = dir.admit(key(id), 64, evicted);
  EXPECT_TRUE(location.has_value()) << "key " << id << " declined";
  EXPECT_TRUE(dir.mark_stored(key(id)));
  return location.value_or(Location{});
}

}  // namespace ferry::cache::testing
