#include "roles/randomizer.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "core/log.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "loader/resume.hpp"
#include "monitor/role_policy.hpp"

namespace ferry::roles {

// Clairvoyant replacement needs each key's next use: every pipeline's future order is known from its seed.
// Time is the absolute batch step (epoch * batches per epoch + batch) of the consumer that will read the key;
// the soonest use over the pipelines sharing the key wins.
class Randomizer::Oracle final : public cache::NextUse {
 public:
  Oracle(Randomizer& owner, const Share* share) : owner_(owner), share_(share) {}
  std::uint64_t next_use(const cache::Key& key) const override {
    std::uint64_t best = cache::kNever;
    for (auto& p : owner_.pipelines_) {
      if (p.cache != share_ || p.runtime->group != key.group) continue;
      for (std::uint64_t e = 0; e < 2; ++e) {
        const std::uint64_t epoch = p.consumers.empty() ? 0 : current_epoch(p) + e;
        if (epoch >= static_cast<std::uint64_t>(p.config->epochs)) break;
        sampler::EpochPlan plan(p.share, epoch);
        std::uint32_t consumer = 0;
        std::uint64_t position = 0;
        if (!plan.locate(key.id, consumer, position)) continue;
        const std::uint64_t step = epoch * p.batches_per_epoch + position / p.share.batch_size;
        const std::uint64_t now = p.consumers[consumer].next_seq;
        if (step >= now) {
          best = std::min(best, step);  // absolute: the directory caches next uses and compares them later
          break;
        }
      }
    }
    return best;
  }

