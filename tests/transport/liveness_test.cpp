// Peer-failure detection pieces (docs/errors.md, "A lost rank"): the PeerWatch record, a Fabric wait ended
// by a loss, the ring, the process probe, and the liveness threads telling every rank of a loss. Killing and
// stopping real ranks is tested end to end in tests/tools/lose_rank.sh.
#include "transport/liveness.hpp"

#include <unistd.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <thread>

#include "ferry/error.hpp"
#include "harness.hpp"
#include "transport/peer_watch.hpp"

namespace ferry::transport::testing {
namespace {

std::vector<std::string> names(int size) {
  std::vector<std::string> out;
  for (int r = 0; r < size; ++r) out.push_back("rank " + std::to_string(r) + " (tester) on host h");
  return out;
}

int world_rank() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

int world_size() {
  int size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

// Wakes the test when its PeerWatch records a loss, as the loss wakes a Fabric.
class LossSignal {
 public:
  explicit LossSignal(PeerWatch& watch) : watch_(watch) {
    watch.on_loss([this] {
      std::lock_guard lock(mutex_);
      heard_.notify_all();
    });
  }
  // True once a loss is known, false after kPeerTimeout without one.
  bool wait() {
    std::unique_lock lock(mutex_);
    return heard_.wait_for(lock, kPeerTimeout, [this] { return watch_.lost(); });
  }

 private:
  PeerWatch& watch_;
  std::mutex mutex_;
  std::condition_variable heard_;
};

TEST(PeerWatch, FirstLossIsKeptAndThrownAsPeerLost) {
  PeerWatch watch(names(4), 1);
  EXPECT_FALSE(watch.lost());
  EXPECT_NO_THROW(watch.check());
  EXPECT_FALSE(watch.report(1, "itself", true)) << "a rank never loses itself (only report_self does)";
  EXPECT_EQ(watch.reporter(), 0);
  EXPECT_TRUE(watch.report(0, "no heartbeat", true));
  EXPECT_FALSE(watch.report(0, "again", false)) << "a loss counts once";
  EXPECT_TRUE(watch.report(3, "heard from rank 2", false));
  EXPECT_TRUE(watch.lost());
  EXPECT_EQ(watch.first_lost(), 0);
  EXPECT_EQ(watch.reporter(), 1) << "the lowest rank not lost ends the job";
  EXPECT_EQ(watch.take_untold(), std::vector<int>{0}) << "only losses found here are told to the others";
  EXPECT_TRUE(watch.take_untold().empty());
  EXPECT_FALSE(watch.taken());
  try {
    watch.check();
    ADD_FAILURE() << "check() did not throw after a loss";
  } catch (const PeerLost& e) {
    EXPECT_EQ(e.rank(), 0);
    EXPECT_STREQ(e.what(), "rank 0 (tester) on host h was lost: no heartbeat");
  }
  EXPECT_TRUE(watch.taken());
}

TEST(PeerWatch, ProbeNamesTheCause) {
  PeerWatch watch(names(3), 0);
  watch.set_probe(
      [](int rank) { return rank == 2 ? std::string("its process (pid 9) is gone") : std::string(); });
  watch.report(2, "UCX reported its endpoint failed", true);
  EXPECT_EQ(watch.text(),
            "rank 2 (tester) on host h was lost: its process (pid 9) is gone; UCX reported its "
            "endpoint failed");
}

TEST(Liveness, RingNeighbours) {
  EXPECT_TRUE(ring_neighbours(0, 1).empty());
  EXPECT_EQ(ring_neighbours(0, 2), std::vector<int>{1});
  EXPECT_EQ(ring_neighbours(1, 2), std::vector<int>{0});
  EXPECT_EQ(ring_neighbours(0, 5), (std::vector<int>{4, 1}));
  EXPECT_EQ(ring_neighbours(4, 5), (std::vector<int>{3, 0}));
}

// No fork here: a forked copy of an MPI + UCX process upsets UCX's shared-memory segments. Killed processes
// (zombies, then gone) are seen end to end in tests/tools/lose_rank.sh.
TEST(Liveness, ProcessStateSeesThisProcessAndNotAGoneOne) {
  const char mine = process_state(static_cast<int>(getpid()));
  EXPECT_TRUE(mine == 'R' || mine == 'S') << "state '" << mine << "'";
  int pid_max = 0;
  std::ifstream("/proc/sys/kernel/pid_max") >> pid_max;
  ASSERT_GT(pid_max, 0);
  EXPECT_EQ(process_state(pid_max + 1), 'X') << "a PID above pid_max cannot exist";
}

// A loss reported from another thread ends a wait that would otherwise last an hour, with PeerLost, and every
// later call throws it too.
TEST_P(FabricTest, LossEndsAWaitWithPeerLost) {
  // Every rank has connected to every other's worker first: close() below releases this rank's at once.
  MPI_Barrier(MPI_COMM_WORLD);
  auto watch = std::make_shared<PeerWatch>(names(fabric_->size()), fabric_->rank());
  fabric_->watch(watch);
  const int lost = (fabric_->rank() + 1) % fabric_->size();
  std::thread other([&] { watch->report(lost, "test loss", true); });
  EXPECT_THROW(fabric_->wait(kForever), PeerLost);
  other.join();
  EXPECT_THROW(fabric_->poll(), PeerLost);
  EXPECT_THROW(fabric_->barrier(), PeerLost);
  // close() is local after a loss: it must not wait at a barrier (a peer may never come).
  fabric_->close();
  EXPECT_TRUE(fabric_->closed());
  MPI_Barrier(MPI_COMM_WORLD);
}

// Rank 0 finds "rank size-1" lost: its liveness thread tells every other rank, each records it (without
// having found it), acknowledges to the reporter (rank 0), and nobody else is taken for lost.
TEST(Liveness, ALossReachesEveryRankAndIsAcknowledged) {
  const int rank = world_rank(), size = world_size();
  const std::vector<std::string> hosts(static_cast<std::size_t>(size), "h");
  auto watch = std::make_shared<PeerWatch>(names(size), rank);
  LossSignal signal(*watch);
  {
    Liveness liveness(MPI_COMM_WORLD, watch, std::chrono::seconds(60), hosts);
    const int lost = size - 1;
    if (rank == 0) watch->report(lost, "found by the test", true);
    if (rank != lost) {
      ASSERT_TRUE(signal.wait()) << "rank " << rank << " never heard of the loss";
      EXPECT_EQ(watch->first_lost(), lost);
      EXPECT_EQ(watch->why(lost), "found by the test");
      for (int r = 0; r < size; ++r) {
        if (r != lost) {
          EXPECT_FALSE(watch->is_lost(r)) << "rank " << r << " taken for lost";
        }
      }
    }
    if (rank == 0) {
      EXPECT_TRUE(liveness.wait_acknowledged(std::chrono::steady_clock::now() + kPeerTimeout))
          << "not every survivor acknowledged the loss";
    }
    MPI_Barrier(MPI_COMM_WORLD);
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

// A main thread stuck in one step of its role loop (scripted: it starts a step and never waits again) while
// its liveness thread beats on: that rank reports itself, and every rank hears it, naming the main thread.
TEST(Liveness, AStalledMainThreadIsReportedByItsOwnRank) {
  const int rank = world_rank(), size = world_size();
  const std::vector<std::string> hosts(static_cast<std::size_t>(size), "h");
  auto watch = std::make_shared<PeerWatch>(names(size), rank);
  LossSignal signal(*watch);
  const int stalled = size - 1;
  {
    // Heartbeats with a long timeout (no neighbour is taken for lost on a loaded machine), steps a short one.
    Liveness liveness(MPI_COMM_WORLD, watch, std::chrono::seconds(60), hosts);
    liveness.set_step_timeout(std::chrono::milliseconds(200));
    // Only the stalled rank starts a step: a rank that ended its step on the next line could still be found
    // in it by its liveness thread, were it descheduled for 200 ms between the two (a loaded machine).
    if (rank == stalled) watch->step_started();
    ASSERT_TRUE(signal.wait()) << "rank " << rank << " never heard of the stalled main thread";
    EXPECT_EQ(watch->first_lost(), stalled);
    EXPECT_NE(watch->why(stalled).find("its main thread has been in one step"), std::string::npos)
        << watch->why(stalled);
    for (int r = 0; r < size; ++r) {
      if (r != stalled) {
        EXPECT_FALSE(watch->is_lost(r)) << "rank " << r << " taken for lost";
      }
    }
    watch->step_ended();
    EXPECT_THROW(watch->check(), PeerLost);  // taken: the liveness thread leaves the process alone
    MPI_Barrier(MPI_COMM_WORLD);
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

}  // namespace
}  // namespace ferry::transport::testing
