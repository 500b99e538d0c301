// ferry::Runtime: serve() for service ranks, loaders for consumers, and the collective shutdown. Set-up is
// in runtime_setup.cpp and device_link_setup.cpp (Runtime::Impl, roles/runtime_impl.hpp).
#include "ferry/runtime.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <thread>

#include "core/log.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "roles/failure.hpp"
#include "roles/randomizer.hpp"
#include "roles/runtime_impl.hpp"
#include "roles/service_rank.hpp"

namespace ferry {
namespace {

// A retired randomizer's report: time and control bytes added to its transformer days', the cache figures
// of its randomizer days.
void add_former_randomizer(ServeReport& after, const ServeReport& report) {
  after.role_changes += report.role_changes;
  after.wall_seconds += report.wall_seconds;
  after.cpu_seconds += report.cpu_seconds;
  after.idle_wall_seconds += report.idle_wall_seconds;
  after.idle_cpu_seconds += report.idle_cpu_seconds;
  after.control_bytes += report.control_bytes;
  after.samples_described = report.samples_described;
  after.miss_lists_sent = report.miss_lists_sent;
  after.miss_lists_off_node = report.miss_lists_off_node;
  after.cache_hits = report.cache_hits;
  after.cache_misses = report.cache_misses;
  after.cache_admitted = report.cache_admitted;
  after.cache_declined = report.cache_declined;
  after.cache_evictions = report.cache_evictions;
  after.cache_peak_bytes = report.cache_peak_bytes;
  after.cache_capacity = report.cache_capacity;
  after.cache_dropped = report.cache_dropped;
  after.inserts_peak_bytes = report.inserts_peak_bytes;
  after.inserts_backlog_peak_bytes = report.inserts_backlog_peak_bytes;
  after.inserts_held = report.inserts_held;
}

// The stats file's line of a service rank's report.
std::string serve_line(int rank, const ServeReport& report) {
  return str_cat("{\"kind\":\"serve\",\"rank\":", rank, ",\"role\":\"", report.role, "\",\"initial_role\":\"",
                 report.initial_role, "\",\"role_changes\":", report.role_changes,
                 ",\"wall_seconds\":", report.wall_seconds, ",\"cpu_seconds\":", report.cpu_seconds,
                 ",\"idle_wall_seconds\":", report.idle_wall_seconds,
                 ",\"idle_cpu_seconds\":", report.idle_cpu_seconds, ",\"hdf5_reads\":", report.hdf5_reads,
                 ",\"hdf5_bytes\":", report.hdf5_bytes, ",\"samples_prepared\":", report.samples_prepared,
                 ",\"samples_skipped\":", report.samples_skipped, ",\"head_batches\":", report.head_batches,
                 ",\"head_samples\":", report.head_samples, ",\"head_fetches\":", report.head_fetches,
                 ",\"entries_stored\":", report.entries_stored, ",\"cache_hits\":", report.cache_hits,
                 ",\"cache_evictions\":", report.cache_evictions, ",\"cache_dropped\":", report.cache_dropped,
                 ",\"cache_peak_bytes\":", report.cache_peak_bytes,
                 ",\"cache_capacity\":", report.cache_capacity,
                 ",\"cache_servers_serving\":", report.cache_servers_serving,
                 ",\"inserts_peak_bytes\":", report.inserts_peak_bytes,
                 ",\"inserts_backlog_peak_bytes\":", report.inserts_backlog_peak_bytes,
                 ",\"inserts_held\":", report.inserts_held, ",\"control_bytes\":", report.control_bytes,
                 ",\"miss_lists_sent\":", report.miss_lists_sent,
                 ",\"miss_lists_off_node\":", report.miss_lists_off_node, "}");
}

}  // namespace

Runtime::Impl::~Impl() {
  const bool failing = std::uncaught_exceptions() > 0;
  const bool lost = watch && watch->lost();
  if (consumer) {
    // A consumer ended by another rank's abort says nothing: repeating it under its own name would let ranks
    // that hear it first blame this consumer instead of the rank that failed. Nor does one that saw a peer
    // lost: every rank knows that already.
    if (failing && !lost && !consumer->remote_failure())
      ctx.broadcast_abort(str_cat("rank ", ctx.rank, " (consumer) failed and left the job"));
    consumer->finish_all(failing);
  }
  consumer.reset();
  if (!failing && !lost) {
    try {
      roles::write_rank_totals(ctx, clock);
    } catch (const std::exception& e) {  // a stats line is not worth a terminate in a destructor
      log::warn("rank totals not written: {}", e.what());
    }
  }
  try {
    // Unregister (collective on MPI) before the fabric closes. After a loss nothing collective can finish:
    // the region is left to the process's end, and close() is local.
    if (lost) {
      region.leak();
      pool.leak();
    } else {
      region = transport::Region();
      pool = transport::Region();
    }
    if (ctx.fabric) ctx.fabric->close();
  } catch (const std::exception& e) {
    log::error("shutting the transport down failed: {}", e.what());
  }
  release();
}

void Runtime::Impl::release() noexcept {
  ctx.fabric.reset();
  liveness.reset();  // after the last collective step: a neighbour still in it hears a goodbye, not silence
  ctx.link.reset();
  if (link_comm != MPI_COMM_NULL) MPI_Comm_free(&link_comm);
  if (consumer_comm != MPI_COMM_NULL) MPI_Comm_free(&consumer_comm);
  if (ctx.comm != MPI_COMM_NULL) MPI_Comm_free(&ctx.comm);
}

Runtime::Runtime(MPI_Comm comm, const Config& config) : Runtime(comm, config, false) {}
Runtime::Runtime(MPI_Comm comm, const Config& config, bool serve_only)
    : impl_(std::make_unique<Impl>(comm, config, serve_only)) {}
Runtime::~Runtime() = default;

bool Runtime::is_consumer() const noexcept {
  return impl_->ctx.role() == roles::Role::consumer;
}
std::string Runtime::role() const {
  return roles::role_name(impl_->ctx.role());
}
int Runtime::rank() const noexcept {
  return impl_->ctx.rank;
}
MPI_Comm Runtime::consumer_comm() const noexcept {
  return impl_->consumer_comm;
}
int Runtime::consumer_index() const noexcept {
  return is_consumer() ? impl_->ctx.layout.index_of(impl_->ctx.rank) : -1;
}
std::string Runtime::layout() const {
  return impl_->ctx.layout.describe();
}

ServeReport Runtime::serve() {
  auto& ctx = impl_->ctx;
  if (is_consumer())
    throw Error(
        str_cat("Runtime::serve() called on rank ", ctx.rank, ", a consumer: consumers call loader()"));
  if (impl_->served) throw Error("Runtime::serve() called twice");
  impl_->served = true;
  std::unique_ptr<roles::RoleLoop> role;
  try {
    switch (ctx.role()) {
      case roles::Role::randomizer:
        role = std::make_unique<roles::Randomizer>(ctx);
        break;
      case roles::Role::transformer:
      case roles::Role::cache_server:
        role = std::make_unique<roles::ServiceRank>(ctx, impl_->slab);
        break;
      case roles::Role::consumer:
        break;
    }
  } catch (const std::exception& e) {  // Error, or a worker thread that could not start
    const std::string named = str_cat("rank ", ctx.rank, " (", roles::role_name(ctx.role()), "): ", e.what());
    ctx.broadcast_abort(named, roles::kind_of(e));
    throw roles::RemoteFailure(named, roles::kind_of(e));
  } catch (...) {
    const std::string named =
        str_cat("rank ", ctx.rank, " (", roles::role_name(ctx.role()), "): unknown exception");
    ctx.broadcast_abort(named, roles::ErrorKind::internal);
    throw roles::RemoteFailure(named, roles::ErrorKind::internal);
  }
  ServeReport report = role->run();
  if (auto* randomizer = dynamic_cast<roles::Randomizer*>(role.get()); randomizer && randomizer->retired()) {
    // R3: its pipelines went to the heir; this rank transforms until every randomizer is done. Its report
    // covers both: time and control bytes added up, the cache figures of its randomizer days.
    const roles::FormerRandomizer former{randomizer->heir(), 1 + randomizer->shutdowns_seen()};
    role.reset();
    try {
      role = std::make_unique<roles::ServiceRank>(ctx, impl_->slab, former);
    } catch (const std::exception& e) {  // Error, or a worker thread that could not start
      const std::string named = str_cat("rank ", ctx.rank, " (transformer, was randomizer): ", e.what());
      ctx.broadcast_abort(named, roles::kind_of(e));
      throw roles::RemoteFailure(named, roles::kind_of(e));
    }
    ServeReport after = role->run();
    add_former_randomizer(after, report);
    report = std::move(after);
  }
  ctx.stats_line(serve_line(ctx.rank, report));
  return report;
}

Loader& Runtime::loader(std::string_view pipeline) {
  if (!impl_->consumer)
    throw Error(str_cat("Runtime::loader() called on rank ", impl_->ctx.rank, ", a ", role(),
                        ": service ranks call serve()"));
  return impl_->consumer->loader(pipeline);
}

void Runtime::abort(const std::string& why) {
  auto& ctx = impl_->ctx;
  const std::string text =
      str_cat("rank ", ctx.rank, " (", roles::role_name(ctx.role()), ") aborted the job: ", why);
  std::fprintf(stderr, "ferry: %s\n", text.c_str());
  std::fflush(stderr);
  ctx.broadcast_abort(text);
  MPI_Abort(ctx.comm, 1);
  std::abort();  // MPI_Abort does not return; keep the promise if an MPI does
}

bool Runtime::peer_lost() const noexcept {
  return impl_->watch && impl_->watch->lost();
}

void Runtime::end_after_loss() {
  impl_->end_after_loss();
}

void Runtime::Impl::end_after_loss() {
  const auto start = std::chrono::steady_clock::now();
  // Bounded: the reporter waits for acknowledgements at most this long, the others for its MPI_Abort.
  constexpr auto kAcknowledge = std::chrono::seconds(5);
  constexpr auto kBeEnded = std::chrono::seconds(8);
  while (watch && std::chrono::steady_clock::now() - start < kBeEnded) {
    if (watch->reporter() == ctx.rank) {
      if (liveness) liveness->wait_acknowledged(start + kAcknowledge);
      MPI_Abort(ctx.comm, 1);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::fflush(nullptr);
  std::_Exit(1);
}

std::vector<std::string> Runtime::pipelines() const {
  return impl_->consumer ? impl_->consumer->names() : std::vector<std::string>{};
}

}  // namespace ferry
