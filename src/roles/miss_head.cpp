// A transformation rank's part of the movable augment head (docs/heterogeneous.md, "The movable head"): a
// miss list with `head` set names the batch's misses (read and prepared as always, inserted if admitted) and
// its hits (read here from their slabs, pinned by the randomizer until the consumer credits the batch). The
// head runs over every sample of the batch, and the consumer gets them all past it in one kSamples.
#include <algorithm>
#include <chrono>
#include <thread>

#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "roles/miss_batch.hpp"
#include "roles/shaped_sample.hpp"
#include "transport/wait_util.hpp"

namespace ferry::roles {

void MissPipeline::fetch(Batch& batch) {
  const auto& fetches = batch.misses.fetches;
  batch.fetched_starts.assign(1, 0);
  for (const auto& f : fetches) batch.fetched_starts.push_back(batch.fetched_starts.back() + f.bytes);
  batch.fetched.resize(batch.fetched_starts.back());
  std::vector<transport::Request> gets;
  gets.reserve(fetches.size());
  for (std::size_t j = 0; j < fetches.size(); ++j) {
    const auto& f = fetches[j];
    FERRY_ENFORCE(f.server < ctx_.slabs.size(), "rank ", ctx_.rank, " has no mapping of slab ", f.server);
    gets.push_back(ctx_.fabric->get(ctx_.slabs[f.server], f.offset,
                                    batch.fetched.data() + batch.fetched_starts[j], f.bytes));
  }
  // A get from a slab is a copy on shared memory or an RDMA read: it does not wait for the holder's CPU.
  // Still, every wait has a deadline (runtime.peer_timeout_s, 60 s without one).
  const int timeout_s = ctx_.config.runtime.peer_timeout_s > 0 ? ctx_.config.runtime.peer_timeout_s : 60;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  transport::Backoff backoff;
  for (std::size_t j = 0; j < gets.size();) {
    if (gets[j].test()) {
      ++j;
      backoff.reset();
      continue;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      // Gets still in flight may write into the batch's bytes: both are kept (late_gets_), never waited for.
      late_gets_.insert(late_gets_.end(),
                        std::make_move_iterator(gets.begin() + static_cast<std::ptrdiff_t>(j)),
                        std::make_move_iterator(gets.end()));
      late_bytes_.push_back(std::move(batch.fetched));
      throw Error(str_cat("transformation rank ", ctx_.rank, ": reading cache entry of sample ",
                          batch.misses.fetches[j].id, " from slab holder rank ",
                          ctx_.layout.slab_holders.at(batch.misses.fetches[j].server), " took over ",
                          timeout_s, " s (runtime.peer_timeout_s)"));
    }
    std::this_thread::sleep_for(backoff.next());
  }
}

void MissPipeline::run_heads(Batch& batch, std::vector<std::optional<transform::Chain>>& heads) {
  const loader::SampleProcessor& proc = *batch.pipeline->processor;
  const EntryLayout& layout = layouts_.at(batch.misses.pipeline);
  // Every sample's prepared entry, the misses' first: the head reads its fields from them.
  assemble_entries(layout, batch.fields, batch.entries, batch.starts);
  const std::uint64_t base = batch.starts.back();
  batch.entries.insert(batch.entries.end(), batch.fetched.begin(), batch.fetched.end());
  for (std::size_t j = 1; j < batch.fetched_starts.size(); ++j)
    batch.starts.push_back(base + batch.fetched_starts[j]);
  const std::size_t n = batch.starts.size() - 1;
  std::vector<std::uint64_t> ids(batch.ids);
  for (const auto& f : batch.misses.fetches) ids.push_back(f.id);
  batch.past_head.resize(proc.field_count());
  batch.past_shaped.resize(proc.field_count());
  batch.head_skipped.clear();
  std::vector<std::byte> in;
  std::vector<std::uint64_t> offsets;
  for (std::size_t f = 0; f < proc.field_count(); ++f) {
    if (!heads[f]) continue;
    in.clear();
    offsets.assign(1, 0);
    for (std::size_t j = 0; j < n; ++j) {
      const auto sample = entry_field(
          layout, {batch.entries.data() + batch.starts[j], batch.starts[j + 1] - batch.starts[j]}, f);
      in.insert(in.end(), sample.begin(), sample.end());
      offsets.push_back(in.size());
    }
    if (proc.past_head(f).variable) {  // decoded images of their own shapes
      proc.run_head(*heads[f], f, in.data(), offsets.data(), n, ids.data(), batch.past_shaped[f],
                    &batch.head_skipped);
      continue;
    }
    batch.past_head[f].resize(n * proc.past_head(f).bytes());
    proc.run_head(*heads[f], f, in.data(), proc.variable(f) ? offsets.data() : nullptr,
                  batch.past_head[f].data(), n, ids.data(), &batch.head_skipped);
  }
  // Samples the prepare stage could not take are not sent either.
  batch.head_skipped.insert(batch.head_skipped.end(), batch.fields.skipped.begin(),
                            batch.fields.skipped.end());
  std::sort(batch.head_skipped.begin(), batch.head_skipped.end());
  batch.head_skipped.erase(std::unique(batch.head_skipped.begin(), batch.head_skipped.end()),
                           batch.head_skipped.end());
}

template <typename Out>
void MissPipeline::past_head_entry(const Batch& batch, std::size_t j, std::span<const std::byte> entry,
                                   Out& out) const {
  const loader::SampleProcessor& proc = *batch.pipeline->processor;
  const EntryLayout& layout = layouts_.at(batch.misses.pipeline);
  const EntryLayout& past = head_layouts_.at(batch.misses.pipeline);
  for (std::size_t f = 0; f < past.sizes.size(); ++f) {
    if (past.shaped[f]) {  // [length][shape and bytes]
      const transform::ShapedSamples& shaped = batch.past_shaped[f];
      ByteCount length;
      encode_sample(length, shaped, j);
      out.u(length.size());
      encode_sample(out, shaped, j);
    } else if (proc.head_ops(f) > 0) {
      const std::uint64_t size = past.sizes[f];
      out.raw({batch.past_head[f].data() + j * size, size});
    } else {
      const auto bytes = entry_field(layout, entry, f);
      if (past.sizes[f] == 0) out.u(bytes.size());
      out.raw(bytes);
    }
  }
}

void MissPipeline::deliver_past_head(Batch& batch) {
  const auto t0 = std::chrono::steady_clock::now();
  const Misses& misses = batch.misses;
  const EntryLayout& layout = layouts_.at(misses.pipeline);
  const std::size_t m = misses.entries.size(), n = batch.starts.size() - 1;
  const std::vector<std::size_t>& skipped = batch.head_skipped;
  const auto positions = [&](std::size_t j) -> const std::vector<std::uint32_t>& {
    return j < m ? misses.entries[j].positions : misses.fetches[j - m].positions;
  };
  const auto entry = [&](std::size_t j) {
    return std::span<const std::byte>(batch.entries.data() + batch.starts[j],
                                      batch.starts[j + 1] - batch.starts[j]);
  };
  const std::uint64_t sent = n - skipped.size();
  out_.clear();
  encode(out_, SamplesHeader{misses.pipeline, misses.epoch, misses.batch, sent, 0, 0, skipped.size()});
  for (std::size_t j = 0, k = 0; j < n; ++j) {
    if (k < skipped.size() && skipped[k] == j) {
      ++k;
      continue;
    }
    put_positions(out_, positions(j));
    // Its length, then the entry straight into the message (a decoded image is not staged on the way).
    ByteCount length;
    past_head_entry(batch, j, entry(j), length);
    out_.u(length.size());
    past_head_entry(batch, j, entry(j), out_);
    copies_.miss_bytes += length.size();
  }
  for (const std::size_t j : skipped) put_positions(out_, positions(j));
  ctx_.fabric->send(misses.consumer, kSamples, out_.view());
  // The misses' prepared entries go to their slabs as always (a sample its head could not take is still a
  // prepared entry; one the prepare stage could not take is not).
  MissDone done;
  std::map<std::uint32_t, std::vector<std::size_t>> inserts;
  const auto& unprepared = batch.fields.skipped;
  for (std::size_t i = 0; i < m; ++i) {
    const auto& miss = misses.entries[i];
    if (std::binary_search(unprepared.begin(), unprepared.end(), i)) {
      no_entry(done, miss, layout.fixed);
      continue;
    }
    const std::uint64_t bytes = entry(i).size();
    if (layout.fixed ? miss.insert : insert_variable(ctx_.rank, miss, bytes, done))
      inserts[miss.server].push_back(i);
  }
  send_inserts(batch, inserts, [&](Writer& w, std::size_t i) {
    w.u(entry(i).size()).raw(entry(i));
    return entry(i).size();
  });
  report_.head_batches += 1;
  report_.head_samples += n;
  report_.head_fetches += misses.fetches.size();
  // The samples the head could not take (hits too); answer() adds those the prepare stage could not.
  report_.samples_skipped += batch.head_skipped.size() - batch.fields.skipped.size();
  // samples_prepared counts the misses it prepared; the hits' heads are in head_samples.
  answer(batch, done, m - batch.fields.skipped.size(), 0, nanos_since(t0));
}

}  // namespace ferry::roles
