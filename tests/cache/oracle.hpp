// A next-use oracle the tests set by hand (next use per key, kNever for keys never set), and the keys the
// directory tests use.
#pragma once

#include <unordered_map>

#include "cache/policy.hpp"

namespace ferry::cache::testing {

// The key of data ID `id` in cache 42.
inline Key key(std::uint64_t id) {
  return Key{42, id};
}

class TableOracle : public NextUse {
 public:
  void set(const Key& key, std::uint64_t when) { table_[key] = when; }
  std::uint64_t next_use(const Key& key) const override {
    auto it = table_.find(key);
    return it == table_.end() ? kNever : it->second;
  }

 private:
  std::unordered_map<Key, std::uint64_t, KeyHash> table_;
};

}  // namespace ferry::cache::testing
