// ferry_finalize after an early stop, over UCX, at 5 ranks (1 randomizer, 1 cache server, 1 transformer, 2
// consumers): the consumers stop in epoch 1, where the batches they prefetched are cache hits fetched with
// one-sided gets into the runtime's buffers. Every such get must be seen complete before its Request is
// dropped, or the buffer it writes into can be freed under it (the crash docs/capi.md used to list).
//
// On one node a UCX get into a UCP_MEM_MAP_ALLOCATE slab completes at once, so the bug hid behind timing.
// The "ucx" backend is replaced here by a thin wrapper whose gets report completion only to wait(), as a
// get over a network would when its owner has not waited yet: a Request dropped unwaited is counted,
// whatever the timing. With runtime.prefetch = 16 the descriptors of the batches after the stop (hits, so
// gets) have nearly always been dispatched by then (a late one makes the test pass, never fail wrongly);
// without the wait in ConsumerEngine::finish_all it failed 12 runs of 12, 4 of them beside a busy loop.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdint>
#include <memory>

#include "ferry/ferry.h"
#include "transport/fabric.hpp"
#include "transport/registry.hpp"
#include "transport/ucx/ucx_fabric.hpp"

namespace ferry::test {
namespace {

using transport::Fabric;
using transport::Message;
using transport::Region;
using transport::RemoteRegion;
using transport::Request;
using transport::Tag;

struct GetTally {
  std::uint64_t issued = 0;
  std::uint64_t dropped_unwaited = 0;  // Requests destroyed before their owner saw them complete
};
GetTally g_tally;

// A get that tells its owner it is complete only through wait(); the real UCX get underneath runs as usual.
class OwnerSeenGet final : public transport::detail::Operation {
 public:
  explicit OwnerSeenGet(Request inner) : inner_(std::move(inner)) { ++g_tally.issued; }
  ~OwnerSeenGet() override {
    if (!seen_) ++g_tally.dropped_unwaited;
  }
  bool test() override { return seen_; }
  void wait() override {
    inner_.wait();
    seen_ = true;
  }

 private:
  Request inner_;
  bool seen_ = false;
};

// The UCX fabric with OwnerSeenGet gets; everything else is passed through.
class OwnerSeenGetsFabric final : public Fabric {
 public:
  explicit OwnerSeenGetsFabric(std::unique_ptr<Fabric> inner)
      : Fabric("ucx", inner->rank(), inner->size()), inner_(std::move(inner)) {}
  ~OwnerSeenGetsFabric() override { close_noexcept(); }

 protected:
  Request do_send(int peer, Tag tag, std::span<const std::byte> bytes, bool copy) override {
    if (!copy) return inner_->send_nb(peer, tag, bytes);
    inner_->send(peer, tag, bytes);
    return Request{};
  }
  std::optional<Message> do_poll() override { return inner_->poll(); }
  std::optional<Message> do_wait(std::chrono::microseconds timeout) override { return inner_->wait(timeout); }
  Region do_register(void* data, std::size_t bytes) override { return inner_->register_memory(data, bytes); }
  Region do_allocate(std::size_t bytes) override { return inner_->allocate_memory(bytes); }
  RemoteRegion do_attach(std::span<const std::byte> key) override { return inner_->attach(key); }
  Request do_get(const RemoteRegion& from, std::size_t offset, void* dst, std::size_t bytes) override {
    return Request(std::make_shared<OwnerSeenGet>(inner_->get(from, offset, dst, bytes)));
  }
  void do_wait_all() override { inner_->wait_all(); }
  void do_progress() override { inner_->progress(); }
  void do_barrier() override { inner_->barrier(); }
  void do_close() override { inner_->close(); }
  void do_wake() noexcept override { inner_->wake(); }

 private:
  std::unique_ptr<Fabric> inner_;
};

TEST(CapiEarlyStop, PrefetchedGetsAreCompletedBeforeFinalizeFreesTheirBuffers) {
  transport::register_backend("ucx", [](MPI_Comm comm) {
    return std::make_unique<OwnerSeenGetsFabric>(transport::ucx::make_fabric(comm));
  });
  g_tally = GetTally{};
  constexpr int kTaken =
      100;  // epoch 1 of 2 (78 batches per epoch per consumer): prefetched batches are hits
  int consumer = 0, taken = 0;
  std::uint64_t last_epoch = 0;
  ferry_runtime* rt = nullptr;
  ASSERT_EQ(ferry_init(MPI_COMM_WORLD, FERRY_EARLY_STOP_JOB, nullptr, &rt), FERRY_OK) << ferry_last_error();
  ASSERT_EQ(ferry_is_consumer(rt, &consumer), FERRY_OK);
  if (consumer) {
    for (; taken < kTaken; ++taken) {
      const ferry_batch* batch = nullptr;
      ASSERT_EQ(ferry_next_batch(rt, nullptr, &batch), FERRY_OK) << ferry_last_error();
      last_epoch = batch->epoch;
    }
  } else {
    ASSERT_EQ(ferry_serve(rt), FERRY_OK) << ferry_last_error();
  }
  EXPECT_EQ(ferry_finalize(rt), FERRY_OK);
  transport::register_backend("ucx", [](MPI_Comm comm) { return transport::ucx::make_fabric(comm); });

  if (consumer) {
    EXPECT_EQ(taken, kTaken);
    EXPECT_EQ(last_epoch, 1u);
    EXPECT_GT(g_tally.issued, 0u) << "no cache hit was read: the test did not reach the path it guards";
    EXPECT_EQ(g_tally.dropped_unwaited, 0u) << "of " << g_tally.issued << " gets";
  } else {
    EXPECT_EQ(g_tally.issued, 0u);
  }
}

}  // namespace
}  // namespace ferry::test
