// One-sided gets over every backend: many random slices of every rank's region in flight at once, then one
// wait_all, then an exact byte check.
#include <random>

#include "harness.hpp"

namespace ferry::transport::testing {
namespace {

constexpr Tag kRmaKeyTag = 31;

TEST_P(FabricTest, ManyGetsInFlightReturnExactBytes) {
  constexpr std::size_t kRegionBytes = 1 << 20;
  constexpr int kGetsPerOwner = 300;
  constexpr std::size_t kMaxSlice = 16 * 1024;
  const int me = fabric_->rank();
  const int ranks = fabric_->size();

  std::vector<std::byte> memory(kRegionBytes);
  fill_pattern(memory, me, -1, 0);
  Region region = fabric_->register_memory(memory.data(), memory.size());
  ASSERT_EQ(region.size(), kRegionBytes);

  // Keys travel as ordinary messages, the way the roles layer will ship them.
  for (int dst = 0; dst < ranks; ++dst) {
    if (dst != me) fabric_->send(dst, kRmaKeyTag, region.key());
  }
  std::vector<RemoteRegion> remotes(static_cast<std::size_t>(ranks));
  remotes[static_cast<std::size_t>(me)] = fabric_->attach(region.key());  // gets from oneself work too
  for (const Message& message : receive(*fabric_, static_cast<std::size_t>(ranks - 1))) {
    ASSERT_EQ(message.tag, kRmaKeyTag);
    const RemoteRegion remote = fabric_->attach(message.bytes);
    EXPECT_EQ(remote.owner, message.source);
    EXPECT_EQ(remote.size, kRegionBytes);
    EXPECT_EQ(fabric_->attach(message.bytes).slot, remote.slot) << "a key is unpacked once and cached";
    remotes[static_cast<std::size_t>(message.source)] = remote;
  }

  struct Slice {
    int owner;
    std::size_t offset;
    std::size_t bytes;
    std::size_t local;
  };
  std::mt19937_64 random(static_cast<std::uint64_t>(me) * 7919 + 1);
  std::vector<Slice> slices;
  std::size_t local_bytes = 0;
  for (int owner = 0; owner < ranks; ++owner) {
    // The edges first: first byte, last byte, the whole region; then random slices (some empty).
    slices.push_back({owner, 0, 1, 0});
    slices.push_back({owner, kRegionBytes - 1, 1, 0});
    slices.push_back({owner, 0, kRegionBytes, 0});
    for (int i = 0; i < kGetsPerOwner; ++i) {
      const std::size_t bytes = random() % (kMaxSlice + 1);
      slices.push_back({owner, random() % (kRegionBytes - bytes + 1), bytes, 0});
    }
  }
  for (Slice& slice : slices) {
    slice.local = local_bytes;
    local_bytes += slice.bytes;
  }
  std::vector<std::byte> local(local_bytes, std::byte{0x5a});
  std::vector<Request> kept;
  for (const Slice& slice : slices) {
    Request request = fabric_->get(remotes[static_cast<std::size_t>(slice.owner)], slice.offset,
                                   local.data() + slice.local, slice.bytes);
    if (kept.size() < 8) kept.push_back(std::move(request));
  }
  kept.front().wait();
  fabric_->wait_all();
  for (Request& request : kept) request.wait();  // already complete: returns at once

  for (const Slice& slice : slices) {
    const auto got = std::span<const std::byte>(local).subspan(slice.local, slice.bytes);
    ASSERT_EQ(first_mismatch(got, slice.owner, -1, 0, slice.offset), got.size())
        << "get of " << slice.bytes << " bytes at offset " << slice.offset << " from rank " << slice.owner;
  }
  // Peers may still be reading our region: unregister only after everyone is done.
  fabric_->barrier();
}

// Gets into memory registered beforehand pass its handle instead of registering per get: a batch pool
// (register_local) and a region this rank exposes (a cache server's slab, filled by its gets from send
// pools). UCX keeps them while they live; MPI registers nothing.
TEST_P(FabricTest, GetsIntoRegisteredMemoryUseItsHandle) {
  const bool ucx = GetParam() == "ucx";
  std::vector<std::byte> batch(1 << 16), heap(4096);
  const std::byte* slab_base = nullptr;
  {
    Region slab = fabric_->allocate_memory(1 << 20);  // collective
    Region local = fabric_->register_local(batch.data(), batch.size());
    const auto* base = static_cast<const std::byte*>(slab.data());
    slab_base = base;  // compared as an address only, after the region is gone
    EXPECT_EQ(fabric_->registered_destination(base + 4096, 8192), ucx);
    EXPECT_EQ(fabric_->registered_destination(base, slab.size()), ucx);
    EXPECT_FALSE(fabric_->registered_destination(base + slab.size() - 10, 11)) << "past the slab's end";
    EXPECT_EQ(fabric_->registered_destination(batch.data() + 100, 1000), ucx);
    EXPECT_FALSE(fabric_->registered_destination(heap.data(), heap.size()));
    fabric_->barrier();
    EXPECT_EQ(fabric_->registered_destination(base, 64), ucx);
  }
  EXPECT_FALSE(fabric_->registered_destination(batch.data(), 64))
      << "a destroyed local region leaves the table";
  EXPECT_FALSE(fabric_->registered_destination(slab_base, 64)) << "a destroyed exposed region leaves it too";
  fabric_->barrier();
}

}  // namespace
}  // namespace ferry::transport::testing
