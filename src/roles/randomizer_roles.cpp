// The randomizer's side of role rebalancing (docs/heterogeneous.md): where its describing stands (the
// rebalance points the coordinator takes), and what a role change of another rank means for it (the slabs
// its directories serve, the ranks that get miss lists). Moving a randomizer itself: randomizer_retire.cpp.
#include <algorithm>

#include "core/log.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "roles/randomizer.hpp"

namespace ferry::roles {

std::optional<std::uint64_t> Randomizer::describing_epoch() const {
  // The slowest consumer's. It grows when the epoch fence opens. A consumer described to the end (whose
  // kFinished has not come yet) describes nothing more: no point after the last epoch.
  std::optional<std::uint64_t> epoch;
  for (const auto& p : pipelines_)
    for (const auto& c : p.consumers)
      if (!c.finished && c.next_seq < p.total)
        epoch = std::min(epoch.value_or(c.next_seq / p.batches_per_epoch), c.next_seq / p.batches_per_epoch);
  return epoch;
}

bool Randomizer::only_serving_slab(int rank) const {
  const cache::Directory* own = shares_.front()->directory.get();
  const int slab = ctx_.layout.slab_index(rank);
  return own && slab >= 0 && own->serving(static_cast<std::uint32_t>(slab)) && own->serving_count() < 2;
}

void Randomizer::apply_role(int rank, Role role) {
  const auto at = static_cast<std::size_t>(rank);
  FERRY_ENFORCE(at < roles_.size() && (roles_[at] == Role::transformer || roles_[at] == Role::cache_server) &&
                    (role == Role::transformer || role == Role::cache_server),
                "role change of rank ", rank, ", which is no transformer or cache server");
  if (roles_[at] == role) return;
  roles_[at] = role;
  const int slab = ctx_.layout.slab_index(rank);
  if (role == Role::cache_server) {
    FERRY_ENFORCE(slab >= 0, "rank ", rank, " holds no slab and cannot serve (monitor.rebalance off?)");
    miss_targets_.remove(rank);
    // It may still serve here: this randomizer kept it as its only serving slab (below).
    for (auto& share : shares_)
      if (share->directory && !share->directory->serving(static_cast<std::uint32_t>(slab)))
        share->deferred_start[static_cast<std::size_t>(slab)] = 1;  // starts once drained
    start_deferred();
    return;
  }
  if (slab >= 0) {
    const auto server = static_cast<std::uint32_t>(slab);
    for (auto& share : shares_) {
      cache::Directory* directory = share->directory.get();
      if (!directory) continue;
      if (share->deferred_start[server]) {
        share->deferred_start[server] = 0;
      } else if (directory->serving(server)) {
        if (directory->serving_count() > 1) {
          const std::uint64_t dropped = directory->stop_serving(server);
          dropped_ += dropped;
          log::info("rank {} stopped serving: {} cache entries of share {} dropped (counted)", rank, dropped,
                    share->index);
        } else {
          log::warn("rank {} becomes a transformer but keeps share {}'s only serving slab", rank,
                    share->index);
        }
      }
    }
  }
  miss_targets_.add(rank);
}

void Randomizer::start_deferred() {
  for (auto& share : shares_) {
    if (!share->directory) continue;
    for (std::size_t s = 0; s < share->deferred_start.size(); ++s) {
      // A slab that served before may still be read (pins) or written (inserts in flight) at old offsets.
      if (!share->deferred_start[s] || share->pins_on[s] != 0 || share->pending_on[s] != 0) continue;
      share->deferred_start[s] = 0;
      if (!share->directory->serving(static_cast<std::uint32_t>(s)))
        share->directory->start_serving(static_cast<std::uint32_t>(s));
    }
  }
}

std::string Randomizer::roles_text() const {
  std::vector<int> servers, transformers;
  for (int r = 0; r < static_cast<int>(roles_.size()); ++r) {
    if (roles_[static_cast<std::size_t>(r)] == Role::cache_server) servers.push_back(r);
    if (roles_[static_cast<std::size_t>(r)] == Role::transformer) transformers.push_back(r);
  }
  return str_cat("c[", join(servers, ","), "] t[", join(transformers, ","), "]");
}

const Randomizer::Pipeline* Randomizer::lead() const {
  for (const auto& p : pipelines_)
    for (const auto& c : p.consumers)
      if (!c.finished && c.next_seq < p.total) return &p;
  return nullptr;
}

std::uint64_t Randomizer::mark(const Pipeline& p, std::uint64_t epoch, std::uint64_t batch) {
  const std::uint64_t per_epoch = p.batches_per_epoch;
  if (per_epoch == 0 || epoch >= p.total / per_epoch) return p.total;  // at or past the end (no overflow)
  return std::min(p.total, epoch * per_epoch + std::min(batch, per_epoch));
}

std::optional<bool> Randomizer::reached(std::uint64_t epoch, std::uint64_t batch) const {
  const Pipeline* p = lead();
  if (!p) return std::nullopt;
  const std::uint64_t at = mark(*p, epoch, batch);
  for (const auto& c : p->consumers)
    if (!c.finished && c.next_seq < p->total && c.next_seq < at) return false;
  return true;
}

void Randomizer::report_progress() {
  // The coordinator takes rebalance points at every randomizer's epoch boundary: tell it as the epoch
  // changes, not a window later; and once done, so it stops waiting for this randomizer.
  const std::optional<std::uint64_t> epoch = describing_epoch();
  if (ctx_.monitor.rebalance && epoch && epoch != reported_epoch_) {
    reported_epoch_ = epoch;
    report_window(true);
  }
  if (!final_reported_ && own_work_done()) {
    report_window(true);
    final_reported_ = true;
  }
}

}  // namespace ferry::roles