 private:
  static std::uint64_t current_epoch(const Pipeline& p) {
    std::uint64_t seq = ~std::uint64_t{0};
    for (const auto& c : p.consumers) seq = std::min(seq, c.next_seq);
    return p.batches_per_epoch ? seq / p.batches_per_epoch : 0;
  }
  Randomizer& owner_;
  const Share* share_;  // only the pipelines whose entries live in this share
};

Randomizer::Randomizer(Context& ctx)
    : RoleLoop(ctx), clock_(ctx.monitor.window, now_ns()), cpu_reported_(process_cpu_seconds()) {
  const Layout& layout = ctx.layout;
  roles_ = layout.role;
  transformers_ = layout.transformers;
  slab_hits_.assign(layout.slab_holders.size(), 0);
  share_bytes_ = layout.slab_share(ctx.config.runtime);
  shares_.push_back(make_share(static_cast<std::uint32_t>(layout.index_of(ctx.rank)), nullptr));
  for (std::size_t i = 0; i < ctx.config.pipelines.size(); ++i)
    if (layout.randomizer_of[i] == ctx.rank) pipelines_.push_back(make_pipeline(i, shares_.front().get()));
  if (ctx.rank == layout.coordinator()) coordinator_ = std::make_unique<Coordinator>(ctx);
  point_epoch_ = ~std::uint64_t{0};
  for (const auto& p : pipelines_)
    for (const auto& c : p.consumers)
      if (!c.finished) point_epoch_ = std::min(point_epoch_, c.next_seq / p.batches_per_epoch);
  first_epoch_ = point_epoch_;
}

Randomizer::Pipeline Randomizer::make_pipeline(std::size_t i, Share* share) {
  const Layout& layout = ctx_.layout;
  Pipeline p;
  p.runtime = ctx_.find_pipeline(i);
  FERRY_ENFORCE(p.runtime, "randomizer has no processor for pipeline ", i);
  p.config = &ctx_.config.pipelines[i];
  const auto& group = layout.groups[i];
  p.cache = share;
  p.share = loader::share_spec(*p.config, p.runtime->processor->dataset().size(),
                               static_cast<std::uint32_t>(group.size()));
  p.batches_per_epoch = group.empty() ? 0 : sampler::EpochPlan(p.share, 0).batches_per_consumer();
  p.total = p.batches_per_epoch * static_cast<std::uint64_t>(p.config->epochs);
  const std::uint64_t start = loader::start_sequence(*p.config, p.batches_per_epoch);
  // runtime.cache_bytes = 0 (or tiny) leaves no directory: no cache at all.
  p.cacheable = p.runtime->entry.fixed && p.runtime->entry.bytes > 0 && p.cache->directory != nullptr;
  for (std::size_t c = 0; c < group.size(); ++c) {
    ConsumerState state;
    state.rank = group[c];
    state.index = static_cast<std::uint32_t>(c);
    state.next_seq = start;
    state.finished = p.total == 0 || start >= p.total;
    p.consumers.push_back(std::move(state));
  }
  return p;
}

std::unique_ptr<Randomizer::Share> Randomizer::make_share(std::uint32_t index, const Share* serving_like,
                                                          const std::vector<char>* hold) {
  const Layout& layout = ctx_.layout;
  auto share = std::make_unique<Share>();
  share->index = index;
  share->base = share_bytes_ * index;
  share->oracle = std::make_unique<Oracle>(*this, share.get());
  const std::size_t holders = layout.slab_holders.size();
  share->pins_on.assign(holders, 0);
  share->pending_on.assign(holders, 0);
  share->deferred_start.assign(holders, 0);
  if (!layout.cache_servers.empty() && share_bytes_ >= cache::SlabAllocator::kAlignment) {
    cache::Policy policy{};
    FERRY_ENFORCE(cache::parse_policy(ctx_.config.runtime.cache_policy, policy), "unchecked cache policy");
    // One directory server per slab holder; the transformers' slabs (role rebalancing) start in reserve.
    std::vector<bool> serving;
    for (std::size_t s = 0; s < holders; ++s) {
      const int holder = layout.slab_holders[s];
      serving.push_back(serving_like && serving_like->directory
                            ? serving_like->directory->serving(static_cast<std::uint32_t>(s))
                            : layout.role[static_cast<std::size_t>(holder)] == Role::cache_server);
    }
    if (serving_like) share->deferred_start = serving_like->deferred_start;
    // Slabs to hold back: they start once this share's pins on them are released.
    for (std::size_t s = 0; hold && s < holders; ++s)
      if ((*hold)[s] && serving[s]) {
        serving[s] = false;
        share->deferred_start[s] = 1;
      }
    // A directory needs a serving slab. If every one is held back (role changes that the two randomizers
    // applied at different times), the share goes without a cache rather than write under a reader.
    if (std::none_of(serving.begin(), serving.end(), [](bool b) { return b; })) {
      log::warn(
          "share {}: every serving slab still has readers of dropped entries; its pipelines go on "
          "without the cache",
          index);
      return share;
    }
    share->directory = std::make_unique<cache::Directory>(static_cast<std::uint32_t>(holders), share_bytes_,
                                                          policy, share->oracle.get(), std::move(serving));
  }
  return share;
}

Randomizer::~Randomizer() = default;

Randomizer::Pipeline* Randomizer::find_pipeline(std::uint32_t index) {
  for (auto& p : pipelines_)
    if (p.runtime->index == index) return &p;
  return nullptr;
}

Randomizer::Pipeline& Randomizer::pipeline_of(std::uint32_t index) {
  for (auto& p : pipelines_)
    if (p.runtime->index == index) return p;
  FERRY_ENFORCE(false, "message for pipeline ", index, " reached a randomizer that does not own it");
  return pipelines_.front();
}

Randomizer::ConsumerState& Randomizer::consumer_of(Pipeline& p, int rank) {
  for (auto& c : p.consumers)
    if (c.rank == rank) return c;
  FERRY_ENFORCE(false, "rank ", rank, " is not a consumer of pipeline '", p.config->name, "'");
  return p.consumers.front();
}

const sampler::EpochPlan& Randomizer::plan(Pipeline& p, std::uint64_t epoch) {
  if (!p.plan || p.plan->epoch() != epoch) p.plan = std::make_unique<sampler::EpochPlan>(p.share, epoch);
  return *p.plan;
}

bool Randomizer::describe(Pipeline& p, ConsumerState& c) {
  const std::uint64_t epoch = c.next_seq / p.batches_per_epoch;
  const std::uint64_t batch = c.next_seq % p.batches_per_epoch;
  plan(p, epoch).batch_ids(c.index, batch, ids_);
  const std::uint64_t group = p.runtime->group;
  Share& share = *p.cache;
  cache::Directory* directory = share.directory.get();
  if (p.cacheable)
    for (auto id : ids_)
      if (directory->is_pending({group, id})) return false;  // wait for the insert's ack, then hit

  // From here on the batch is described: advance first, so that the oracle sees this use as the present and
  // reports each key's next use strictly after it.
  ++c.next_seq;
  Descriptor d{static_cast<std::uint32_t>(p.runtime->index), epoch, batch, {}};
  d.sources.resize(ids_.size());
  Outstanding out{epoch, batch, {}, {}};
  std::map<std::uint64_t, MissEntry> misses;  // ascending IDs
  for (std::size_t i = 0; i < ids_.size(); ++i) {
    const cache::Key key{group, ids_[i]};
    if (p.cacheable) {
      if (auto loc = directory->find(key)) {
        directory->pin(key);
        out.pinned.push_back(key);
        out.servers.push_back(loc->server);
        ++share.pins_on[loc->server];
        ++slab_hits_[loc->server];
        d.sources[i] = {true, loc->server, share.base + loc->offset};
        continue;
      }
    }
    auto [it, fresh] = misses.try_emplace(ids_[i]);
    MissEntry& m = it->second;
    if (fresh) {
      m.id = ids_[i];
      if (p.cacheable) {
        if (auto loc = directory->admit(key, p.runtime->entry.bytes)) {
          m.insert = true;
          m.server = loc->server;
          m.offset = share.base + loc->offset;
          ++share.pending_inserts;
          ++share.pending_on[loc->server];
          report_.cache_peak_bytes = std::max(report_.cache_peak_bytes, directory->used_bytes(loc->server));
        }
      }
    }
    m.positions.push_back(static_cast<std::uint32_t>(i));
  }
  // Contiguous runs of the sorted misses to each transformer: coalesced HDF5 reads on every one of them.
  const auto& transformers = transformers_;
  const std::size_t t = transformers.size();
  std::vector<MissEntry> sorted;
  sorted.reserve(misses.size());
  for (auto& [id, m] : misses) sorted.push_back(std::move(m));
  auto& tally = p.epochs[epoch];
  if (tally.layout.empty()) tally.layout = roles_text();
  for (std::size_t j = 0; j < t; ++j) {
    const std::size_t first = sorted.size() * j / t, last = sorted.size() * (j + 1) / t;
    if (first == last) continue;
    Misses list{d.pipeline, epoch, batch, c.rank, {}};
    list.entries.assign(std::make_move_iterator(sorted.begin() + static_cast<std::ptrdiff_t>(first)),
                        std::make_move_iterator(sorted.begin() + static_cast<std::ptrdiff_t>(last)));
    for (const auto& m : list.entries)
      for (auto pos : m.positions) d.sources[pos] = {false, static_cast<std::uint32_t>(j), 0};
    writer_.clear();
    encode(writer_, list);
    report_.control_bytes += writer_.size();
    ctx_.fabric->send(transformers[j], kMisses, writer_.view());
    ++tally.miss_lists_sent;
    ++miss_lists_sent_;
  }
  writer_.clear();
  encode(writer_, d);
  report_.control_bytes += writer_.size();
  report_.samples_described += ids_.size();
  ctx_.fabric->send(c.rank, kDescriptor, writer_.view());
  c.outstanding.push_back(std::move(out));
  clock_.batch();
  return true;
}

void Randomizer::on_message(transport::Message& message) {
  Reader r(message.bytes);
  switch (message.tag) {
    case kStored:
      on_stored(message);
      break;
    case kCredit: {
      Credit credit;
      decode(r, credit);
      auto& p = pipeline_of(credit.pipeline);
      auto& c = consumer_of(p, message.source);
      // Credits come in order from the consumer, but after a handover (R3) some come forwarded by the
      // retired randomizer and may arrive after later ones sent here directly: match, do not assume.
      const auto it = std::find_if(c.outstanding.begin(), c.outstanding.end(), [&](const Outstanding& o) {
        return o.epoch == credit.epoch && o.batch == credit.batch;
      });
      if (it == c.outstanding.end() && c.finished) {
        // Its kFinished overtook it (another tag, or the credit came the long way round, forwarded) and
        // released the batch already.
        ++late_credits_;
        break;
      }
      FERRY_ENFORCE(it != c.outstanding.end(), "credit from rank ", message.source, " for batch ",
                    credit.batch, " of epoch ", credit.epoch, ", which is not outstanding");
      release(*p.cache, *it);
      c.outstanding.erase(it);
      break;
    }
    case kFinished: {
      auto& p = pipeline_of(static_cast<std::uint32_t>(r.u()));
      auto& c = consumer_of(p, message.source);
      for (auto& out : c.outstanding) release(*p.cache, out);
      c.outstanding.clear();
      c.finished = true;
      // How many epoch reports it sent: one may still be on its way (another tag may overtake it).
      c.epochs_announced = r.done() ? c.epochs_reported : r.u();
      break;
    }
    case kEpochDone:
    case kMissDone: {
      EpochFigures f;
      decode(r, f);
      auto& p = pipeline_of(f.pipeline);
      if (message.tag == kMissDone)
        ++miss_lists_done_;
      else
        ++consumer_of(p, message.source).epochs_reported;
      tally(p, f, message.tag == kEpochDone);
      break;
    }
    case kStats:
      FERRY_ENFORCE(coordinator_, "monitoring window from rank ", message.source, " reached rank ", ctx_.rank,
                    ", which is not the coordinator");
      coordinator_->add(monitor::decode_rank_stats(message.bytes));
      break;
    case kRole: {
      RoleChange change;
      decode(r, change);
      apply_role(change.rank, change.role == 0 ? Role::transformer : Role::cache_server);
      break;
    }
    case kRetire: {
      RoleChange change;
      decode(r, change);
      FERRY_ENFORCE(change.rank == ctx_.rank && change.heir >= 0 && change.heir != ctx_.rank && !coordinator_,
                    "retirement of rank ", change.rank, " to heir ", change.heir, " reached rank ",
                    ctx_.rank);
      log::info("rank {}: randomizer -> transformer at epoch {}, pipelines to rank {} once drained ({})",
                ctx_.rank, change.epoch, change.heir, change.why);
      retiring_ = true;
      heir_ = change.heir;
      break;
    }
    case kHandover: {
      Handover h;
      decode(r, h);
      FERRY_ENFORCE(awaiting_handovers_ > 0, "handover from rank ", message.source, " that rank ", ctx_.rank,
                    " did not wait for");
      adopt(h);
      --awaiting_handovers_;
      if (coordinator_) coordinator_->retired(message.source);  // or on kRetired, whichever comes first
      log::info("rank {}: took over {} pipeline(s) and {} cache entries from rank {}", ctx_.rank,
                h.pipelines.size(), h.entries.size(), message.source);
      // Consumer messages forwarded ahead of their handover (this one's, or another's still on its way).
      std::vector<transport::Message> early = std::move(early_);
      early_.clear();
      for (auto& m : early) dispatch_forwarded(std::move(m));
      break;
    }
    case kRetired:
      on_retired(message.source);
      break;
    case kRelease:
      released_ = true;
      break;
    case kShutdown:
      ++shutdowns_seen_;  // another randomizer ended: counts once this rank transforms (if it ever does)
      break;
    case kForward:
      on_forward(message);
      break;
    default:
      FERRY_ENFORCE(false, "randomizer got unexpected message tag ", message.tag, " from rank ",
                    message.source);
  }
}

void Randomizer::release(Share& share, const Outstanding& out) {
  for (std::size_t i = 0; i < out.pinned.size(); ++i) {
    // False when the slab stopped serving: the pin died with the entry (which may live elsewhere now, with
    // pins of its own that this credit must not release).
    if (share.directory) share.directory->unpin(out.pinned[i], out.servers[i]);
    --share.pins_on[out.servers[i]];
  }
}

void Randomizer::on_stored(const transport::Message& message) {
  Reader r(message.bytes);
  Stored s;
  decode(r, s);
  const int slab = ctx_.layout.slab_index(message.source);
  FERRY_ENFORCE(slab >= 0, "insert ack from rank ", message.source, ", which holds no slab");
  const auto server = static_cast<std::uint32_t>(slab);
  for (std::size_t i = 0; i < s.ids.size(); ++i) {
    // The offset says whose share the entry is in: this rank's own, or one it took over.
    Share* share = nullptr;
    for (auto& candidate : shares_)
      if (candidate->directory && s.offsets[i] >= candidate->base &&
          s.offsets[i] - candidate->base < share_bytes_)
        share = candidate.get();
    FERRY_ENFORCE(share, "insert ack from rank ", message.source, " at offset ", s.offsets[i],
                  ", in no cache share of rank ", ctx_.rank);
    // An ack from a slab that stopped serving meanwhile is stale: its entry was dropped (and counted), and
    // may have been admitted again elsewhere, which this ack must not mark stored. A serving slab cannot
    // have stopped and restarted in between (a restart waits for its inserts to drain).
    if (!share->directory->mark_stored({s.group, s.ids[i]}, server)) {
      FERRY_ENFORCE(!share->directory->serving(server), "ack from rank ", message.source,
                    " for an entry that is not pending there");
      ++stale_acks_;
    }
    --share->pending_inserts;
    --share->pending_on[server];
  }
}

void Randomizer::report_window(bool force) {
  const std::uint64_t now = now_ns();
  if (!force && !clock_.due(now)) return;
  monitor::RankStats stats;
  stats.rank = static_cast<std::uint32_t>(ctx_.rank);
  stats.window_ns = now - clock_.start_ns();
  stats.slab_hits = slab_hits_;
  std::fill(slab_hits_.begin(), slab_hits_.end(), 0);
  // The cache was full when it declined an admission (static) or evicted for room (LRU, clairvoyant).
  for (auto& share : shares_) {
    if (!share->directory) continue;
    const auto& d = share->directory->stats();
    stats.cache_full += d.declined + d.evictions - share->full_reported;
    share->full_reported = d.declined + d.evictions;
  }
  // Busy (R3 reads it): the CPU time the process used in the window, so that a randomizer that waits for a
  // core on a crowded node does not look busy (its wall time outside the wait would).
  const double cpu = process_cpu_seconds();
  stats.busy_ns = std::min<std::uint64_t>(
      stats.window_ns, static_cast<std::uint64_t>(std::max(cpu - cpu_reported_, 0.0) * 1e9));
  cpu_reported_ = cpu;
  stats.workers = 1;
  stats.randomizer = true;
  stats.describing_epoch = describing_epoch().value_or(0);
  stats.randomizer_done = own_work_done();
  clock_.restart(now);
  if (coordinator_)
    coordinator_->add(std::move(stats));
  else
    ctx_.fabric->send(ctx_.layout.coordinator(), kStats, monitor::encode(stats));
}

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

void Randomizer::maybe_rebalance() {
  if (!ctx_.monitor.rebalance || !coordinator_) return;
  // The epoch being described now by every randomizer: this one's and, from their reports, the others'
  // (so moves go on for their pipelines once this one's are done).
  const std::optional<std::uint64_t> mine = describing_epoch(), others = coordinator_->others_epoch();
  if (!mine && !others) return;
  const std::uint64_t epoch = std::min(mine.value_or(~std::uint64_t{0}), others.value_or(~std::uint64_t{0}));
  const std::uint32_t every = ctx_.monitor.rebalance_windows;
  const bool boundary = epoch > point_epoch_;
  if (!boundary && !(every > 0 && coordinator_->windows() - point_windows_ >= every)) return;
  point_epoch_ = epoch;
  point_windows_ = coordinator_->windows();
  report_window(true);  // this rank's own slab hits and cache-full figures up to now belong to the span
  monitor::RoleView view = coordinator_->role_view(roles_);
  const std::uint64_t cache_full = view.cache_full;
  coordinator_->reset_span();
  // The first epoch starts with a cold cache: no server has served anything yet (decide_roles' R2 waits).
  view.warm = epoch > first_epoch_ && !(boundary && epoch == first_epoch_ + 1);
  std::optional<monitor::RoleMove> move = monitor::decide_roles(view, ctx_.monitor.roles);
  const cache::Directory* own = shares_.front()->directory.get();
  if (move && move->from == monitor::ServiceRole::cache_server && own) {
    const int slab = ctx_.layout.slab_index(static_cast<int>(move->rank));
    if (slab >= 0 && own->serving(static_cast<std::uint32_t>(slab)) && own->serving_count() < 2) {
      log::info("rebalance at epoch {}: keeping rank {} serving, it is the only serving slab", epoch,
                move->rank);
      move.reset();
    }
  }
  std::vector<std::string> randomizers_busy;
  for (const auto& r : view.randomizers) randomizers_busy.push_back(str_cat("r", r.rank, " ", r.busy));
  const std::string figures =
      str_cat("consumer wait ", view.consumer_wait, ", transformers busy ", monitor::transformer_busy(view),
              ", cache full ", cache_full, ", misses ", view.misses, ", windows ", view.windows,
              ", randomizers busy [", join(randomizers_busy, ", "), "]");
  std::string move_json = "null";
  if (move && move->from == monitor::ServiceRole::randomizer) {
    // R3: the randomizer drains and hands over; it becomes a transformer for the others only when it says
    // so (kRetired), so no miss list reaches it while it still describes.
    log::info("rebalance at epoch {}: rank {} randomizer -> transformer, pipelines to rank {} ({}: {})",
              epoch, move->rank, move->heir, monitor::to_string(move->rule), move->why);
    ++report_.role_changes;
    ++awaiting_handovers_;
    coordinator_->retiring(move->rank);
    Writer w;
    encode(w, RoleChange{static_cast<std::int32_t>(move->rank), 0, epoch, move->why,
                         static_cast<std::int32_t>(move->heir)});
    ctx_.fabric->send(static_cast<int>(move->rank), kRetire, w.view());
  } else if (move) {
    const Role to = move->to == monitor::ServiceRole::transformer ? Role::transformer : Role::cache_server;
    log::info("rebalance at epoch {}: rank {} {} -> {} ({}: {})", epoch, move->rank,
              monitor::to_string(move->from), monitor::to_string(move->to), monitor::to_string(move->rule),
              move->why);
    apply_role(static_cast<int>(move->rank), to);
    ++report_.role_changes;
    RoleChange change{static_cast<std::int32_t>(move->rank), static_cast<std::uint8_t>(move->to), epoch,
                      move->why};
    Writer w;
    encode(w, change);
    ctx_.fabric->send(static_cast<int>(move->rank), kRole, w.view());
    ++roles_sent_[static_cast<int>(move->rank)];
    for (int r : ctx_.layout.randomizers)
      if (r != ctx_.rank) ctx_.fabric->send(r, kRole, w.view());
  }
  if (move) {
    move_json =
        str_cat("{\"rank\":", move->rank, ",\"from\":\"", monitor::to_string(move->from), "\",\"to\":\"",
                monitor::to_string(move->to), "\",\"rule\":\"", monitor::to_string(move->rule),
                "\",\"why\":\"", move->why, "\"",
                move->from == monitor::ServiceRole::randomizer ? str_cat(",\"heir\":", move->heir) : "", "}");
  } else {
    log::debug("rebalance point at epoch {}: no move ({}{})", epoch, view.warm ? "" : "cold cache; ",
               figures);
  }
  ctx_.stats_line(str_cat(
      "{\"kind\":\"rebalance\",\"epoch\":", epoch, ",\"warm\":", view.warm ? "true" : "false",
      ",\"consumer_wait\":", view.consumer_wait, ",\"transformer_busy\":", monitor::transformer_busy(view),
      ",\"cache_full\":", cache_full, ",\"misses\":", view.misses, ",\"windows\":", view.windows,
      ",\"move\":", move_json, ",\"layout\":\"", roles_text(), "\"}"));
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
    transformers_.erase(std::find(transformers_.begin(), transformers_.end(), rank));
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
  transformers_.insert(std::upper_bound(transformers_.begin(), transformers_.end(), rank), rank);
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

void Randomizer::after_messages() {
  if (retired_) return;
  start_deferred();
  maybe_rebalance();  // before the next batch is described: a move applies from the next one on
  const std::uint64_t prefetch = static_cast<std::uint64_t>(ctx_.config.runtime.prefetch);
  for (auto& p : pipelines_) {
    if (retiring_) break;  // draining: nothing new is described
    // Epoch fence: epoch e+1 is described once every consumer has been described all of epoch e, so an
    // epoch's figures are its own and a sample first read late in epoch e is a hit in e+1, not a re-read.
    std::uint64_t fence = p.total;
    for (const auto& c : p.consumers)
      if (!c.finished) fence = std::min(fence, (c.next_seq / p.batches_per_epoch + 1) * p.batches_per_epoch);
    for (auto& c : p.consumers)
      while (!c.finished && c.next_seq < std::min(p.total, fence) && c.outstanding.size() < prefetch)
        if (!describe(p, c)) break;
  }
  if (retiring_ && drained()) {
    hand_over();
    return;
  }
  report_window(false);
  if (!coordinator_) {
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
  if (coordinator_) coordinator_->tick(now_ns());
  if (!shutdown_sent_ && done()) send_shutdown();
}

bool Randomizer::own_work_done() const {
  for (const auto& p : pipelines_)
    for (const auto& c : p.consumers)
      if (!c.finished || c.epochs_reported < c.epochs_announced) return false;
  for (const auto& share : shares_)
    if (share->pending_inserts != 0) return false;
  return miss_lists_done_ == miss_lists_sent_;
}

bool Randomizer::done() const {
  if (retired_) return true;
  if (!own_work_done() || awaiting_handovers_ > 0) return false;
  // With rebalancing the coordinator stays until every randomizer is done: moves go on for their pipelines,
  // and the service ranks (which wait for every randomizer's shutdown) are there to take them.
  if (coordinator_ && ctx_.monitor.rebalance) return coordinator_->others_done();
  // Where R3 may move randomizers, the others end only once the coordinator has read their last report
  // and let them (a kRetire may be on its way: it must find this randomizer to hand over).
  if (!coordinator_ && ctx_.monitor.may_move_randomizers(ctx_.layout.randomizers.size())) return released_;
  return true;
}

void Randomizer::send_shutdown() {
  shutdown_sent_ = true;
  // Each shutdown says how many role changes this randomizer sent the rank: messages of different tags may
  // overtake each other, and the rank must not end before it has applied them.
  for (const auto& ranks : {ctx_.layout.transformers, ctx_.layout.cache_servers}) {
    for (int r : ranks) {
      Writer w;
      w.u(roles_sent_[r]);
      ctx_.fabric->send(r, kShutdown, w.view());
    }
  }
  // Where randomizers may move, every other randomizer may be (or become) a transformer that waits for
  // this shutdown. It cannot know which ones will: a retirement it has not heard of yet may be under way.
  if (ctx_.monitor.may_move_randomizers(ctx_.layout.randomizers.size())) {
    for (int r : ctx_.layout.randomizers) {
      if (r == ctx_.rank) continue;
      Writer w;
      w.u(0);
      ctx_.fabric->send(r, kShutdown, w.view());
    }
  }
}

bool Randomizer::drained() const {
  // Outstanding batches are handed over (a consumer credits one only when it asks for the next batch of that
  // pipeline: waiting for it could wait for ever). Inserts and miss lists are answered by service ranks.
  for (const auto& share : shares_)
    if (share->pending_inserts != 0) return false;
  return miss_lists_done_ == miss_lists_sent_;
}

void Randomizer::hand_over() {
  FERRY_ENFORCE(shares_.size() == 1, "rank ", ctx_.rank, " retires with ", shares_.size(), " cache shares");
  Share& share = *shares_.front();
  Handover h;
  h.share = share.index;
  for (const auto& p : pipelines_) {
    HandoverPipeline hp;
    hp.pipeline = static_cast<std::uint32_t>(p.runtime->index);
    for (const auto& c : p.consumers) {
      HandoverConsumer hc{c.rank, c.next_seq, c.finished, c.epochs_reported, c.epochs_announced, {}};
      for (const auto& out : c.outstanding) {
        HandoverBatch b{out.epoch, out.batch, {}};
        for (std::size_t i = 0; i < out.pinned.size(); ++i)
          b.pins.push_back({out.pinned[i].group, out.pinned[i].id, out.servers[i]});
        hc.outstanding.push_back(std::move(b));
      }
      hp.consumers.push_back(std::move(hc));
    }
    for (const auto& [epoch, t] : p.epochs) {
      if (t.printed) continue;
      EpochFigures sum = t.sum;
      sum.pipeline = hp.pipeline;
      sum.epoch = epoch;
      hp.epochs.push_back({sum, t.consumers_reported, t.miss_lists_done, t.layout});
    }
    h.pipelines.push_back(std::move(hp));
  }
  if (share.directory)
    for (const auto& [key, at] : share.directory->stored_entries())
      h.entries.push_back({key.group, key.id, at.server, at.offset, at.bytes});
  Writer w;
  encode(w, h);
  report_.control_bytes += w.size();
  ctx_.fabric->send(heir_, kHandover, w.view());
  log::info("rank {}: handed {} pipeline(s) and {} cache entries to rank {}; transforms from now on",
            ctx_.rank, h.pipelines.size(), h.entries.size(), heir_);
  ctx_.stats_line(str_cat("{\"kind\":\"handover\",\"rank\":", ctx_.rank, ",\"heir\":", heir_,
                          ",\"pipelines\":", h.pipelines.size(), ",\"entries\":", h.entries.size(),
                          ",\"bytes\":", w.size(), "}"));
  // Nothing of the pipelines stays here: the last report says done, so the coordinator stops waiting.
  pipelines_.clear();
  retired_ = true;
  ++report_.role_changes;
  report_window(true);
  for (int r : ctx_.layout.randomizers)
    if (r != ctx_.rank) ctx_.fabric->send(r, kRetired, {});
  send_shutdown();
}

void Randomizer::adopt(const Handover& h) {
  // Pins of handed-over batches on entries that are gone (their slab stopped serving before the handover):
  // consumers may still read those bytes, so such a slab must not take entries in this share until the
  // batches are credited; it waits like any slab that stops and serves again (deferred start).
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::uint32_t> where;
  for (const auto& e : h.entries) where[{e.group, e.id}] = e.server;
  std::vector<char> hold(ctx_.layout.slab_holders.size(), 0);
  for (const auto& hp : h.pipelines)
    for (const auto& c : hp.consumers)
      for (const auto& b : c.outstanding)
        for (const auto& pin : b.pins) {
          const auto it = where.find({pin.group, pin.id});
          if (it == where.end() || it->second != pin.server) hold.at(pin.server) = 1;
        }
  auto owned = make_share(h.share, shares_.front().get(), &hold);
  Share* share = owned.get();
  shares_.push_back(std::move(owned));
  // Every entry where it is: no byte moves. An entry on a slab that does not serve here (a role change the
  // retiring randomizer had not applied yet) is left out, and counted as dropped.
  std::uint64_t left_out = 0;
  where.clear();
  for (const auto& e : h.entries) {
    if (share->directory && share->directory->restore({e.group, e.id}, {e.server, e.offset, e.bytes}))
      where[{e.group, e.id}] = e.server;
    else
      ++left_out;
  }
  dropped_ += left_out;
  if (left_out)
    log::info("handover: {} cache entries on slabs that no longer serve dropped (counted)", left_out);
  for (const auto& hp : h.pipelines) {
    FERRY_ENFORCE(!find_pipeline(hp.pipeline), "rank ", ctx_.rank, " took over pipeline ", hp.pipeline,
                  " twice");
    Pipeline p = make_pipeline(hp.pipeline, share);
    FERRY_ENFORCE(p.consumers.size() == hp.consumers.size(), "handover of pipeline ", hp.pipeline, " with ",
                  hp.consumers.size(), " consumers, its group has ", p.consumers.size());
    for (std::size_t c = 0; c < hp.consumers.size(); ++c) {
      const HandoverConsumer& from = hp.consumers[c];
      ConsumerState& to = p.consumers[c];
      FERRY_ENFORCE(to.rank == from.rank, "handover of pipeline ", hp.pipeline, ": consumer ", c, " is rank ",
                    from.rank, ", its group says ", to.rank);
      to.next_seq = from.next_seq;
      to.finished = from.finished;
      to.epochs_reported = from.epochs_reported;
      to.epochs_announced = from.epochs_announced;
      // Its batches not yet credited: pinned again here (release() unpins them at the credit). A pin whose
      // entry is gone is counted on its slab all the same, which keeps that slab from restarting under it.
      for (const auto& b : from.outstanding) {
        Outstanding out{b.epoch, b.batch, {}, {}};
        for (const auto& pin : b.pins) {
          const cache::Key key{pin.group, pin.id};
          const auto it = where.find({pin.group, pin.id});
          if (share->directory && it != where.end() && it->second == pin.server) share->directory->pin(key);
          out.pinned.push_back(key);
          out.servers.push_back(pin.server);
          ++share->pins_on.at(pin.server);
        }
        to.outstanding.push_back(std::move(out));
      }
    }
    for (const auto& e : hp.epochs) {
      EpochTally& t = p.epochs[e.sum.epoch];
      t.sum = e.sum;
      t.consumers_reported = static_cast<std::uint32_t>(e.consumers_reported);
      t.miss_lists_sent = t.miss_lists_done = e.miss_lists;
      t.layout = e.layout;
    }
    pipelines_.push_back(std::move(p));
  }
}

void Randomizer::on_forward(const transport::Message& message) {
  // [source][tag][the consumer's bytes]: handled as if the consumer had sent it here.
  Reader r(message.bytes);
  transport::Message m;
  m.source = static_cast<int>(r.u());
  m.tag = static_cast<transport::Tag>(r.u());
  FERRY_ENFORCE(m.tag == kCredit || m.tag == kFinished || m.tag == kEpochDone, "forwarded message tag ",
                m.tag, " from rank ", message.source);
  const auto bytes = r.raw(r.u());
  m.bytes.assign(bytes.begin(), bytes.end());
  dispatch_forwarded(std::move(m));
}

void Randomizer::dispatch_forwarded(transport::Message m) {
  Reader first(m.bytes);
  const auto pipeline = static_cast<std::uint32_t>(first.u());  // every one of them starts with the pipeline
  if (!find_pipeline(pipeline)) {
    early_.push_back(std::move(m));  // it overtook its handover
    return;
  }
  on_message(m);
}

void Randomizer::on_retired(int rank) {
  const auto at = static_cast<std::size_t>(rank);
  FERRY_ENFORCE(at < roles_.size() && roles_[at] == Role::randomizer && rank != ctx_.rank, "rank ", rank,
                " says it retired, but is no other randomizer");
  roles_[at] = Role::transformer;
  transformers_.insert(std::upper_bound(transformers_.begin(), transformers_.end(), rank), rank);
  if (coordinator_) coordinator_->retired(rank);
  log::info("rank {}: rank {} transforms now", ctx_.rank, rank);
}

void Randomizer::tally(Pipeline& p, const EpochFigures& f, bool from_consumer) {
  EpochTally& t = p.epochs[f.epoch];
  t.sum.samples += f.samples;
  t.sum.hits += f.hits;
  t.sum.misses += f.misses;
  t.sum.bytes += f.bytes;
  t.sum.wait_us += f.wait_us;
  t.sum.hdf5_reads += f.hdf5_reads;
  t.sum.hdf5_bytes += f.hdf5_bytes;
  t.sum.busy_us += f.busy_us;
  t.sum.elapsed_us = std::max(t.sum.elapsed_us, f.elapsed_us);
  if (from_consumer)
    ++t.consumers_reported;
  else
    ++t.miss_lists_done;
  maybe_print(p, f.epoch);
}

void Randomizer::maybe_print(Pipeline& p, std::uint64_t epoch) {
  EpochTally& t = p.epochs[epoch];
  if (t.printed || t.consumers_reported < p.consumers.size() || t.miss_lists_done < t.miss_lists_sent) return;
  t.printed = true;
  const double seconds = static_cast<double>(t.sum.elapsed_us) * 1e-6;
  const double hit_rate =
      t.sum.samples ? static_cast<double>(t.sum.hits) / static_cast<double>(t.sum.samples) : 0.0;
  if (!header_printed_) {
    header_printed_ = true;
    std::printf("ferry: %s, cache %s\n", ctx_.layout.describe().c_str(),
                ctx_.config.runtime.cache_policy.c_str());
    std::printf("%-12s %5s %9s %11s %8s %9s %10s %10s %9s  %s\n", "pipeline", "epoch", "samples", "samples/s",
                "hit rate", "hdf5 MiB", "hdf5 reads", "wait s", "prep s", "layout");
  }
  std::printf("%-12s %5llu %9llu %11.0f %7.1f%% %9.2f %10llu %10.3f %9.3f  %s\n", p.config->name.c_str(),
              static_cast<unsigned long long>(epoch), static_cast<unsigned long long>(t.sum.samples),
              seconds > 0 ? static_cast<double>(t.sum.samples) / seconds : 0.0, 100.0 * hit_rate,
              static_cast<double>(t.sum.hdf5_bytes) / 1048576.0,
              static_cast<unsigned long long>(t.sum.hdf5_reads), static_cast<double>(t.sum.wait_us) * 1e-6,
              static_cast<double>(t.sum.busy_us) * 1e-6, t.layout.c_str());
  std::fflush(stdout);
  ctx_.stats_line(str_cat("{\"kind\":\"epoch\",\"pipeline\":\"", p.config->name, "\",\"epoch\":", epoch,
                          ",\"samples\":", t.sum.samples, ",\"hits\":", t.sum.hits,
                          ",\"misses\":", t.sum.misses, ",\"hit_rate\":", hit_rate, ",\"seconds\":", seconds,
                          ",\"hdf5_reads\":", t.sum.hdf5_reads, ",\"hdf5_bytes\":", t.sum.hdf5_bytes,
                          ",\"wait_seconds\":", t.sum.wait_us * 1e-6,
                          ",\"prepare_seconds\":", t.sum.busy_us * 1e-6, ",\"layout\":\"", t.layout, "\"}"));
}

void Randomizer::finish(ServeReport& report) {
  if (late_credits_) log::debug("{} credits came after their consumer had finished", late_credits_);
  // The cache figures of every share this rank owned (a retired randomizer's are those up to its handover).
  bool any = false;
  for (const auto& share : shares_) {
    if (!share->directory) continue;
    const auto& s = share->directory->stats();
    report.cache_hits += s.hits;
    report.cache_misses += s.misses;
    report.cache_admitted += s.admitted;
    report.cache_declined += s.declined;
    report.cache_evictions += s.evictions;
    report.cache_capacity += share->directory->capacity();
    any = true;
  }
  if (!any) return;
  report.cache_servers_serving = shares_.front()->directory ? shares_.front()->directory->serving_count() : 0;
  report.cache_dropped = dropped_;
  if (stale_acks_)
    log::info("{} insert acks arrived after their slab stopped serving (entries dropped)", stale_acks_);
}

}  // namespace ferry::roles
