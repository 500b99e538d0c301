// Admission and eviction: the three policies of docs/cache.md. Every path evicts only stored, unpinned
// entries (evict() enforces it), and evicts nothing unless the candidates it may take cover the shortfall,
// so a declined admission does not empty a server first.
#include <algorithm>
#include <utility>

#include "cache/directory.hpp"
#include "core/check.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"

namespace ferry::cache {

std::optional<Location> Directory::admit(const Key& key, std::uint64_t bytes, std::vector<Key>* evicted) {
  std::uint32_t s = server_of(key);
  Server& server = servers_[s];
  if (bytes > server.slab.usable()) {
    throw ConfigError(str_cat(
        "a cache entry of ", bytes, " bytes does not fit a cache server of ", bytes_per_server_, " bytes",
        bytes <= bytes_per_server_ ? " once aligned to 64 bytes" : "", " (raise runtime.cache_bytes)"));
  }
  FERRY_ENFORCE(!contains(key), "admit of cache key (", key.group, ", ", key.id, ") that is already ",
                is_pending(key) ? "pending" : "stored");

  // Free room first: the key's own server, else any serving server with room (so every slab fills, one
  // that joined later included, before anything is evicted or declined); then the policy's eviction on the
  // key's own server (static fill evicts nothing).
  const auto free_room = [&]() -> std::optional<std::uint64_t> {
    if (auto at = server.slab.allocate(bytes)) return at;
    const auto home = std::find(serving_.begin(), serving_.end(), s) - serving_.begin();
    for (std::size_t i = 1; i < serving_.size(); ++i) {
      const std::uint32_t other = serving_[(static_cast<std::size_t>(home) + i) % serving_.size()];
      if (auto at = servers_[other].slab.allocate(bytes)) {
        s = other;
        return at;
      }
    }
    return std::nullopt;
  };
  std::optional<std::uint64_t> offset;
  if (policy_ == Policy::clairvoyant) {
    // A key nobody needs again is not worth an insert, even into free space.
    const std::uint64_t next_use = oracle_->next_use(key);
    if (next_use == kNever) {
      ++stats_.unneeded;  // not declined for want of room
      return std::nullopt;
    }
    offset = free_room();
    if (!offset) offset = make_room_clairvoyant(server, bytes, next_use, evicted);
  } else {
    offset = free_room();
    if (!offset && policy_ == Policy::lru) offset = make_room_lru(server, bytes, evicted);
  }
  if (!offset) {
    ++stats_.declined;
    return std::nullopt;
  }
  const Location location{s, *offset, bytes};
  entries_.emplace(key, Entry{.key = key, .location = location});
  ++stats_.admitted;
  ++stats_.pending;
  stats_.pending_bytes += bytes;
  return location;
}

std::optional<std::uint64_t> Directory::make_room_lru(Server& server, std::uint64_t bytes,
                                                      std::vector<Key>* evicted) {
  const std::uint64_t need = SlabAllocator::reserved_size(bytes);
  std::uint64_t reclaimable = server.slab.free_bytes();
  std::size_t victims = 0;
  for (const Entry* e = server.evictable.front(); e != nullptr && reclaimable < need; e = e->next) {
    reclaimable += SlabAllocator::reserved_size(e->location.bytes);
    ++victims;
  }
  if (reclaimable < need) return std::nullopt;  // pinned and pending entries hold the rest
  for (; victims > 0; --victims) evict(*server.evictable.front(), evicted);
  // Enough bytes are free now, but maybe not in one piece: keep going in LRU order.
  for (;;) {
    if (auto offset = server.slab.allocate(bytes)) return offset;
    if (server.evictable.empty()) return std::nullopt;
    evict(*server.evictable.front(), evicted);
  }
}

std::optional<std::uint64_t> Directory::make_room_clairvoyant(Server& server, std::uint64_t bytes,
                                                              std::uint64_t next_use,
                                                              std::vector<Key>* evicted) {
  refresh_candidates(server);
  const std::uint64_t need = SlabAllocator::reserved_size(bytes);
  std::uint64_t reclaimable = server.slab.free_bytes();
  // Belady with bypass: only entries needed later than the new key may make room for it.
  scratch_.clear();
  while (reclaimable < need) {
    const Entry* victim = farthest_candidate(server);
    if (victim == nullptr || server.farthest.top().next_use <= next_use) break;
    reclaimable += SlabAllocator::reserved_size(victim->location.bytes);
    scratch_.push_back(server.farthest.pop());
  }
  if (reclaimable < need) {
    for (const Candidate& record : scratch_) server.farthest.push(record);  // still live: tickets unchanged
    return std::nullopt;
  }
  for (const Candidate& record : scratch_) evict(*lookup(record.key), evicted);
  for (;;) {
    if (auto offset = server.slab.allocate(bytes)) return offset;
    Entry* victim = farthest_candidate(server);
    if (victim == nullptr || server.farthest.top().next_use <= next_use) return std::nullopt;
    server.farthest.pop();
    evict(*victim, evicted);
  }
}

void Directory::refresh_candidates(Server& server) {
  for (const Key& key : server.refresh) {
    Entry* entry = lookup(key);
    // Gone, or a re-admitted entry of the same key that is queued again further on.
    if (entry == nullptr || !entry->queued) continue;
    entry->queued = false;
    if (!evictable(*entry)) continue;  // pinned again; its last unpin queues it anew
    entry->ticket = next_ticket_++;
    server.farthest.push({oracle_->next_use(key), key, entry->ticket});
  }
  server.refresh.clear();
  // Dead records (superseded, pinned, evicted) may pile up; drop them once they outnumber the live ones.
  if (server.farthest.size() > 2 * server.stored + 64) {
    server.farthest.compact([this](const Candidate& record) {
      const Entry* entry = lookup(record.key);
      return entry != nullptr && evictable(*entry) && entry->ticket == record.ticket;
    });
  }
}

Directory::Entry* Directory::farthest_candidate(Server& server) {
  while (!server.farthest.empty()) {
    const Candidate& top = server.farthest.top();
    Entry* entry = lookup(top.key);
    if (entry == nullptr || !evictable(*entry) || entry->ticket != top.ticket) {
      server.farthest.pop();
      continue;
    }
    // Every other live record is exact or later than the truth (a use re-files an entry; only a farther
    // horizon can bring a next use closer), so a top whose next use still holds is the farthest one.
    const std::uint64_t now = oracle_->next_use(top.key);
    if (now == top.next_use) return entry;
    const Candidate fresh{now, top.key, next_ticket_++};
    entry->ticket = fresh.ticket;
    server.farthest.pop();
    server.farthest.push(fresh);
  }
  return nullptr;
}

void Directory::evict(Entry& entry, std::vector<Key>* evicted) {
  FERRY_ENFORCE(evictable(entry), "eviction of cache key (", entry.key.group, ", ", entry.key.id,
                entry.stored ? ") that is pinned" : ") that is pending");
  Server& server = servers_[entry.location.server];
  server.slab.release(entry.location.offset, entry.location.bytes);
  if (policy_ == Policy::lru) server.evictable.remove(&entry);
  --server.stored;
  --stats_.entries;
  ++stats_.evictions;
  if (evicted != nullptr) evicted->push_back(entry.key);
  const Key key = entry.key;  // erase destroys `entry`
  entries_.erase(key);
}

void Directory::note_candidate(Entry& entry, bool listed) {
  Server& server = servers_[entry.location.server];
  if (policy_ == Policy::lru) {
    if (listed) {
      server.evictable.move_to_back(&entry);
    } else {
      server.evictable.push_back(&entry);
    }
  } else if (policy_ == Policy::clairvoyant && !entry.queued) {
    // The oracle is asked at the next eviction on this server, not now: the use being handled may not have
    // moved the oracle's clock yet, and most entries are used several times between two evictions.
    entry.queued = true;
    server.refresh.push_back(entry.key);
  }
}

}  // namespace ferry::cache
