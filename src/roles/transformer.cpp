#include "roles/transformer.hpp"

#include <chrono>
#include <cstring>

#include "core/log.hpp"
#include "core/strings.hpp"
#include "monitor/role_policy.hpp"

namespace ferry::roles {

ServiceRank::ServiceRank(Context& ctx, std::span<std::byte> slab) : RoleLoop(ctx), slab_(slab), role_(ctx.role()) {
  for (auto& p : ctx.pipelines) builders_.emplace(p.index, EntryBuilder(*p.processor));
  reporter_ = std::make_unique<StatsReporter>(ctx, !builders_.empty());
}

void ServiceRank::on_message(transport::Message& message) {
  switch (message.tag) {
    case kShutdown:
      ++shutdowns_;
      return;
    case kMisses: {
      Reader r(message.bytes);
      Misses misses;
      decode(r, misses);
      handle(misses, message.source);
      return;
    }
    case kInsert:
      store(message);
      return;
    case kJobs:
      jobs_ = monitor::decode_job_list(message.bytes);
      return;
    case kRole: {
      Reader r(message.bytes);
      RoleChange change;
      decode(r, change);
      FERRY_ENFORCE(change.rank == ctx_.rank, "role change for rank ", change.rank, " reached rank ", ctx_.rank);
      const Role next = change.role == 0 ? Role::transformer : Role::cache_server;
      log::info("rank {}: {} -> {} at epoch {} ({})", ctx_.rank, role_name(role_), role_name(next), change.epoch,
                change.why);
      role_ = next;
      ++report_.role_changes;
      return;
    }
    default:
      FERRY_ENFORCE(false, role_name(role_), " got unexpected message tag ", message.tag, " from rank ",
                    message.source);
  }
}

void ServiceRank::after_messages() {
  reporter_->report_if_due();
}

void ServiceRank::handle(const Misses& misses, int randomizer) {
  const auto start = std::chrono::steady_clock::now();
  PipelineRuntime* p = ctx_.find_pipeline(misses.pipeline);
  FERRY_ENFORCE(p, "rank ", ctx_.rank, " has no processor for pipeline ", misses.pipeline);
  const ReadCounters before = p->processor->dataset().counters();
  const double prepare_before = p->processor->timings().prepare;
  // Where the prepare stage of this batch runs: the job list's share, routed evenly. Without a device in
  // this build every placement is the CPU (the policy says no_accelerator), so the route is recorded only.
  const monitor::OpPlacement* placement = jobs_.find(misses.pipeline, 0);
  const std::uint64_t routed = routed_[misses.pipeline]++;
  const monitor::Target target = placement ? monitor::route(*placement, routed) : monitor::Target::cpu;
  ids_.clear();
  for (const auto& m : misses.entries) ids_.push_back(m.id);
  builders_.at(misses.pipeline).build(ids_, entries_, starts_);

  // One message to the consumer with every entry, and one insert message per cache server.
  out_.clear();
  encode(out_, SamplesHeader{misses.pipeline, misses.epoch, misses.batch, misses.entries.size()});
  std::map<std::uint32_t, std::vector<std::size_t>> inserts;  // slab holder index -> entry indices
  for (std::size_t i = 0; i < misses.entries.size(); ++i) {
    const auto& m = misses.entries[i];
    const std::span<const std::byte> entry(entries_.data() + starts_[i], starts_[i + 1] - starts_[i]);
    out_.u(m.positions.size());
    for (auto pos : m.positions) out_.u(pos);
    out_.u(entry.size()).raw(entry);
    if (m.insert) inserts[m.server].push_back(i);
  }
  ctx_.fabric->send(misses.consumer, kSamples, out_.view());
  for (const auto& [server, indices] : inserts) {
    insert_.clear();
    encode(insert_, InsertHeader{randomizer, p->group, indices.size()});
    for (auto i : indices) {
      const auto& m = misses.entries[i];
      insert_.u(m.id)
          .u(m.offset)
          .u(starts_[i + 1] - starts_[i])
          .raw({entries_.data() + starts_[i], starts_[i + 1] - starts_[i]});
    }
    ctx_.fabric->send(ctx_.layout.slab_holders.at(server), kInsert, insert_.view());
    report_.inserts_sent += indices.size();
  }
  const ReadCounters& after = p->processor->dataset().counters();
  const auto busy =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start);
  EpochFigures f;
  f.pipeline = misses.pipeline;
  f.epoch = misses.epoch;
  f.hdf5_reads = after.read_calls - before.read_calls;
  f.hdf5_bytes = after.bytes - before.bytes;
  f.busy_us = static_cast<std::uint64_t>(busy.count() / 1000);
  Writer w;
  encode(w, f);
  ctx_.fabric->send(randomizer, kMissDone, w.view());
  report_.samples_prepared += misses.entries.size();
  report_.hdf5_reads += f.hdf5_reads;
  report_.hdf5_bytes += f.hdf5_bytes;

  monitor::Recorder& rec = reporter_->recorder();
  rec.busy(static_cast<std::uint64_t>(busy.count()));
  rec.hdf5(misses.pipeline, f.hdf5_bytes);
  rec.moved(misses.pipeline, out_.size());
  rec.op(misses.pipeline, 0, target,
         static_cast<std::uint64_t>((p->processor->timings().prepare - prepare_before) * 1e9));
  reporter_->batch(misses.pipeline);
  reporter_->report_if_due();  // here too: a saturated rank may not leave its message loop for a while
}

void ServiceRank::store(transport::Message& message) {
  FERRY_ENFORCE(!slab_.empty(), "rank ", ctx_.rank, " (", role_name(role_), ") holds no cache slab but got an insert from rank ",
                message.source);
  Reader r(message.bytes);
  InsertHeader h;
  decode(r, h);
  Stored ack{h.group, {}};
  for (std::uint64_t i = 0; i < h.count; ++i) {
    const std::uint64_t id = r.u(), offset = r.u(), length = r.u();
    auto bytes = r.raw(length);
    FERRY_ENFORCE(offset <= slab_.size() && length <= slab_.size() - offset, "insert of ", length,
                  " bytes at ", offset, " overruns the slab of ", slab_.size(), " bytes");
    std::memcpy(slab_.data() + offset, bytes.data(), length);
    ack.ids.push_back(id);
    ++report_.entries_stored;
    report_.bytes_stored += length;
  }
  ack_.clear();
  encode(ack_, ack);
  ctx_.fabric->send(h.randomizer, kStored, ack_.view());
}

bool ServiceRank::done() const {
  return shutdowns_ >= static_cast<int>(ctx_.layout.randomizers.size());
}

void ServiceRank::finish(ServeReport& report) {
  report.role = role_name(role_);
}

}  // namespace ferry::roles
