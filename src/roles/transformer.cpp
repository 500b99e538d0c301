#include "roles/transformer.hpp"

#include <chrono>
#include <cstring>

#include "core/strings.hpp"

namespace ferry::roles {

Transformer::Transformer(Context& ctx) : RoleLoop(ctx) {
  for (auto& p : ctx.pipelines) builders_.emplace(p.index, EntryBuilder(*p.processor));
}

void Transformer::on_message(transport::Message& message) {
  if (message.tag == kShutdown) {
    ++shutdowns_;
    return;
  }
  FERRY_ENFORCE(message.tag == kMisses, "transformer got unexpected message tag ", message.tag, " from rank ",
                message.source);
  Reader r(message.bytes);
  Misses misses;
  decode(r, misses);
  handle(misses, message.source);
}

void Transformer::handle(const Misses& misses, int randomizer) {
  const auto start = std::chrono::steady_clock::now();
  PipelineRuntime* p = ctx_.find_pipeline(misses.pipeline);
  FERRY_ENFORCE(p, "transformer has no processor for pipeline ", misses.pipeline);
  const ReadCounters before = p->processor->dataset().counters();
  ids_.clear();
  for (const auto& m : misses.entries) ids_.push_back(m.id);
  builders_.at(misses.pipeline).build(ids_, entries_, starts_);

  // One message to the consumer with every entry, and one insert message per cache server.
  out_.clear();
  encode(out_, SamplesHeader{misses.pipeline, misses.epoch, misses.batch, misses.entries.size()});
  std::map<std::uint32_t, std::vector<std::size_t>> inserts;  // server index -> entry indices
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
    ctx_.fabric->send(ctx_.layout.cache_servers.at(server), kInsert, insert_.view());
    report_.inserts_sent += indices.size();
  }
  const ReadCounters& after = p->processor->dataset().counters();
  const auto busy =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
  EpochFigures f;
  f.pipeline = misses.pipeline;
  f.epoch = misses.epoch;
  f.hdf5_reads = after.read_calls - before.read_calls;
  f.hdf5_bytes = after.bytes - before.bytes;
  f.busy_us = static_cast<std::uint64_t>(busy.count());
  Writer w;
  encode(w, f);
  ctx_.fabric->send(randomizer, kMissDone, w.view());
  report_.samples_prepared += misses.entries.size();
  report_.hdf5_reads += f.hdf5_reads;
  report_.hdf5_bytes += f.hdf5_bytes;
}

bool Transformer::done() const {
  return shutdowns_ >= static_cast<int>(ctx_.layout.randomizers.size());
}

CacheServer::CacheServer(Context& ctx, std::span<std::byte> slab) : RoleLoop(ctx), slab_(slab) {}

void CacheServer::on_message(transport::Message& message) {
  if (message.tag == kShutdown) {
    ++shutdowns_;
    return;
  }
  FERRY_ENFORCE(message.tag == kInsert, "cache server got unexpected message tag ", message.tag,
                " from rank ", message.source);
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

bool CacheServer::done() const {
  return shutdowns_ >= static_cast<int>(ctx_.layout.randomizers.size());
}

}  // namespace ferry::roles
