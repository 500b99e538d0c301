// The consumer's assembly of a complete prefetch slot into the Batch the training loop gets: fixed-size
// fields are in the batch pool already (BatchAssembly), variable entries are gathered, and the augment stage
// runs (here or on the device) from the prepared samples into the batch.
#include <algorithm>
#include <cstring>
#include <utility>

#include "core/check.hpp"
#include "core/strings.hpp"
#include "loader/skipped_samples.hpp"
#include "roles/consumer_state.hpp"

namespace ferry::roles {

void ConsumerEngine::assemble(Pipe& p, Slot& s) {
  loader::SampleProcessor& proc = *p.runtime->processor;
  const auto& infos = proc.dataset().fields();
  p.plan_for(s.epoch).batch_ids(p.my_index, s.batch, s.out.ids);
  s.out.pipeline = p.config->name;
  s.out.epoch = s.epoch;
  s.out.index = s.batch;
  s.out.fields.resize(infos.size());
  s.field_out.resize(infos.size());
  s.offsets.resize(infos.size());
  std::vector<std::byte*> writable(infos.size());  // each field's batch bytes, for dropping skipped samples
  if (p.assembly) p.assembly->finish(s.index);     // hits read whole into staging go into place
  if (!s.routed) start_on_device(p, s);            // not started ahead: decide now
  bool augmented = false;
  monitor::Target augment_target = monitor::Target::cpu;
  std::uint64_t augment_ns = 0;
  const auto on_cpu = [&](auto&& augment) {  // an augment on this thread, timed for the reports
    const auto t0 = std::chrono::steady_clock::now();
    augment();
    augment_ns += static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
    augmented = true;
  };
  for (std::size_t f = 0; f < infos.size(); ++f) {
    BatchField& field = s.out.fields[f];
    field.name = infos[f].name;
    field.dtype = proc.output(f).dtype;
    const bool decode = proc.variable(f) && proc.has_augment(f);  // variable bytes, a fixed-shape output
    if (proc.variable(f)) {
      gather_variable(p, s, f, decode ? s.gathered[f] : s.field_out[f]);
      if (!decode) {
        field.data = writable[f] = s.field_out[f].data();
        field.bytes = s.field_out[f].size();
        field.offsets = s.offsets[f].data();
        field.shape = {s.n};
        continue;
      }
    }
    const auto& desc = proc.output(f);
    std::byte* out = batch_bytes(p, s, f);
    const auto run = std::find_if(s.runs.begin(), s.runs.end(), [f](const auto& r) { return r.field == f; });
    if (decode) {
      on_cpu([&] {
        proc.augment_variable(f, s.gathered[f].data(), s.offsets[f].data(), out, s.n, s.out.ids.data(),
                              s.epoch, &s.skipped);
      });
    } else if (run != s.runs.end()) {
      // Off the list first: collect() releases the ticket, and finish_all() must not see it again if
      // anything below throws.
      const DeviceRun mine = *run;
      s.runs.erase(run);
      if (collect(p, s, mine)) augment_target = monitor::Target::accelerator;
      augmented = true;
    } else if (proc.has_augment(f)) {
      // On this thread, from the prepared samples into the batch.
      const std::byte* in = prepared_samples(p, s, f);
      on_cpu([&] { proc.augment(f, in, out, s.n, s.out.ids.data(), s.epoch); });
    } else if (!p.assembly) {
      // Nothing to augment: straight into the batch (fixed entries are there already).
      gather_into(p, s, f, out);
    }
    field.shape.assign(1, s.n);
    field.shape.insert(field.shape.end(), desc.shape.begin(), desc.shape.end());
    field.data = writable[f] = out;
    field.bytes = s.n * desc.bytes();
    field.offsets = nullptr;
  }
  // Samples that did not decode (bad_samples = skip) leave the batch as LocalLoader drops them.
  FERRY_ENFORCE(s.skipped.empty() || s.placements.empty(),
                "skipped samples in a batch that came device to device");
  loader::drop_samples(s.out, s.skipped, writable, s.offsets);
  // The augment stage is one op per batch in the reports, whatever number of fields it touches.
  if (augmented)
    reporter_->recorder().op(static_cast<std::uint32_t>(p.runtime->index), 0, augment_target,
                             augment_ns + s.device_ns);
  if (ctx_.link) to_device(p, s);
  s.assembled = true;
}

void ConsumerEngine::gather_variable(Pipe& p, Slot& s, std::size_t field, std::vector<std::byte>& bytes) {
  auto& off = s.offsets[field];
  off.assign(1, 0);
  bytes.clear();
  for (std::size_t i = 0; i < s.n; ++i) {
    // No entry: a position a transformer skipped (an entry holds at least a length).
    if (!s.entries[i].empty()) {
      auto sample = entry_field(p.runtime->entry, s.entries[i], field);
      bytes.insert(bytes.end(), sample.begin(), sample.end());
    }
    off.push_back(bytes.size());
  }
}

void ConsumerEngine::gather_into(Pipe& p, Slot& s, std::size_t field, std::byte* out) {
  const std::uint64_t size = p.runtime->processor->prepared(field).bytes();
  for (std::size_t i = 0; i < s.n; ++i)
    if (!s.entries[i].empty())  // else a position a transformer skipped
      std::memcpy(out + i * size, entry_field(p.runtime->entry, s.entries[i], field).data(), size);
}

std::string ConsumerEngine::copies_json(Pipe& p) {
  if (!p.assembly) return {};
  const ConsumerCopies c = std::exchange(p.epoch_copies, {});
  return str_cat(",\"copies\":{\"hit_bytes\":", c.hit_bytes, ",\"hit_copied\":", c.hit_copied,
                 ",\"miss_bytes\":", c.miss_bytes, ",\"miss_copied\":", c.miss_copied, "}");
}

const std::byte* ConsumerEngine::prepared_samples(Pipe& p, Slot& s, std::size_t field) {
  if (p.assembly) return p.assembly->prepared(s.index, field);
  std::vector<std::byte>& gathered = s.gathered[field];
  gathered.resize(s.n * p.runtime->processor->prepared(field).bytes());
  gather_into(p, s, field, gathered.data());
  return gathered.data();
}

std::byte* ConsumerEngine::batch_bytes(Pipe& p, Slot& s, std::size_t field) {
  if (p.assembly) return p.assembly->output(s.index, field);
  s.field_out[field].resize(s.n * p.runtime->processor->output(field).bytes());
  return s.field_out[field].data();
}

}  // namespace ferry::roles
