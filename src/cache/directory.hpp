// The cache metadata of every cache server, owned by the one randomizer rank: which key is where (the
// directory), the offsets inside each server's slab (one SlabAllocator per server), and the eviction order.
// Cache servers are memory that copies an insert to the offset it is told and acks; consumers read hits
// with one-sided gets at a Location. Because all metadata lives here, consistency is a matter of the
// invariants this class keeps (docs/cache.md):
//   - per server, reserved ranges never overlap, stay inside the slab, and sum to at most its capacity;
//   - a pinned entry (a consumer was told to read it and has not reported the batch done) is never evicted
//     or moved, so a consumer never reads a slot that was reused;
//   - a pending entry (admitted, insert in flight) is never evicted and never reported as a hit.
// An entry is absent, pending (admit .. mark_stored) or stored; only stored entries are found and pinned.
// Not thread-safe: the randomizer's progress loop is its only caller.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "cache/farthest_heap.hpp"
#include "cache/intrusive_list.hpp"
#include "cache/key.hpp"
#include "cache/policy.hpp"
#include "cache/slab_allocator.hpp"

namespace ferry::cache {

class Directory {
 public:
  struct Stats {
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;  // find calls that found no stored entry (absent or pending)
    std::uint64_t admitted = 0;
    std::uint64_t declined = 0;  // for want of room
    std::uint64_t unneeded = 0;  // clairvoyant: not admitted because nobody needs the key again
    std::uint64_t evictions = 0;
    std::uint64_t entries = 0;        // stored entries now
    std::uint64_t pending = 0;        // pending entries now
    std::uint64_t pending_bytes = 0;  // their bytes (Location::bytes): the inserts in flight
    std::uint64_t dropped = 0;        // entries lost with drop_server
  };

  // `oracle` must outlive the directory and is required for Policy::clairvoyant (ignored otherwise).
  // Throws ConfigError for no servers or a slab smaller than one aligned entry. `serving`: which servers
  // take entries from the start (empty: all); the others are slabs held in reserve for role rebalancing.
  Directory(std::uint32_t servers, std::uint64_t bytes_per_server, Policy policy,
            const NextUse* oracle = nullptr, std::vector<bool> serving = {});
  // Entries are linked to each other through their addresses: no copies.
  Directory(const Directory&) = delete;
  Directory& operator=(const Directory&) = delete;

  Policy policy() const noexcept { return policy_; }
  std::uint32_t servers() const noexcept { return static_cast<std::uint32_t>(servers_.size()); }
  std::uint64_t capacity() const noexcept { return bytes_per_server_; }  // per server
  std::uint64_t used_bytes(std::uint32_t server) const;  // reserved bytes, pending entries included
  const Stats& stats() const noexcept { return stats_; }

  // The server that takes `key` when it is admitted: a stable hash of the key over the serving servers.
  // Entries stay where they were admitted when the set of serving servers changes.
  std::uint32_t server_of(const Key& key) const noexcept;
  bool serving(std::uint32_t server) const;
  std::uint32_t serving_count() const noexcept { return static_cast<std::uint32_t>(serving_.size()); }
  // A reserve server starts taking entries (empty slab). Throws InternalError when it serves already.
  void start_serving(std::uint32_t server);
  // A serving server stops: its entries are dropped (counted in stats().dropped; pins die with them) and
  // admission no longer picks it. Returns the number dropped. The last serving server cannot stop.
  std::uint64_t stop_serving(std::uint32_t server);

  // A stored entry's location; counts a hit and marks the entry used (LRU recency, clairvoyant next use).
  // nullopt for absent and pending keys, counted as a miss. `and_pin`: pins it too, as pin() would, in the
  // same lookup (the describe path's hits).
  std::optional<Location> find(const Key& key, bool and_pin = false);
  bool is_pending(const Key& key) const noexcept;
  bool contains(const Key& key) const noexcept;  // pending or stored

  // Reserves room for the absent `key`: free room on server_of(key), else free room on any other serving
  // server, else room on server_of(key) made by evicting unpinned stored entries as the policy allows
  // (static: never; lru: least recently used first; clairvoyant: farthest next use first, and only entries
  // needed later than `key`). Returns the location, now pending, or nullopt when declined; evicted
  // keys are appended to *evicted. Throws ConfigError when `bytes` can never fit one server.
  std::optional<Location> admit(const Key& key, std::uint64_t bytes, std::vector<Key>* evicted = nullptr);
  // Any server, for mark_stored and unpin below.
  static constexpr std::uint32_t kAnyServer = ~std::uint32_t{0};
  // pending -> stored, after the server acked the insert. false when `key` is not pending (dropped), or is
  // pending on another server than `server` (a stale ack: dropped with its server, then admitted elsewhere).
  bool mark_stored(const Key& key, std::uint32_t server = kAnyServer);
  // pending -> absent, releasing its range (the insert failed). false when `key` is not pending, or is
  // pending on another server than `server` (a stale give-back, as for mark_stored).
  bool abort_pending(const Key& key, std::uint32_t server = kAnyServer);

