#include "ferry/local_loader.hpp"

#include <algorithm>
#include <cstring>
#include <optional>

#include "loader/resume.hpp"
#include "loader/sample_processor.hpp"
#include "loader/skipped_samples.hpp"
#include "sampler/epoch_plan.hpp"

namespace ferry {
struct LocalLoader::Impl {
  loader::SampleProcessor processor;
  sampler::ShareSpec share;
  std::uint32_t consumer;
  std::optional<sampler::EpochPlan> plan;
  std::uint64_t epoch = 0, batch = 0;
  std::uint64_t first_epoch = 0;  // the epoch it started in: every later one begins with a dataset check
  LocalCounters counters;

  Batch current;
  std::vector<std::uint64_t> sorted;                // the batch's distinct IDs, ascending (what HDF5 reads)
  std::vector<std::size_t> slot;                    // delivery position -> index in `sorted`
  std::vector<std::vector<std::byte>> out;          // per field: the batch's bytes
  std::vector<std::vector<std::uint64_t>> offsets;  // per variable field
  std::vector<std::byte> prepared, gathered;
  std::vector<std::byte> vlen_bytes;
  std::vector<std::uint64_t> vlen_sizes;
  std::vector<std::uint64_t> sorted_offsets;  // byte offset of each distinct ID's sample in vlen_bytes
  loader::SampleProcessor::Skipped skipped;   // of one field's read (indices into `sorted`)
  std::vector<std::size_t> dropped;           // the batch's positions skipped (bad_samples = skip)
  std::vector<std::byte*> writable;           // per field: out[f].data()

  Impl(const PipelineConfig& config, std::uint32_t consumer_index, std::uint32_t consumers)
      : processor(config), consumer(consumer_index) {
    if (consumers == 0 || consumer_index >= consumers)
      throw ConfigError("LocalLoader: consumer " + std::to_string(consumer_index) + " of " +
                        std::to_string(consumers) + " does not exist");
    share = loader::share_spec(config, processor.dataset().size(), consumers);
    loader::check_resume_dataset(config, processor.dataset());
    current.pipeline = config.name;
    const auto& infos = processor.dataset().fields();
    out.resize(infos.size());
    offsets.resize(infos.size());
    current.fields.resize(infos.size());
    for (std::size_t i = 0; i < infos.size(); ++i) {
      current.fields[i].name = infos[i].name;
      current.fields[i].dtype = processor.output(i).dtype;
      if (!processor.output(i).variable) out[i].resize(config.batch_size * processor.output(i).bytes());
    }
    const std::uint64_t per_epoch = plan_for(0).batches_per_consumer();
    const std::uint64_t start = loader::start_sequence(config, per_epoch);
    epoch = per_epoch ? start / per_epoch : 0;
    batch = per_epoch ? start % per_epoch : 0;
    first_epoch = epoch;
  }

  const sampler::EpochPlan& plan_for(std::uint64_t e) {
    if (!plan || plan->epoch() != e) plan.emplace(share, e);
    return *plan;
  }

  void fill_field(std::size_t f, const std::vector<std::uint64_t>& ids) {
    BatchField& field = current.fields[f];
    const std::size_t n = ids.size();
    if (processor.variable(f)) {
      vlen_bytes.clear();
      vlen_sizes.clear();
      processor.dataset().read_vlen(f, sorted, vlen_bytes, vlen_sizes);
      sorted_offsets.assign(sorted.size() + 1, 0);
      for (std::size_t i = 0; i < sorted.size(); ++i)
        sorted_offsets[i + 1] = sorted_offsets[i] + vlen_sizes[i];
      auto& off = offsets[f];
      off.assign(n + 1, 0);
      for (std::size_t i = 0; i < n; ++i) off[i + 1] = off[i] + vlen_sizes[slot[i]];
      // Delivery order; an augment chain that decodes reads it from `gathered` and fills the batch.
      const bool decode = processor.has_augment(f);
      std::vector<std::byte>& bytes = decode ? gathered : out[f];
      bytes.resize(off[n]);
      for (std::size_t i = 0; i < n; ++i)
        std::memcpy(bytes.data() + off[i], vlen_bytes.data() + sorted_offsets[slot[i]], vlen_sizes[slot[i]]);
      if (decode) {
        processor.augment_variable(f, gathered.data(), off.data(), out[f].data(), n, ids.data(), epoch,
                                   &dropped);
        set_fixed(f, n);
        return;
      }
      field.data = out[f].data();
      field.bytes = off[n];
      field.offsets = off.data();
      field.shape = {n};
      return;
    }
    const std::size_t pb = processor.prepared(f).bytes();
    if (prepared.size() < sorted.size() * pb) prepared.resize(sorted.size() * pb);
    skipped.clear();
    processor.read_prepared(f, sorted, prepared.data(), &skipped);
    loader::positions_of(skipped, slot, dropped);
    // Gather into delivery order, then augment per (seed, epoch, ID).
    std::byte* target = out[f].data();
    std::byte* gather_to = processor.has_augment(f) ? (gathered.resize(n * pb), gathered.data()) : target;
    for (std::size_t i = 0; i < n; ++i) std::memcpy(gather_to + i * pb, prepared.data() + slot[i] * pb, pb);
    if (processor.has_augment(f)) processor.augment(f, gathered.data(), target, n, ids.data(), epoch);
    set_fixed(f, n);
  }

