// The clairvoyant policy's eviction order: a max-heap of (next use, key) records, farthest next use on top.
//
// Records are never updated in place. When an entry's next use changes (it was used) or it stops being a
// candidate (pinned, evicted), the directory simply pushes a fresh record with a new ticket or none at all;
// a record whose ticket no longer matches its entry is dead and is skipped when it reaches the top. compact()
// drops the dead ones when they outnumber the live ones, so the heap stays O(entries) and every push and pop
// is O(log entries) amortized.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "cache/key.hpp"

namespace ferry::cache {

struct Candidate {
  std::uint64_t next_use = 0;
  Key key;
  std::uint64_t ticket = 0;  // matches the entry's ticket while this record is the entry's live one
};

class FarthestHeap {
 public:
  bool empty() const noexcept { return records_.empty(); }
  std::size_t size() const noexcept { return records_.size(); }
  const Candidate& top() const noexcept { return records_.front(); }

  void push(const Candidate& record) {
    records_.push_back(record);
    std::push_heap(records_.begin(), records_.end(), sooner);
  }

  Candidate pop() {
    std::pop_heap(records_.begin(), records_.end(), sooner);
    Candidate record = records_.back();
    records_.pop_back();
    return record;
  }

  // Keeps the records for which is_live(record) holds; O(size).
  template <typename IsLive>
  void compact(IsLive&& is_live) {
    std::erase_if(records_, [&](const Candidate& record) { return !is_live(record); });
    std::make_heap(records_.begin(), records_.end(), sooner);
  }

  void clear() noexcept { records_.clear(); }

 private:
  // Heap order: the record needed soonest sinks, so the farthest next use is on top.
  static bool sooner(const Candidate& a, const Candidate& b) noexcept { return a.next_use < b.next_use; }

  std::vector<Candidate> records_;
};

}  // namespace ferry::cache