  // Outstanding consumer reads of a stored entry; counts nest. pin of a key that is not stored is a bug.
  void pin(const Key& key);
  // false when `key` is not stored (its server was dropped meanwhile) or is stored on another server than
  // `server` (dropped, then admitted again elsewhere: that entry's pins are not this one); unpin below zero
  // is a bug.
  bool unpin(const Key& key, std::uint32_t server = kAnyServer);

  // Forgets every entry of `server`, pinned and pending ones too (its rank left the role, its memory is
  // gone): returns how many. Outstanding pins of those entries die with them: unpin answers false.
  std::uint64_t drop_server(std::uint32_t server);

  // A randomizer's handover (docs/heterogeneous.md, "Moving a randomizer"): every stored entry, server by
  // server, in the order the policy would evict them (lru: least recently used first, the pinned ones
  // last; otherwise by offset). Pins are not part of it (the batches that hold them are handed over).
  // Only when nothing is pending (the randomizer waited for its inserts first): InternalError else.
  std::vector<std::pair<Key, Location>> stored_entries() const;
  // Puts back a stored entry at the location it has in the slab (the handing-over directory's): no bytes
  // move. false, and nothing changes, when its server does not serve here, the key is known already or the
  // range is not free. Entries restored in stored_entries() order keep their eviction order.
  bool restore(const Key& key, const Location& location);

  // Checks every internal invariant in O(entries log entries); throws InternalError on the first broken one.
  void audit() const;

 private:
  struct Entry {
    Key key;
    Location location;
    std::uint32_t pins = 0;
    bool stored = false;
    bool queued = false;       // clairvoyant: in its server's refresh list
    std::uint64_t ticket = 0;  // clairvoyant: ticket of its live heap record, 0 for none
    Entry* prev = nullptr;     // lru: links in its server's evictable list
    Entry* next = nullptr;
  };

  struct Server {
    explicit Server(std::uint64_t capacity) : slab(capacity) {}
    SlabAllocator slab;
    // lru: the stored, unpinned entries, least recently used first; exactly the eviction candidates.
    IntrusiveList<Entry> evictable;
    // clairvoyant: candidate records, and the entries whose next use must be re-read before the next
    // eviction (used, stored or unpinned since their last record).
    FarthestHeap farthest;
    std::vector<Key> refresh;
    std::uint64_t stored = 0;
  };

  bool evictable(const Entry& entry) const noexcept { return entry.stored && entry.pins == 0; }
  // The entry of `key` when it is pending on `server` (kAnyServer: on any), else nullptr.
  Entry* pending_entry(const Key& key, std::uint32_t server) noexcept {
    Entry* entry = lookup(key);
    const bool elsewhere = entry != nullptr && server != kAnyServer && entry->location.server != server;
    return entry == nullptr || entry->stored || elsewhere ? nullptr : entry;
  }
  // A stored, unpinned entry was used or just became an eviction candidate: file it in the policy's order.
  // `listed`: it is in the LRU list already (it was a candidate before).
  void note_candidate(Entry& entry, bool listed);
  void pin_entry(Entry& entry);
  Entry* lookup(const Key& key) noexcept;
  const Entry* lookup(const Key& key) const noexcept;

  // admission.cpp
  // Evict as the policy allows until `bytes` fit; the offset, or nullopt when the policy cannot free room.
  std::optional<std::uint64_t> make_room_lru(Server& server, std::uint64_t bytes, std::vector<Key>* evicted);
  std::optional<std::uint64_t> make_room_clairvoyant(Server& server, std::uint64_t bytes,
                                                     std::uint64_t next_use, std::vector<Key>* evicted);
  void refresh_candidates(Server& server);
  // The live record with the farthest next use, re-read from the oracle; nullptr when there is none.
  Entry* farthest_candidate(Server& server);
  void evict(Entry& entry, std::vector<Key>* evicted);

  Policy policy_;
  const NextUse* oracle_;
  std::uint64_t bytes_per_server_;
  std::vector<Server> servers_;
  std::vector<std::uint32_t> serving_;               // ascending indices of the serving servers
  std::unordered_map<Key, Entry, KeyHash> entries_;  // node-based: Entry addresses are stable
  std::uint64_t next_ticket_ = 1;
  std::vector<Candidate> scratch_;  // clairvoyant victims under consideration; reused across admissions
  Stats stats_;
};

}  // namespace ferry::cache
