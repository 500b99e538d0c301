#include "roles/entry.hpp"

#include <algorithm>
#include <cstring>

#include "ferry/error.hpp"

namespace ferry::roles {

EntryLayout entry_layout(const loader::SampleProcessor& processor, bool past_head) {
  EntryLayout layout;
  for (std::size_t f = 0; f < processor.field_count(); ++f) {
    const transform::TensorDesc& sample = past_head ? processor.past_head(f) : processor.prepared(f);
    const bool variable = sample.variable;
    layout.fixed = layout.fixed && !variable;
    layout.offsets.push_back(layout.bytes);
    layout.sizes.push_back(variable ? 0 : sample.bytes());
    layout.shaped.push_back(past_head && variable && processor.head_ops(f) > 0);
    layout.bytes += layout.sizes.back();
  }
  if (!layout.fixed) layout.bytes = 0;
  return layout;
}

bool head_moves(const loader::SampleProcessor& processor, const EntryLayout& entry) {
  return processor.head_movable() && !entry.fixed;
}

void read_fields(loader::SampleProcessor& processor, std::span<const std::uint64_t> ids,
                 BatchFields& fields) {
  const std::size_t count = processor.field_count();
  fields.n = ids.size();
  fields.skipped.clear();
  fields.raw.resize(count);
  fields.prepared.resize(count);
  fields.vlen_sizes.resize(count);
  for (std::size_t f = 0; f < count; ++f) {
    if (processor.raw_variable(f)) {
      // Variable after prepare: straight into prepared; decoded by prepare: into raw.
      auto& into = processor.variable(f) ? fields.prepared[f] : fields.raw[f];
      into.clear();
      fields.vlen_sizes[f].clear();
      processor.dataset().read_vlen(f, ids, into, fields.vlen_sizes[f]);
    } else {
      fields.raw[f].resize(ids.size() * processor.raw(f).bytes());
      processor.read_raw(f, ids, fields.raw[f].data());
    }
  }
}

std::uint64_t fixed_read_bytes(const loader::SampleProcessor& processor, std::size_t n) {
  std::uint64_t bytes = 0;
  for (std::size_t f = 0; f < processor.field_count(); ++f)
    if (!processor.raw_variable(f)) bytes += n * processor.raw(f).bytes();
  return bytes;
}

std::uint64_t variable_read_bytes(const loader::SampleProcessor& processor, const BatchFields& fields) {
  std::uint64_t bytes = 0;
  for (std::size_t f = 0; f < processor.field_count(); ++f)
    if (processor.raw_variable(f))
      bytes += (processor.variable(f) ? fields.prepared[f] : fields.raw[f]).size();
  return bytes;
}

void prepare_fields(const loader::SampleProcessor& processor,
                    std::vector<std::optional<transform::Chain>>& chains, std::span<const std::uint64_t> ids,
                    BatchFields& fields) {
  for (std::size_t f = 0; f < processor.field_count(); ++f) {
    if (processor.variable(f)) continue;
    std::byte* into = f < fields.into.size() ? fields.into[f] : nullptr;
    if (!chains[f]) {
      if (into)
        std::memcpy(into, fields.raw[f].data(), fields.n * processor.prepared(f).bytes());
      else
        std::swap(fields.prepared[f], fields.raw[f]);
      continue;
    }
    if (!into) {
      fields.prepared[f].resize(fields.n * processor.prepared(f).bytes());
      into = fields.prepared[f].data();
    }
    if (processor.raw_variable(f)) {
      processor.prepare_variable(*chains[f], f, fields.raw[f].data(), fields.vlen_sizes[f], ids, into,
                                 &fields.skipped);
      continue;
    }
    // Prepare is deterministic: seed and epoch do not enter it.
    chains[f]->run(fields.raw[f].data(), into, fields.n, ids.data(), processor.config().seed, 0);
  }
  std::sort(fields.skipped.begin(), fields.skipped.end());
  fields.skipped.erase(std::unique(fields.skipped.begin(), fields.skipped.end()), fields.skipped.end());
}

void assemble_entries(const EntryLayout& layout, const BatchFields& fields, std::vector<std::byte>& out,
                      std::vector<std::uint64_t>& starts) {
  const std::size_t n = fields.n, count = layout.sizes.size();
  out.clear();
  starts.assign(1, 0);
  if (layout.fixed) {
    out.resize(n * layout.bytes);
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t f = 0; f < count; ++f)
        std::memcpy(out.data() + i * layout.bytes + layout.offsets[f],
                    fields.prepared[f].data() + i * layout.sizes[f], layout.sizes[f]);
      starts.push_back((i + 1) * layout.bytes);
    }
    return;
  }
  Writer w(n * 64);
  std::vector<std::uint64_t> vlen_pos(count, 0);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t f = 0; f < count; ++f) {
      if (layout.sizes[f] == 0) {
        const std::uint64_t len = fields.vlen_sizes[f][i];
        w.u(len).raw({fields.prepared[f].data() + vlen_pos[f], len});
        vlen_pos[f] += len;
      } else {
        w.raw({fields.prepared[f].data() + i * layout.sizes[f], layout.sizes[f]});
      }
    }
    starts.push_back(w.size());
  }
  out = w.take();
}

std::uint64_t write_entry(const EntryLayout& layout, const BatchFields& fields, std::size_t i,
                          std::size_t skip, std::byte* out) {
  std::uint64_t written = 0;
  for (std::size_t f = 0; f < layout.sizes.size(); ++f) {
    if (f == skip) continue;
    const std::uint64_t size = layout.sizes[f];
    std::memcpy(out + written, fields.prepared[f].data() + i * size, size);
    written += size;
  }
  return written;
}

std::uint64_t write_entry(const EntryLayout& layout, const BatchFields& fields, std::size_t i,
                          std::size_t skip, Writer& w) {
  const std::uint64_t left_out = skip < layout.sizes.size() ? layout.sizes[skip] : 0;
  return write_entry(layout, fields, i, skip, w.grow(layout.bytes - left_out));
}

std::span<const std::byte> entry_field(const EntryLayout& layout, std::span<const std::byte> entry,
                                       std::size_t field) {
  if (layout.fixed) return entry.subspan(layout.offsets[field], layout.sizes[field]);
  Reader r(entry);
  for (std::size_t f = 0;; ++f) {
    const std::uint64_t len = layout.sizes[f] ? layout.sizes[f] : r.u();
    auto bytes = r.raw(len);
    if (f == field) return bytes;
  }
}

}  // namespace ferry::roles
