#include "roles/randomizer.hpp"

#include <algorithm>

#include "core/log.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "loader/resume.hpp"
#include "roles/epoch_rss.hpp"

namespace ferry::roles {

Randomizer::Randomizer(Context& ctx)
    : RoleLoop(ctx),
      table_(ctx),
      miss_targets_(ctx.layout.node_of, ctx.layout.transformers),
      clock_(ctx.monitor.window, now_ns()),
      cpu_reported_(process_cpu_seconds()) {
  const Layout& layout = ctx.layout;
  roles_ = layout.role;
  slab_hits_.assign(layout.slab_holders.size(), 0);
  share_bytes_ = layout.slab_share(ctx.config.runtime);
  shares_.push_back(make_share(static_cast<std::uint32_t>(layout.index_of(ctx.rank)), nullptr));
  for (std::size_t i = 0; i < ctx.config.pipelines.size(); ++i)
    if (layout.randomizer_of[i] == ctx.rank) pipelines_.push_back(make_pipeline(i, shares_.front().get()));
  if (ctx.rank != layout.coordinator()) return;
  coordinator_ = std::make_unique<Coordinator>(ctx);
  if (ctx.monitor.rebalance)
    rebalancer_ = std::make_unique<Rebalancer>(ctx, *coordinator_, static_cast<RebalanceHost&>(*this),
                                               describing_epoch().value_or(0));
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
  // runtime.cache_bytes = 0 (or tiny) leaves no directory: no cache at all. Variable-length entries are
  // admitted once their size is known (admit_bytes()).
  p.cacheable = (!p.runtime->entry.fixed || p.runtime->entry.bytes > 0) && p.cache->directory != nullptr;
  if (!p.runtime->entry.fixed) p.sizes = cache::EntrySizes(p.runtime->processor->dataset().size());
  p.head_moves = head_moves(*p.runtime->processor, p.runtime->entry);
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
  share->oracle = std::make_unique<NextUseOracle>(pipelines_, share.get());
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

ConsumerState& Randomizer::consumer_of(Pipeline& p, int rank) {
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
      if (directory->is_pending({group, id}) || p.first_reads.count(id))
        return false;  // wait for the insert's ack (then hit), or for the entry's size (then admit)

  // From here on the batch is described: advance first, so that the oracle sees this use as the present and
  // reports each key's next use strictly after it.
  ++c.next_seq;
  Descriptor d{static_cast<std::uint32_t>(p.runtime->index), epoch, batch, {}, false};
  d.sources.resize(ids_.size());
  // Its augment head on a transformation rank (docs/heterogeneous.md, "The movable head"): the hits are
  // read from the cache there, and every position comes from it past the head.
  d.past_head = !miss_targets_.of(c.rank).empty() && head_away(p, epoch, batch);
  Outstanding out{epoch, batch, {}, {}};
  std::map<std::uint64_t, MissEntry> misses;    // ascending IDs
  std::map<std::uint64_t, FetchEntry> fetches;  // ... the hits of a batch past its head
  for (std::size_t i = 0; i < ids_.size(); ++i) {
    const cache::Key key{group, ids_[i]};
    if (p.cacheable) {
      if (auto loc = directory->find(key)) {
        directory->pin(key);
        out.pinned.push_back(key);
        out.servers.push_back(loc->server);
        ++share.pins_on[loc->server];
        ++slab_hits_[loc->server];
        d.sources[i] = {true, loc->server, share.base + loc->offset, p.runtime->entry.fixed ? 0 : loc->bytes};
        if (d.past_head) {
          FetchEntry& f = fetches[ids_[i]];
          f.id = ids_[i];
          f.server = loc->server;
          f.offset = share.base + loc->offset;
          f.bytes = loc->bytes;
          f.positions.push_back(static_cast<std::uint32_t>(i));
        }
        continue;
      }
    }
    auto [it, fresh] = misses.try_emplace(ids_[i]);
    MissEntry& m = it->second;
    if (fresh) {
      m.id = ids_[i];
      const bool admissible = p.cacheable && !p.undecodable.count(ids_[i]);
      const std::uint64_t bytes = admissible ? admit_bytes(p, ids_[i]) : 0;
      if (admissible && !p.runtime->entry.fixed && p.sizes.get(ids_[i]) == 0) p.first_reads.insert(ids_[i]);
      if (bytes != 0) {
        if (auto loc = directory->admit(key, bytes)) {
          m.insert = true;
          m.server = loc->server;
          m.offset = share.base + loc->offset;
          m.bytes = bytes;
          ++share.pending_inserts;
          ++share.pending_on[loc->server];
          report_.cache_peak_bytes = std::max(report_.cache_peak_bytes, directory->used_bytes(loc->server));
        }
      }
    }
    m.positions.push_back(static_cast<std::uint32_t>(i));
  }
  if (d.past_head)
    send_past_head(p, c, d, misses, fetches);
  else
    send_misses(p, c, d, misses);
  writer_.clear();
  encode(writer_, d);
  report_.control_bytes += writer_.size();
  report_.samples_described += ids_.size();
  ctx_.fabric->send(c.rank, kDescriptor, writer_.view());
  c.outstanding.push_back(std::move(out));
  clock_.batch();
  return true;
}

std::uint64_t Randomizer::admit_bytes(const Pipeline& p, std::uint64_t id) const {
  if (p.runtime->entry.fixed) return p.runtime->entry.bytes;
  // Variable: the size learned when the sample was last read (0, not admitted, before its first read), and
  // only where one entry fits a slab (a fixed entry that does not is refused at start, runtime_setup.cpp).
  const std::uint64_t bytes = p.sizes.get(id);
  return cache::SlabAllocator::reserved_size(bytes) <= p.cache->directory->capacity() ? bytes : 0;
}

void Randomizer::send_misses(Pipeline& p, const ConsumerState& c, Descriptor& d,
                             std::map<std::uint64_t, MissEntry>& misses) {
  // Contiguous runs of the sorted misses to the consumer's transformers (its node's, where it has any:
  // roles/miss_targets.hpp): coalesced HDF5 reads on every one of them. As many runs as the batch has
  // runtime.miss_list_bytes of prepared bytes (miss_runs), at most one per transformer. Run j goes to
  // transformer (j + turn) % t, where turn moves with batch and consumer, so batch after batch the runs land
  // on different transformers.
  const auto& transformers = miss_targets_.of(c.rank);
  const std::size_t t = transformers.size();
  const std::size_t turn = t ? static_cast<std::size_t>((d.batch + c.index) % t) : 0;
  std::vector<MissEntry> sorted;
  sorted.reserve(misses.size());
  // Prepared bytes of the misses: a variable sample whose size is not known (not read yet, skipped, or a
  // pipeline that does not cache, which learns none) counts as the mean of the known ones; none known: 0,
  // every transformer.
  std::uint64_t known = 0, known_bytes = 0;
  for (auto& [id, m] : misses) {
    const std::uint64_t b = p.runtime->entry.fixed ? p.runtime->entry.bytes : p.sizes.get(id);
    known += b > 0 ? 1 : 0;
    known_bytes += b;
    sorted.push_back(std::move(m));
  }
  const std::uint64_t bytes = known ? known_bytes / known * sorted.size() : 0;
  const std::size_t runs = miss_runs(sorted.size(), bytes, ctx_.config.runtime.miss_list_bytes, t);
  auto& tally = p.epochs[d.epoch];
  if (tally.layout.empty()) tally.layout = roles_text();
  for (std::size_t j = 0; j < runs; ++j) {
    const std::size_t first = sorted.size() * j / runs, last = sorted.size() * (j + 1) / runs;
    Misses list{d.pipeline, d.epoch, d.batch, c.rank, {}, false, {}};
    list.entries.assign(std::make_move_iterator(sorted.begin() + static_cast<std::ptrdiff_t>(first)),
                        std::make_move_iterator(sorted.begin() + static_cast<std::ptrdiff_t>(last)));
    const int to = transformers[(j + turn) % t];
    const std::uint32_t who = transformer_index(to);
    for (const auto& m : list.entries)
      for (auto pos : m.positions) d.sources[pos] = {false, who, 0};
    send_list(tally, list, to);
  }
}

std::uint32_t Randomizer::transformer_index(int rank) const {
  const auto& all = miss_targets_.all();
  return static_cast<std::uint32_t>(std::lower_bound(all.begin(), all.end(), rank) - all.begin());
}

void Randomizer::send_list(EpochTally& tally, const Misses& list, int to) {
  writer_.clear();
  encode(writer_, list);
  report_.control_bytes += writer_.size();
  ctx_.fabric->send(to, kMisses, writer_.view());
  ++tally.miss_lists_sent;
  ++miss_lists_sent_;
  ++report_.miss_lists_sent;
  if (miss_targets_.off_node(list.consumer, to)) ++report_.miss_lists_off_node;
}

void Randomizer::on_message(transport::Message& message) {
  Reader r(message.bytes);
  switch (message.tag) {
    case kStored:
      on_stored(message);
      break;
    case kCredit:
      on_credit(message);
      break;
    case kFinished:
      on_finished(message);
      break;
    case kEpochDone: {
      EpochFigures f;
      decode(r, f);
      auto& p = pipeline_of(f.pipeline);
      ++consumer_of(p, message.source).epochs_reported;
      table_.add(p, f, true);
      break;
    }
    case kMissDone:
      on_miss_done(message);
      break;
    case kStats:
    case kStatsBundle:
      FERRY_ENFORCE(coordinator_, "monitoring window from rank ", message.source, " reached rank ", ctx_.rank,
                    ", which is not the coordinator");
      coordinator_->receive(message);
      break;
    case kJobs:  // from the coordinator: where augment heads run (head_away)
      jobs_ = monitor::decode_job_list(message.bytes);
      break;
    case kRole: {
      RoleChange change;
      decode(r, change);
      apply_role(change.rank, change.role == 0 ? Role::transformer : Role::cache_server);
      break;
    }
    case kRetire:
      on_retire(message);
      break;
    case kHandover:
      on_handover(message);
      break;
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
    case kEpochEnd:
      on_epoch_end(ctx_, "randomizer", message);
      break;
    default:
      FERRY_ENFORCE(false, "randomizer got unexpected message tag ", message.tag, " from rank ",
                    message.source);
  }
}

void Randomizer::on_credit(const transport::Message& message) {
  Reader r(message.bytes);
  Credit credit;
  decode(r, credit);
  auto& p = pipeline_of(credit.pipeline);
  auto& c = consumer_of(p, message.source);
  // Credits come in order from the consumer, but after a handover (R3) some come forwarded by the retired
  // randomizer and may arrive after later ones sent here directly: match, do not assume.
  const auto it = std::find_if(c.outstanding.begin(), c.outstanding.end(), [&](const Outstanding& o) {
    return o.epoch == credit.epoch && o.batch == credit.batch;
  });
  if (it == c.outstanding.end() && c.finished) {
    // Its kFinished overtook it (another tag, or the credit came the long way round, forwarded) and released
    // the batch already.
    ++late_credits_;
    return;
  }
  FERRY_ENFORCE(it != c.outstanding.end(), "credit from rank ", message.source, " for batch ", credit.batch,
                " of epoch ", credit.epoch, ", which is not outstanding");
  release(*p.cache, *it);
  c.outstanding.erase(it);
}

void Randomizer::on_finished(const transport::Message& message) {
  Reader r(message.bytes);
  auto& p = pipeline_of(static_cast<std::uint32_t>(r.u()));
  auto& c = consumer_of(p, message.source);
  for (auto& out : c.outstanding) release(*p.cache, out);
  c.outstanding.clear();
  c.finished = true;
  // How many epoch reports it sent: one may still be on its way (another tag may overtake it).
  c.epochs_announced = r.done() ? c.epochs_reported : r.u();
}

void Randomizer::release(Share& share, const Outstanding& out) {
  for (std::size_t i = 0; i < out.pinned.size(); ++i) {
    // False when the slab stopped serving: the pin died with the entry (which may live elsewhere now, with
    // pins of its own that this credit must not release).
    if (share.directory) share.directory->unpin(out.pinned[i], out.servers[i]);
    --share.pins_on[out.servers[i]];
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

void Randomizer::after_messages() {
  if (retired_) return;
  start_deferred();
  // A rebalance point comes before the next batch is described: a move applies from the next one on. A
  // scripted step holds describing at its position (hold()); taken there, describing goes on past it.
  if (rebalancer_) rebalancer_->at_point();
  describe_all();
  while (rebalancer_ && rebalancer_->at_point()) describe_all();
  if (retiring_ && drained()) {
    hand_over();
    return;
  }
  report_window(false);
  if (coordinator_)
    coordinator_->tick(now_ns());
  else
    report_progress();
  if (!shutdown_sent_ && done()) send_shutdown();
}

void Randomizer::describe_all() {
  if (retiring_) return;  // draining: nothing new is described
  const std::uint64_t prefetch = static_cast<std::uint64_t>(ctx_.config.runtime.prefetch);
  const auto hold = rebalancer_ ? rebalancer_->hold() : std::nullopt;
  const Pipeline* held = hold ? lead() : nullptr;
  for (auto& p : pipelines_) {
    // Epoch fence: epoch e+1 is described once every consumer has been described all of epoch e, so an
    // epoch's figures are its own and a sample first read late in epoch e is a hit in e+1, not a re-read.
    std::uint64_t fence = p.total;
    for (const auto& c : p.consumers)
      if (!c.finished) fence = std::min(fence, (c.next_seq / p.batches_per_epoch + 1) * p.batches_per_epoch);
    if (&p == held) fence = std::min(fence, mark(p, hold->first, hold->second));
    for (auto& c : p.consumers)
      while (!c.finished && c.next_seq < std::min(p.total, fence) && c.outstanding.size() < prefetch)
        if (!describe(p, c)) break;
  }
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
      w.u(rebalancer_ ? rebalancer_->roles_sent(r) : 0).u(table_.epoch_ends_sent());
      ctx_.fabric->send(r, kShutdown, w.view());
    }
  }
  // Where randomizers may move, every other randomizer may be (or become) a transformer that waits for
  // this shutdown. It cannot know which ones will: a retirement it has not heard of yet may be under way.
  if (ctx_.monitor.may_move_randomizers(ctx_.layout.randomizers.size())) {
    for (int r : ctx_.layout.randomizers) {
      if (r == ctx_.rank) continue;
      Writer w;
      w.u(0).u(table_.epoch_ends_sent());
      ctx_.fabric->send(r, kShutdown, w.view());
    }
  }
}

void Randomizer::finish(ServeReport& report) {
  if (coordinator_) ctx_.stats_line(coordinator_->gathered().line(ctx_.rank));
  if (rebalancer_) {
    report.role_changes += rebalancer_->moves();
    rebalancer_->finish();
  }
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
    log::info("{} insert acks or give-backs arrived after their slab stopped serving (entries dropped)",
              stale_acks_);
}

}  // namespace ferry::roles
