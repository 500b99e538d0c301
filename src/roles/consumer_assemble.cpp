// The consumer's assembly of a complete prefetch slot into the Batch the training loop gets: fixed-size
// fields are in the batch pool already (BatchAssembly), variable entries are gathered, and the augment stage
// runs (here or on the device) from the prepared samples into the batch.
#include <algorithm>
#include <cstring>
#include <utility>

#include "core/check.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "loader/skipped_samples.hpp"
#include "roles/consumer_state.hpp"
#include "roles/shaped_sample.hpp"

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
  std::uint64_t augment_ns = 0, head_ns = 0;
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
    if (s.past_head) {
      past_head_field(p, s, f, field, writable[f], augment_ns);
      augmented = augmented || proc.has_augment(f);
      continue;
    }
    const bool decode = proc.variable(f) && proc.has_augment(f);  // variable bytes, a fixed-shape output
    if (proc.variable(f)) {
      gather_variable(s, p.runtime->entry, f, decode ? s.gathered[f] : s.field_out[f]);
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
      on_cpu([&] { augment_on_cpu(p, s, f, s.gathered[f].data(), s.offsets[f].data(), out, head_ns); });
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
      on_cpu([&] { augment_on_cpu(p, s, f, in, nullptr, out, head_ns); });
    } else if (!p.assembly) {
      // Nothing to augment: straight into the batch (fixed entries are there already).
      gather_into(s, p.runtime->entry, f, out);
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
  const auto pipeline = static_cast<std::uint32_t>(p.runtime->index);
  if (augmented) reporter_->recorder().op(pipeline, 0, augment_target, augment_ns + s.device_ns);
  // Its head, op 1 of the consumer's report: ran here (it is part of the augment time above too), or on a
  // transformer (the batch came past it: "accelerator" in the head's terms).
  if (s.past_head)
    reporter_->recorder().op(pipeline, 1, monitor::Target::accelerator, 0);
  else if (augmented && !p.heads.empty() && augment_target == monitor::Target::cpu)
    reporter_->recorder().op(pipeline, 1, monitor::Target::cpu, head_ns);
  if (ctx_.link) to_device(p, s);
  s.assembled = true;
}

void ConsumerEngine::augment_on_cpu(Pipe& p, Slot& s, std::size_t field, const std::byte* in,
                                    const std::uint64_t* offsets, std::byte* out, std::uint64_t& head_ns) {
  loader::SampleProcessor& proc = *p.runtime->processor;
  const std::uint64_t* ids = s.out.ids.data();
  if (field >= p.heads.size() || !p.heads[field] || proc.head_timed(field)) {
    if (offsets)
      proc.augment_variable(field, in, offsets, out, s.n, ids, s.epoch, &s.skipped, &head_ns);
    else
      proc.augment(field, in, out, s.n, ids, s.epoch);
    return;
  }
  std::vector<std::byte>& mid = s.past_head_bytes[field];
  mid.resize(s.n * proc.past_head(field).bytes());
  const auto t0 = std::chrono::steady_clock::now();
  proc.run_head(*p.heads[field], field, in, offsets, mid.data(), s.n, ids, &s.skipped);
  head_ns += static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
  proc.augment_rest(field, mid.data(), out, s.n, ids, s.epoch);
}

void ConsumerEngine::gather_variable(Slot& s, const EntryLayout& layout, std::size_t field,
                                     std::vector<std::byte>& bytes) {
  auto& off = s.offsets[field];
  off.assign(1, 0);
  bytes.clear();
  for (std::size_t i = 0; i < s.n; ++i) {
    // No entry: a position a transformer skipped (an entry holds at least a length).
    if (!s.entries[i].empty()) {
      auto sample = entry_field(layout, s.entries[i], field);
      bytes.insert(bytes.end(), sample.begin(), sample.end());
    }
    off.push_back(bytes.size());
  }
}

void ConsumerEngine::gather_into(Slot& s, const EntryLayout& layout, std::size_t field, std::byte* out) {
  const std::uint64_t size = layout.sizes[field];
  for (std::size_t i = 0; i < s.n; ++i)
    if (!s.entries[i].empty())  // else a position a transformer skipped
      std::memcpy(out + i * size, entry_field(layout, s.entries[i], field).data(), size);
}