  // Field f of the batch: n fixed-size samples in out[f].
  void set_fixed(std::size_t f, std::size_t n) {
    BatchField& field = current.fields[f];
    const auto& desc = processor.output(f);
    field.shape.assign(1, n);
    field.shape.insert(field.shape.end(), desc.shape.begin(), desc.shape.end());
    field.data = out[f].data();
    field.bytes = n * desc.bytes();
    field.offsets = nullptr;
  }

  const Batch* next() {
    const auto& cfg = processor.config();
    while (epoch < static_cast<std::uint64_t>(cfg.epochs) &&
           batch >= plan_for(epoch).batches_per_consumer()) {
      ++epoch;
      batch = 0;
    }
    if (epoch >= static_cast<std::uint64_t>(cfg.epochs)) return nullptr;
    if (batch == 0 && epoch > first_epoch) loader::check_dataset_unchanged(cfg, processor.dataset(), epoch);
    const auto& p = plan_for(epoch);
    p.batch_ids(consumer, batch, current.ids);
    sorted = current.ids;
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    slot.resize(current.ids.size());
    for (std::size_t i = 0; i < current.ids.size(); ++i)
      slot[i] = static_cast<std::size_t>(std::lower_bound(sorted.begin(), sorted.end(), current.ids[i]) -
                                         sorted.begin());
    dropped.clear();
    for (std::size_t f = 0; f < current.fields.size(); ++f) fill_field(f, current.ids);
    writable.clear();
    for (auto& bytes : out) writable.push_back(bytes.data());
    counters.skipped += loader::drop_samples(current, dropped, writable, offsets);
    current.epoch = epoch;
    current.index = batch;
    ++batch;
    ++counters.batches;
    counters.samples += current.ids.size();
    counters.hdf5_reads = processor.dataset().counters().read_calls;
    counters.hdf5_bytes = processor.dataset().counters().bytes;
    counters.read_seconds = processor.timings().read;
    counters.prepare_seconds = processor.timings().prepare;
    counters.augment_seconds = processor.timings().augment;
    return &current;
  }
};

LocalLoader::LocalLoader(const PipelineConfig& config, std::uint32_t consumer, std::uint32_t consumers)
    : impl_(std::make_unique<Impl>(config, consumer, consumers)) {}
LocalLoader::~LocalLoader() = default;
LocalLoader::LocalLoader(LocalLoader&&) noexcept = default;
LocalLoader& LocalLoader::operator=(LocalLoader&&) noexcept = default;

const Batch* LocalLoader::next_batch() {
  return impl_->next();
}
std::uint64_t LocalLoader::dataset_size() const noexcept {
  return impl_->share.samples;
}
std::uint64_t LocalLoader::batches_per_epoch() const noexcept {
  return impl_->plan_for(impl_->epoch).batches_per_consumer();
}
std::uint64_t LocalLoader::epoch() const noexcept {
  return impl_->epoch;
}
std::uint64_t LocalLoader::batch_in_epoch() const noexcept {
  return impl_->batch;
}
const LocalCounters& LocalLoader::counters() const noexcept {
  return impl_->counters;
}

std::string LocalLoader::state() const {
  const std::uint64_t per_epoch = impl_->plan_for(0).batches_per_consumer();
  return loader::format_state(impl_->processor.config(), impl_->epoch * per_epoch + impl_->batch, per_epoch,
                              impl_->processor.dataset());
}

void LocalLoader::seek(std::uint64_t epoch, std::uint64_t batch) {
  impl_->epoch = epoch;
  impl_->batch = batch;
}

}  // namespace ferry
