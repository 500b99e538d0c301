// Lookups, one entry's state changes, dropping a server, the audit (admission, eviction: admission.cpp).
#include "cache/directory.hpp"

#include <algorithm>
#include <tuple>
#include <utility>

#include "core/check.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"

namespace ferry::cache {

Directory::Directory(std::uint32_t servers, std::uint64_t bytes_per_server, Policy policy,
                     const NextUse* oracle, std::vector<bool> serving)
    : policy_(policy), oracle_(oracle), bytes_per_server_(bytes_per_server) {
  if (servers == 0) throw ConfigError("a cache needs at least one cache server (runtime.cache_servers)");
  if (bytes_per_server < SlabAllocator::kAlignment) {
    throw ConfigError(str_cat("a cache server of ", bytes_per_server, " bytes cannot hold one ",
                              SlabAllocator::kAlignment, "-byte aligned entry (raise runtime.cache_bytes)"));
  }
  FERRY_ENFORCE(policy != Policy::clairvoyant || oracle != nullptr,
                "the clairvoyant cache policy needs a next-use oracle");
  servers_.reserve(servers);
  for (std::uint32_t s = 0; s < servers; ++s) servers_.emplace_back(bytes_per_server);
  FERRY_ENFORCE(serving.empty() || serving.size() == servers, "serving flags for ", serving.size(), " of ",
                servers, " servers");
  for (std::uint32_t s = 0; s < servers; ++s)
    if (serving.empty() || serving[s]) serving_.push_back(s);
  if (serving_.empty()) throw ConfigError("a cache needs at least one serving cache server");
}

bool Directory::serving(std::uint32_t server) const {
  FERRY_ENFORCE(server < servers_.size(), "cache server ", server, " of ", servers_.size());
  return std::binary_search(serving_.begin(), serving_.end(), server);
}

void Directory::start_serving(std::uint32_t server) {
  FERRY_ENFORCE(!serving(server), "cache server ", server, " serves already");
  Server& s = servers_[server];
  FERRY_ENFORCE(s.stored == 0 && s.slab.used() == 0, "cache server ", server, " starts with entries");
  serving_.insert(std::upper_bound(serving_.begin(), serving_.end(), server), server);
}

std::uint64_t Directory::stop_serving(std::uint32_t server) {
  FERRY_ENFORCE(serving(server), "cache server ", server, " does not serve");
  FERRY_ENFORCE(serving_.size() > 1, "the last serving cache server cannot stop");
  serving_.erase(std::lower_bound(serving_.begin(), serving_.end(), server));
  return drop_server(server);
}

std::uint64_t Directory::used_bytes(std::uint32_t server) const {
  FERRY_ENFORCE(server < servers_.size(), "cache server ", server, " of ", servers_.size());
  return servers_[server].slab.used();
}

std::uint32_t Directory::server_of(const Key& key) const noexcept {
  // Multiply-shift maps the 64-bit hash onto [0, servers) without the bias or the division of a modulo.
  const unsigned __int128 wide = static_cast<unsigned __int128>(mix64(KeyHash{}(key))) * serving_.size();
  return serving_[static_cast<std::size_t>(wide >> 64)];
}

Directory::Entry* Directory::lookup(const Key& key) noexcept {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

const Directory::Entry* Directory::lookup(const Key& key) const noexcept {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

std::optional<Location> Directory::find(const Key& key, bool and_pin) {
  Entry* entry = lookup(key);
  if (entry == nullptr || !entry->stored) {
    ++stats_.misses;
    return std::nullopt;
  }
  ++stats_.hits;
  // A pinned entry is no candidate now; its final unpin records the use.
  if (entry->pins == 0) note_candidate(*entry, true);
  if (and_pin) pin_entry(*entry);
  return entry->location;
}

bool Directory::is_pending(const Key& key) const noexcept {
  const Entry* entry = lookup(key);
  return entry != nullptr && !entry->stored;
}

bool Directory::contains(const Key& key) const noexcept {
  return lookup(key) != nullptr;
}

bool Directory::mark_stored(const Key& key, std::uint32_t server) {
  Entry* entry = pending_entry(key, server);
  if (entry == nullptr) return false;
  entry->stored = true;
  --stats_.pending;
  stats_.pending_bytes -= entry->location.bytes;
  ++stats_.entries;
  ++servers_[entry->location.server].stored;
  note_candidate(*entry, false);
  return true;
}

bool Directory::abort_pending(const Key& key, std::uint32_t server) {
  const Entry* entry = pending_entry(key, server);
  if (entry == nullptr) return false;
  const Location location = entry->location;
  servers_[location.server].slab.release(location.offset, location.bytes);
  --stats_.pending;
  stats_.pending_bytes -= location.bytes;
  entries_.erase(key);
  return true;
}

void Directory::pin(const Key& key) {
  Entry* entry = lookup(key);
  FERRY_ENFORCE(entry != nullptr && entry->stored, "pin of cache key (", key.group, ", ", key.id,
                ") that is not stored");
  pin_entry(*entry);
}

void Directory::pin_entry(Entry& entry) {
  // Leaving the LRU list is what keeps a pinned entry out of eviction; the clairvoyant heap record goes
  // stale instead and is skipped (farthest_candidate checks the pins).
  if (entry.pins++ == 0 && policy_ == Policy::lru) servers_[entry.location.server].evictable.remove(&entry);
}

bool Directory::unpin(const Key& key, std::uint32_t server) {
  Entry* entry = lookup(key);
  if (entry == nullptr || !entry->stored) return false;
  if (server != kAnyServer && entry->location.server != server) return false;
  FERRY_ENFORCE(entry->pins > 0, "unpin of cache key (", key.group, ", ", key.id, ") that is not pinned");
  if (--entry->pins == 0) note_candidate(*entry, false);
  return true;
}

std::uint64_t Directory::drop_server(std::uint32_t server) {
  FERRY_ENFORCE(server < servers_.size(), "cache server ", server, " of ", servers_.size());
  std::uint64_t dropped = 0;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.location.server != server) {
      ++it;
      continue;
    }
    --(it->second.stored ? stats_.entries : stats_.pending);
    if (!it->second.stored) stats_.pending_bytes -= it->second.location.bytes;
    ++dropped;
    it = entries_.erase(it);
  }
  Server& s = servers_[server];
  s.slab.reset();
  s.evictable.clear();
  s.farthest.clear();
  s.refresh.clear();
  s.stored = 0;
  stats_.dropped += dropped;
  return dropped;
}

std::vector<std::pair<Key, Location>> Directory::stored_entries() const {
  FERRY_ENFORCE(stats_.pending == 0, "handover of a directory with ", stats_.pending, " pending entries");
  std::vector<std::pair<Key, Location>> out, pinned;
  out.reserve(entries_.size());
  const auto by_place = [](const auto& a, const auto& b) {
    return std::tie(a.second.server, a.second.offset) < std::tie(b.second.server, b.second.offset);
  };
  if (policy_ == Policy::lru) {
    // The unpinned stored entries are exactly the evictable lists, least recently used first; the pinned
    // ones go last (in use now: the most recent, and their final unpin files them as such anyway).
    for (const Server& server : servers_)
      for (const Entry* e = server.evictable.front(); e != nullptr; e = e->next)
        out.emplace_back(e->key, e->location);
    for (const auto& [key, entry] : entries_)
      if (entry.pins > 0) pinned.emplace_back(key, entry.location);
    std::sort(pinned.begin(), pinned.end(), by_place);
    out.insert(out.end(), pinned.begin(), pinned.end());
    FERRY_ENFORCE(out.size() == entries_.size(), "LRU lists hold ", out.size(), " of ", entries_.size(),
                  " stored entries");
    return out;
  }
  for (const auto& [key, entry] : entries_) out.emplace_back(key, entry.location);
  std::sort(out.begin(), out.end(), by_place);
  return out;
}

bool Directory::restore(const Key& key, const Location& location) {
  if (location.server >= servers_.size() || !serving(location.server) || contains(key)) return false;
  Server& server = servers_[location.server];
  if (!server.slab.reserve(location.offset, location.bytes)) return false;
  const auto it = entries_.emplace(key, Entry{.key = key, .location = location}).first;
  it->second.stored = true;
  ++stats_.entries;
  ++server.stored;
  note_candidate(it->second, false);
  return true;
}

void Directory::audit() const {
  struct Range {
    std::uint64_t begin, end;
  };
  std::vector<std::vector<Range>> ranges(servers_.size());
  std::vector<std::uint64_t> stored(servers_.size(), 0), candidates(servers_.size(), 0);
  std::uint64_t total_stored = 0, total_pending = 0, pending_bytes = 0;
  for (const auto& [key, entry] : entries_) {
    const Location& at = entry.location;
    FERRY_ENFORCE(entry.key == key && at.server < servers_.size(), "entry (", key.group, ", ", key.id,
                  ") is filed wrongly");
    FERRY_ENFORCE(serving(at.server), "entry (", key.group, ", ", key.id,
                  ") on a server that does not serve");
    FERRY_ENFORCE(entry.stored || entry.pins == 0, "pending entry (", key.group, ", ", key.id, ") is pinned");
    ranges[at.server].push_back({at.offset, at.offset + SlabAllocator::reserved_size(at.bytes)});
    stored[at.server] += entry.stored;
    candidates[at.server] += evictable(entry);
    ++(entry.stored ? total_stored : total_pending);
    if (!entry.stored) pending_bytes += at.bytes;
  }
  FERRY_ENFORCE(total_stored == stats_.entries && total_pending == stats_.pending, "entry counts drifted");
  FERRY_ENFORCE(pending_bytes == stats_.pending_bytes, "pending bytes drifted");
  for (std::size_t s = 0; s < servers_.size(); ++s) {
    const Server& server = servers_[s];
    std::sort(ranges[s].begin(), ranges[s].end(),
              [](const Range& a, const Range& b) { return a.begin < b.begin; });
    std::uint64_t sum = 0, end = 0;
    for (const Range& range : ranges[s]) {
      FERRY_ENFORCE(range.begin % SlabAllocator::kAlignment == 0 && range.begin >= end, "cache server ", s,
                    ": range at ", range.begin, " overlaps or is misaligned");
      end = range.end;
      sum += range.end - range.begin;
    }
    FERRY_ENFORCE(end <= server.slab.usable() && sum == server.slab.used() && sum <= bytes_per_server_,
                  "cache server ", s, ": ", sum, " bytes in entries, allocator says ", server.slab.used(),
                  " of ", bytes_per_server_);
    FERRY_ENFORCE(stored[s] == server.stored, "cache server ", s, ": stored count drifted");
    if (policy_ == Policy::lru) {
      std::uint64_t listed = 0;
      for (const Entry* e = server.evictable.front(); e != nullptr; e = e->next, ++listed) {
        FERRY_ENFORCE(evictable(*e), "cache server ", s, ": LRU list holds a pinned or pending entry");
      }
      FERRY_ENFORCE(listed == candidates[s] && listed == server.evictable.size(), "cache server ", s,
                    ": LRU list holds ", listed, " of ", candidates[s], " candidates");
    }
  }
}

}  // namespace ferry::cache