void ConsumerEngine::past_head_field(Pipe& p, Slot& s, std::size_t f, BatchField& out, std::byte*& writable,
                                     std::uint64_t& ns) {
  loader::SampleProcessor& proc = *p.runtime->processor;
  const EntryLayout& layout = p.past_layout;
  if (layout.sizes[f] == 0 && !layout.shaped[f]) {  // variable, no augment stage: its bytes as delivered
    FERRY_ENFORCE(!proc.has_augment(f), "pipeline '", p.config->name, "': field ", f,
                  " arrives past its head as variable bytes but has an augment stage");
    gather_variable(s, layout, f, s.field_out[f]);
    out.data = writable = s.field_out[f].data();
    out.bytes = s.field_out[f].size();
    out.offsets = s.offsets[f].data();
    out.shape = {s.n};
    return;
  }
  std::vector<std::byte>& in = s.past_head_bytes[f];
  if (layout.shaped[f]) {
    gather_shaped(p, s, f);
  } else {
    in.assign(s.n * layout.sizes[f], std::byte{0});  // a skipped position stays zeros until it is dropped
    gather_into(s, layout, f, in.data());
  }
  std::byte* bytes = batch_bytes(p, s, f);
  const auto t0 = std::chrono::steady_clock::now();
  if (layout.shaped[f])
    proc.augment_rest(f, s.shaped_refs, bytes, s.out.ids.data(), s.epoch);
  else if (proc.head_ops(f) > 0)
    proc.augment_rest(f, in.data(), bytes, s.n, s.out.ids.data(), s.epoch);
  else
    proc.augment(f, in.data(), bytes, s.n, s.out.ids.data(), s.epoch);  // copies without an augment stage
  ns += static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
  const auto& desc = proc.output(f);
  out.shape.assign(1, s.n);
  out.shape.insert(out.shape.end(), desc.shape.begin(), desc.shape.end());
  out.data = writable = bytes;
  out.bytes = s.n * desc.bytes();
  out.offsets = nullptr;
}

void ConsumerEngine::gather_shaped(Pipe& p, Slot& s, std::size_t field) {
  const transform::TensorDesc& desc = p.runtime->processor->past_head(field);
  const std::size_t rank = desc.shape.size();
  s.shaped_refs.resize(s.n);
  s.shaped_dims.resize(s.n * rank);  // sized before any ref points into it
  // No "rank R (consumer): " before it: the line's printer adds rank and role (a text that starts with a rank
  // reads as another rank's failure, which that rank reports).
  const std::string who =
      str_cat("pipeline '", p.config->name, "', field '",
              p.runtime->processor->dataset().fields()[field].name, "', epoch ", s.epoch, " batch ", s.batch);
  // A position its transformer skipped gets one zeroed sample of every varying dimension 1, dropped with it.
  transform::TensorDesc stand_in = desc;
  stand_in.variable = false;
  for (auto& d : stand_in.shape) d = d == 0 ? 1 : d;
  s.stand_in.assign(stand_in.bytes(), std::byte{0});
  for (std::size_t i = 0; i < s.n; ++i) {
    std::size_t* dims = s.shaped_dims.data() + i * rank;
    if (s.entries[i].empty()) {
      std::copy(stand_in.shape.begin(), stand_in.shape.end(), dims);
      s.shaped_refs[i] = {s.stand_in.data(), s.stand_in.size(), dims};
      continue;
    }
    std::span<const std::byte> bytes;
    try {
      bytes = entry_field(p.past_layout, s.entries[i], field);
    } catch (const Error& e) {
      throw InternalError(str_cat(who, ": an entry past its augment head is malformed: ", e.what()));
    }
    const ShapedSample one = read_shaped(bytes, desc, who);
    std::copy(one.shape.begin(), one.shape.end(), dims);
    s.shaped_refs[i] = {one.bytes.data(), one.bytes.size(), dims};
  }
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
  gather_into(s, p.runtime->entry, field, gathered.data());
  return gathered.data();
}

std::byte* ConsumerEngine::batch_bytes(Pipe& p, Slot& s, std::size_t field) {
  if (p.assembly) return p.assembly->output(s.index, field);
  s.field_out[field].resize(s.n * p.runtime->processor->output(field).bytes());
  return s.field_out[field].data();
}

}  // namespace ferry::roles
