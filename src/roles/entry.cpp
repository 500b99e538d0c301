#include "roles/entry.hpp"

#include <cstring>

#include "ferry/error.hpp"

namespace ferry::roles {

EntryLayout entry_layout(const loader::SampleProcessor& processor) {
  EntryLayout layout;
  for (std::size_t f = 0; f < processor.field_count(); ++f) {
    const bool variable = processor.variable(f);
    layout.fixed = layout.fixed && !variable;
    layout.offsets.push_back(layout.bytes);
    layout.sizes.push_back(variable ? 0 : processor.prepared(f).bytes());
    layout.bytes += layout.sizes.back();
  }
  if (!layout.fixed) layout.bytes = 0;
  return layout;
}

EntryBuilder::EntryBuilder(loader::SampleProcessor& processor)
    : processor_(processor),
      layout_(entry_layout(processor)),
      field_bytes_(processor.field_count()),
      vlen_sizes_(processor.field_count()) {}

void EntryBuilder::build(std::span<const std::uint64_t> ids, std::vector<std::byte>& out,
                         std::vector<std::uint64_t>& starts) {
  const std::size_t n = ids.size();
  const std::size_t fields = layout_.sizes.size();
  for (std::size_t f = 0; f < fields; ++f) {
    if (processor_.variable(f)) {
      field_bytes_[f].clear();
      vlen_sizes_[f].clear();
      processor_.dataset().read_vlen(f, ids, field_bytes_[f], vlen_sizes_[f]);
    } else {
      field_bytes_[f].resize(n * layout_.sizes[f]);
      processor_.read_prepared(f, ids, field_bytes_[f].data());
    }
  }
  out.clear();
  starts.assign(1, 0);
  if (layout_.fixed) {
    out.resize(n * layout_.bytes);
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t f = 0; f < fields; ++f)
        std::memcpy(out.data() + i * layout_.bytes + layout_.offsets[f],
                    field_bytes_[f].data() + i * layout_.sizes[f], layout_.sizes[f]);
      starts.push_back((i + 1) * layout_.bytes);
    }
    return;
  }
  Writer w(n * 64);
  std::vector<std::uint64_t> vlen_pos(fields, 0);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t f = 0; f < fields; ++f) {
      if (processor_.variable(f)) {
        const std::uint64_t len = vlen_sizes_[f][i];
        w.u(len).raw({field_bytes_[f].data() + vlen_pos[f], len});
        vlen_pos[f] += len;
      } else {
        w.raw({field_bytes_[f].data() + i * layout_.sizes[f], layout_.sizes[f]});
      }
    }
    starts.push_back(w.size());
  }
  out = w.take();
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
