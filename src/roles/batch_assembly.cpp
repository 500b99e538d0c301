#include "roles/batch_assembly.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "core/strings.hpp"
#include "ferry/error.hpp"

namespace ferry::roles {
namespace {

constexpr std::uint64_t kAlign = 64;  // every area starts on a cache line

std::uint64_t aligned(std::uint64_t bytes) {
  return (bytes + kAlign - 1) / kAlign * kAlign;
}

}  // namespace

BatchAssembly::BatchAssembly(const loader::SampleProcessor& proc, const EntryLayout& layout,
                             std::size_t slots, std::size_t capacity, transport::Fabric& fabric)
    : layout_(layout), fabric_(fabric), capacity_(capacity), staged_(slots), copies_(slots) {
  FERRY_ENFORCE(layout.fixed, "a batch pool needs fixed-size entries");
  const std::size_t fields = layout.sizes.size();
  direct_ = fields == 1 || layout.bytes >= kDirectEntryBytes;
  in_.resize(fields);
  out_.resize(fields);
  for (std::size_t f = 0; f < fields; ++f) {
    out_[f] = slot_bytes_;
    slot_bytes_ += aligned(capacity * proc.output(f).bytes());
    in_[f] = out_[f];  // no augment stage: the prepared samples are the batch
    if (proc.has_augment(f)) {
      in_[f] = slot_bytes_;
      slot_bytes_ += aligned(capacity * layout.sizes[f]);
    }
  }
  if (!direct_) {
    staging_ = slot_bytes_;
    slot_bytes_ += aligned(capacity * layout.bytes);
  }
  bytes_ = slot_bytes_ * slots;
  if (bytes_ == 0) return;
  const auto t0 = std::chrono::steady_clock::now();
  // MAP_POPULATE faults every page in now, not in the first epoch.
  void* at = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (at == MAP_FAILED)
    throw Error(str_cat("consumer batch pool: mmap of ", bytes_,
                        " bytes (runtime.prefetch x batch_size "
                        "samples) failed: ",
                        std::strerror(errno)));
  pool_ = static_cast<std::byte*>(at);
  try {
    region_ = fabric.register_local(pool_, bytes_);
  } catch (...) {
    munmap(pool_, bytes_);
    throw;
  }
  setup_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

BatchAssembly::~BatchAssembly() {
  region_ = transport::Region();  // unregistered before it is unmapped
  if (pool_ != nullptr) munmap(pool_, bytes_);
}

void BatchAssembly::begin(std::size_t slot, std::size_t n) {
  FERRY_ENFORCE(n <= capacity_, "a batch of ", n, " samples in a pool of ", capacity_, " per batch");
  staged_[slot].clear();
  copies_[slot] = {};
}

void BatchAssembly::get_hit(std::size_t slot, std::uint32_t pos, const transport::RemoteRegion& slab,
                            std::uint64_t offset, std::vector<transport::Request>& gets) {
  FERRY_ENFORCE(pos < capacity_, "hit for position ", pos, " of a batch pool of ", capacity_);
  copies_[slot].hit_bytes += layout_.bytes;
  copies_[slot].hit_copied += layout_.bytes;
  if (!direct_) {
    staged_[slot].push_back(pos);
    gets.push_back(fabric_.get(slab, offset, base(slot) + staging_ + pos * layout_.bytes, layout_.bytes));
    return;
  }
  field_at_.clear();
  for (const std::uint64_t in_entry : layout_.offsets) field_at_.push_back(offset + in_entry);
  get_fields(slot, pos, slab, field_at_, gets);
}

void BatchAssembly::get_miss(std::size_t slot, std::uint32_t pos, const transport::RemoteRegion& pool,
                             std::span<const std::uint64_t> field_at, std::vector<transport::Request>& gets) {
  FERRY_ENFORCE(pos < capacity_, "sample for position ", pos, " of a batch pool of ", capacity_);
  FERRY_ENFORCE(direct_ && field_at.size() == layout_.sizes.size(), "a send pool entry of ", layout_.bytes,
                " bytes in ", field_at.size(), " field(s) for a batch pool that takes it otherwise");
  copies_[slot].miss_bytes += layout_.bytes;
  copies_[slot].miss_copied += layout_.bytes;  // the get
  get_fields(slot, pos, pool, field_at, gets);
}

void BatchAssembly::get_fields(std::size_t slot, std::uint32_t pos, const transport::RemoteRegion& from,
                               std::span<const std::uint64_t> field_at,
                               std::vector<transport::Request>& gets) {
  for (std::size_t f = 0; f < layout_.sizes.size(); ++f) {
    const std::uint64_t size = layout_.sizes[f];
    gets.push_back(fabric_.get(from, field_at[f], prepared(slot, f) + pos * size, size));
  }
}

void BatchAssembly::put_entry(std::size_t slot, std::uint32_t pos, std::span<const std::byte> entry,
                              std::size_t skip) {
  FERRY_ENFORCE(pos < capacity_, "sample for position ", pos, " of a batch pool of ", capacity_);
  const std::uint64_t held = skip == kNoField ? 0 : layout_.sizes[skip];
  FERRY_ENFORCE(entry.size() + held == layout_.bytes, "sample entry of ", entry.size(), " bytes, expected ",
                layout_.bytes - held);
  split(slot, pos, entry.data(), skip);
  // The transport's receive wrote the message, this wrote the entry again.
  copies_[slot].miss_bytes += entry.size();
  copies_[slot].miss_copied += 2 * entry.size();
}

void BatchAssembly::finish(std::size_t slot) {
  for (const std::uint32_t pos : staged_[slot]) {
    split(slot, pos, base(slot) + staging_ + pos * layout_.bytes, kNoField);
    copies_[slot].hit_copied += layout_.bytes;
  }
  staged_[slot].clear();
}

void BatchAssembly::split(std::size_t slot, std::uint32_t pos, const std::byte* entry, std::size_t skip) {
  std::uint64_t from = 0;
  for (std::size_t f = 0; f < layout_.sizes.size(); ++f) {
    if (f == skip) continue;
    const std::uint64_t size = layout_.sizes[f];
    std::memcpy(prepared(slot, f) + pos * size, entry + from, size);
    from += size;
  }
}

}  // namespace ferry::roles
