// Runtime::Impl: what a rank holds from set-up to shutdown. Set-up is in runtime_setup.cpp and
// device_link_setup.cpp, serve(), loaders and shutdown in runtime.cpp.
#pragma once

#include <memory>
#include <span>

#include "ferry/runtime.hpp"
#include "roles/consumer.hpp"
#include "roles/context.hpp"
#include "roles/rank_totals.hpp"
#include "roles/setup_deadline.hpp"
#include "transport/liveness.hpp"

namespace ferry {

struct Runtime::Impl {
  roles::RankClock clock;  // first: starts before any set-up step
  roles::Context ctx;
  MPI_Comm consumer_comm = MPI_COMM_NULL;
  std::span<std::byte> slab;
  transport::Region region;
  transport::Region pool;  // this rank's send pool (roles/send_pool.hpp)
  std::unique_ptr<roles::ConsumerEngine> consumer;
  bool served = false;

  Impl(MPI_Comm comm, const Config& config, bool serve_only);
  ~Impl();
  MPI_Comm link_comm = MPI_COMM_NULL;  // the device link's members (runtime.device_batches)
  std::shared_ptr<transport::PeerWatch> watch;
  std::unique_ptr<transport::Liveness> liveness;  // runtime.peer_timeout_s > 0
  std::unique_ptr<roles::SetupDeadline>
      deadline;  // until the liveness thread runs (roles/setup_deadline.hpp)

  void setup_local();
  void start_watch();
  void setup_watched(bool is_consumer);                // the set-up steps after start_watch()
  [[noreturn]] void end_after_loss();                  // Runtime::end_after_loss
  void set_up(const Config& config, bool serve_only);  // the constructor's steps after MPI_Comm_dup
  void release() noexcept;  // the transport, the liveness thread, the communicators
  void exchange_slabs();
  void open_link();
};

}  // namespace ferry
