// ferry::Runtime: set-up (layout, transport, slabs, processors), serve() for service ranks, loaders for
// consumers, and the collective shutdown. Any set-up failure on any rank fails every rank with the same
// message (gather_errors), before any data moves.
#include "ferry/runtime.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <set>
#include <thread>

#include "cache/slab_allocator.hpp"
#include "core/check.hpp"
#include "core/collective_errors.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "loader/resume.hpp"
#include "roles/consumer.hpp"
#include "roles/context.hpp"
#include "roles/memory_setup.hpp"
#include "roles/node_memory.hpp"
#include "roles/randomizer.hpp"
#include "roles/rank_totals.hpp"
#include "roles/send_pool.hpp"
#include "roles/service_rank.hpp"
#include "roles/setup_agreement.hpp"
#include "roles/setup_deadline.hpp"
#include "sampler/epoch_plan.hpp"
#include "transform/peer_link.hpp"
#include "transform/target.hpp"
#include "transport/comm.hpp"
#include "transport/liveness.hpp"
#include "transport/registry.hpp"

namespace ferry {
namespace {

// Set-up errors travel between ranks as text; a kind letter before kKindMark keeps their kind, so every
// rank throws the type the failing rank threw (when all failures agree; ConfigError otherwise).
constexpr char kKindMark = '\x1f';

std::string tag_kind(const std::exception& e) {
  return std::string{static_cast<char>(roles::kind_of(e)), kKindMark};
}

// Any other exception out of Ferry's own code (an .at() out of range, a std::bad_alloc) is reported as an
// InternalError that names the rank's role; the gathered text names the rank.
std::string tag_unexpected(roles::Role role, const char* what) {
  return std::string{static_cast<char>(roles::ErrorKind::internal), kKindMark} +
         str_cat(roles::role_name(role), " set-up: ", what);
}

[[noreturn]] void throw_tagged(const std::string& gathered) {
  std::string text;
  char kind = 0;
  bool mixed = false;
  for (std::size_t i = 0; i < gathered.size(); ++i) {
    if (i + 1 < gathered.size() && gathered[i + 1] == kKindMark) {
      mixed = mixed || (kind != 0 && kind != gathered[i]);
      kind = gathered[i];
      ++i;  // drop the tag and its mark
      continue;
    }
    text += gathered[i];
  }
  roles::throw_kind(mixed || kind == 0 ? roles::ErrorKind::config : roles::kind_from(kind), text);
}

}  // namespace

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

Runtime::Impl::Impl(MPI_Comm comm, const Config& config, bool serve_only)
    : deadline(std::make_unique<roles::SetupDeadline>(config.runtime.setup_timeout_s, comm)) {
  // First, on the caller's communicator: the same step a program that could not read its config joins
  // (roles/setup_agreement.hpp), so both sides of an MPMD job run the same collectives from the start.
  deadline->step("the config agreement (the set-up's first collective)");
  roles::agree_on_setup(comm, &config, {});
  deadline->step("MPI_Comm_dup of the set-up");
  FERRY_CHECK_MPI(MPI_Comm_dup(comm, &ctx.comm));
  try {
    set_up(config, serve_only);
  } catch (...) {
    release();  // ~Impl does not run for a constructor that throws
    throw;
  }
}

void Runtime::Impl::set_up(const Config& config, bool serve_only) {
  // Errors come back as codes on every communicator Ferry makes, so they end in one message, not an abort
  // inside MPI (the ones split from it inherit this).
  FERRY_CHECK_MPI(MPI_Comm_set_errhandler(ctx.comm, MPI_ERRORS_RETURN));
  FERRY_CHECK_MPI(MPI_Comm_rank(ctx.comm, &ctx.rank));
  ctx.config = config;
  log::init(ctx.rank, config.log_level);
  ctx.monitor = monitor::settings_from(ctx.config.monitor);
  deadline->step("the layout's collectives of the set-up");
  ctx.layout =
      roles::compute_layout(ctx.comm, ctx.config, serve_only);  // same result or same error everywhere
  const bool is_consumer = ctx.role() == roles::Role::consumer;
  deadline->step("the consumer communicator's split of the set-up");
  FERRY_CHECK_MPI(MPI_Comm_split(ctx.comm, is_consumer ? 0 : MPI_UNDEFINED, ctx.rank, &consumer_comm));

  // From here on a lost rank is found (transport/liveness.hpp): opening the datasets may take long, and a
  // rank that dies or stops in it would leave the others waiting in the next collective.
  deadline->step("the host names and the liveness thread's address exchange of the set-up");
  start_watch();
  deadline.reset();
  try {
    setup_watched(is_consumer);
  } catch (...) {
    // A loss found during set-up (it may surface as an MPI or transport error too) ends the job as any loss
    // does, rather than unwinding into an MPI_Finalize that would wait for the lost rank.
    if (watch && watch->lost()) end_after_loss();
    throw;
  }
}

void Runtime::Impl::setup_watched(bool is_consumer) {
  std::string error;
  try {
    setup_local();
  } catch (const Error& e) {
    error = tag_kind(e) + e.what();
  } catch (const std::exception& e) {
    error = tag_unexpected(ctx.role(), e.what());
  } catch (...) {
    error = tag_unexpected(ctx.role(), "unknown exception");
  }
  if (const std::string all = gather_errors(ctx.comm, error); !all.empty()) throw_tagged(all);
  // Before any slab or pool memory is taken: what a node cannot hold fails every rank
  // (roles/node_memory.hpp).
  const std::string beyond = roles::cache_beyond_node(ctx, roles::send_pool_bytes(ctx));
  if (const std::string all = gather_errors(ctx.comm, beyond); !all.empty()) throw ConfigError(all);
  ctx.fabric = transport::make_fabric(ctx.config.runtime.transport, ctx.comm);
  ctx.fabric->watch(watch);
  exchange_slabs();
  open_link();
  if (is_consumer) consumer = std::make_unique<roles::ConsumerEngine>(ctx);
  if (ctx.rank == 0) log::info("layout: {}", ctx.layout.describe());
  clock.setup_done();
}

void Runtime::Impl::setup_local() {
  // Every rank opens the pipelines it works on: randomizers theirs (sizes, entry bytes, fingerprints),
  // transformers all of them, consumers the ones of their groups (augment chains, shapes).
  // With role rebalancing a cache server may become a transformer: it opens them all too.
  const roles::Role role = ctx.role();
  // Where R3 may move randomizers, every randomizer opens them all too: one may retire and transform, and
  // the coordinator's takes over the pipelines of any other.
  const bool may_transform = ctx.may_transform();
  for (std::size_t i = 0; i < ctx.config.pipelines.size(); ++i) {
    const auto& group = ctx.layout.groups[i];
    const bool needed =
        (role == roles::Role::randomizer && ctx.layout.randomizer_of[i] == ctx.rank) || may_transform ||
        (role == roles::Role::consumer && std::find(group.begin(), group.end(), ctx.rank) != group.end());
    if (!needed) continue;
    roles::PipelineRuntime p;
    p.index = i;
    p.processor = std::make_unique<loader::SampleProcessor>(ctx.config.pipelines[i]);
    p.entry = roles::entry_layout(*p.processor);
    p.group = p.processor->prepare_fingerprint();
    loader::check_resume_dataset(ctx.config.pipelines[i], p.processor->dataset());
    if (!group.empty()) {  // a resume position past the end fails here, on every rank, before data moves
      const auto& cfg = ctx.config.pipelines[i];
      const auto share =
          loader::share_spec(cfg, p.processor->dataset().size(), static_cast<std::uint32_t>(group.size()));
      loader::start_sequence(cfg, sampler::EpochPlan(share, 0).batches_per_consumer());
    }
    // A randomizer refuses, at set-up, an entry that cannot fit its share of a cache server.
    const std::uint64_t share = ctx.layout.slab_share(ctx.config.runtime);
    if (role == roles::Role::randomizer && ctx.layout.randomizer_of[i] == ctx.rank && p.entry.fixed &&
        !ctx.layout.cache_servers.empty() && share >= cache::SlabAllocator::kAlignment &&
        cache::SlabAllocator::reserved_size(p.entry.bytes) > share)
      throw ConfigError(str_cat("pipeline '", ctx.config.pipelines[i].name, "': a cache entry of ",
                                p.entry.bytes, " bytes does not fit a cache server's share of ", share,
                                " bytes (raise runtime.cache_bytes)"));
    ctx.pipelines.push_back(std::move(p));
  }
}

void Runtime::Impl::start_watch() {
  // Collective. Names every rank as messages about it will ("rank R (ROLE) on host H"), then starts the
  // liveness thread (transport/liveness.hpp) unless runtime.peer_timeout_s is 0.
  int size = 0;
  FERRY_CHECK_MPI(MPI_Comm_size(ctx.comm, &size));
  constexpr std::size_t kHost = 256;
  std::string host(kHost, '\0');
  if (gethostname(host.data(), kHost - 1) != 0) host = "unknown";
  host.resize(kHost, '\0');
  std::vector<char> all(kHost * static_cast<std::size_t>(size));
  FERRY_CHECK_MPI(MPI_Allgather(host.data(), static_cast<int>(kHost), MPI_CHAR, all.data(),
                                static_cast<int>(kHost), MPI_CHAR, ctx.comm));
  std::vector<std::string> hosts, names;
  for (int r = 0; r < size; ++r) {
    const char* at = all.data() + kHost * static_cast<std::size_t>(r);
    hosts.emplace_back(at, strnlen(at, kHost));
    names.push_back(str_cat("rank ", r, " (", roles::role_name(ctx.layout.role[static_cast<std::size_t>(r)]),
                            ") on host ", hosts.back()));
  }
  watch = std::make_shared<transport::PeerWatch>(std::move(names), ctx.rank);
  const int timeout = ctx.config.runtime.peer_timeout_s;
  if (timeout > 0)
    liveness = std::make_unique<transport::Liveness>(ctx.comm, watch, std::chrono::seconds(timeout), hosts);
}

void Runtime::Impl::exchange_slabs() {
  // Collective: every rank registers (cache servers their slab, the others nothing), then the packed keys
  // travel to every rank by MPI (bootstrap, apart from the data path).
  // The transport allocates the slab, so that a get can be a plain copy on shared memory (no server CPU).
  // Slab holders: the cache servers, and with role rebalancing the transformers too (MPI windows are
  // collective, so a slab cannot appear later; docs/heterogeneous.md).
  const std::uint64_t bytes = ctx.layout.slab_index(ctx.rank) >= 0 ? ctx.config.runtime.cache_bytes : 0;
  region = ctx.fabric->allocate_memory(bytes);
  slab = {static_cast<std::byte*>(region.data()), region.size()};
  roles::prefault_own_slab(ctx, region);  // before any peer maps it (docs/runtime.md, "Memory set-up")
  const transport::GatheredBytes keys = transport::allgather_bytes(ctx.comm, region.key());
  // Consumers read their hits from the slabs, and so does a rank that may transform when some pipeline's
  // augment head may run there: it reads the hits of a batch past its head (docs/heterogeneous.md, "The
  // movable head").
  bool heads = false;
  for (const auto& p : ctx.pipelines) heads = heads || roles::head_moves(*p.processor, p.entry);
  const bool reads = ctx.role() == roles::Role::consumer || (heads && ctx.may_transform());
  for (int server : ctx.layout.slab_holders) {
    if (!reads) break;
    ctx.slabs.push_back(ctx.fabric->attach(keys.of(server)));
  }
  if (ctx.role() == roles::Role::consumer)
    roles::prefault_mappings(ctx, ctx.slabs, "mappings of the cache slabs");
  pool = roles::set_up_send_pools(ctx);  // collective, like the slabs
  // No rank goes on until every consumer has attached every slab. Without this, a holder whose job ends at
  // once (no batch to serve, or told of another rank's failure) unmapped its slab while a consumer still
  // attached it: UCX's shmat failed (EINVAL) and ucp_ep_rkey_unpack's error path crashed in uct_rkey_release.
  // From here on nobody opens a slab by name, so any shared-memory file behind it loses its name: nothing
  // outlives the job.
  ctx.fabric->barrier();
  region.drop_name();
  pool.drop_name();
}

void Runtime::Impl::open_link() {
  // Collective. With runtime.device_batches every consumer joins the device link on its current device (and
  // must be able to), and so does every service rank that may prepare and sees a GPU that no consumer or
  // earlier service rank of the link has (NCCL refuses one GPU twice in a communicator, and service ranks
  // see device 0 of their node, which is often a consumer's). The others send through host memory.
  if (!ctx.config.runtime.device_batches) return;
  const roles::Role role = ctx.role();
  const bool is_consumer = role == roles::Role::consumer;
  const bool may_transform =
      role == roles::Role::transformer || (role == roles::Role::cache_server && ctx.monitor.rebalance);
  const int ordinal = is_consumer ? transform::cuda_current_device() : 0;
  std::string why, error;
  bool candidate = false;
  if (is_consumer) {
    candidate = true;
    if (!transform::peer_link_possible(ordinal, &why))
      error = str_cat(
          "runtime.device_batches = true, but the consumer cannot receive batches in device "
          "memory: ",
          why);
  } else if (may_transform && ctx.config.runtime.accelerator == "auto") {
    candidate = transform::peer_link_possible(0, &why);
    if (!candidate)
      log::info("rank {}: prepared samples go to consumers through host memory: {}", ctx.rank, why);
  }
  if (const std::string all = gather_errors(ctx.comm, error); !all.empty()) throw ConfigError(all);

  // Every rank decides every rank's membership from the same gathered identities.
  int size = 0;
  FERRY_CHECK_MPI(MPI_Comm_size(ctx.comm, &size));
  constexpr std::size_t kIdentity = 160;
  std::string identity = candidate ? transform::device_identity(ordinal) : std::string();
  identity.resize(kIdentity, '\0');
  std::vector<char> identities(kIdentity * static_cast<std::size_t>(size));
  FERRY_CHECK_MPI(MPI_Allgather(identity.data(), static_cast<int>(kIdentity), MPI_CHAR, identities.data(),
                                static_cast<int>(kIdentity), MPI_CHAR, ctx.comm));
  std::vector<int> candidates(static_cast<std::size_t>(size));
  const int mine_candidate = candidate ? 1 : 0;
  FERRY_CHECK_MPI(MPI_Allgather(&mine_candidate, 1, MPI_INT, candidates.data(), 1, MPI_INT, ctx.comm));
  const auto identity_of = [&](int r) {
    const char* at = identities.data() + kIdentity * static_cast<std::size_t>(r);
    return std::string(at, strnlen(at, kIdentity));
  };
  std::vector<bool> member(static_cast<std::size_t>(size), false);
  std::map<std::string, int> holder;  // GPU identity -> the member that has it
  for (const bool consumers : {true, false}) {
    for (int r = 0; r < size; ++r) {
      const bool consumer_rank = ctx.layout.role[static_cast<std::size_t>(r)] == roles::Role::consumer;
      if (!candidates[static_cast<std::size_t>(r)] || consumer_rank != consumers) continue;
      const std::string id = identity_of(r);
      const auto taken = id.empty() ? holder.end() : holder.find(id);
      if (taken == holder.end()) {
        member[static_cast<std::size_t>(r)] = true;
        if (!id.empty()) holder.emplace(id, r);
      } else if (consumers) {
        error = str_cat("runtime.device_batches: consumers ", taken->second, " and ", r, " use one GPU (", id,
                        "); the device link needs a GPU per consumer");
      } else if (r == ctx.rank) {
        log::info("rank {}: shares its GPU ({}) with rank {}: prepared samples go through host memory", r, id,
                  taken->second);
      }
    }
  }
  if (!error.empty()) throw ConfigError(error);  // every rank found the same
  const bool joins = member[static_cast<std::size_t>(ctx.rank)];
  FERRY_CHECK_MPI(MPI_Comm_split(ctx.comm, joins ? 0 : MPI_UNDEFINED, ctx.rank, &link_comm));
  // Members are numbered in rank order (split key); service members send to every consumer.
  ctx.link_member.assign(static_cast<std::size_t>(size), -1);
  int next = 0;
  for (int r = 0; r < size; ++r)
    if (member[static_cast<std::size_t>(r)]) ctx.link_member[static_cast<std::size_t>(r)] = next++;
  transform::LinkPeers peers;
  for (int r = 0; r < size && joins; ++r) {
    if (!member[static_cast<std::size_t>(r)] || r == ctx.rank) continue;
    const bool consumer_rank = ctx.layout.role[static_cast<std::size_t>(r)] == roles::Role::consumer;
    if (is_consumer && !consumer_rank)
      peers.receives_from.push_back(ctx.link_member[static_cast<std::size_t>(r)]);
    if (!is_consumer && consumer_rank) peers.sends_to.push_back(ctx.link_member[static_cast<std::size_t>(r)]);
  }
  if (joins) {
    try {
      ctx.link = transform::open_peer_link(link_comm, ordinal, peers);
    } catch (const Error& e) {
      error = tag_kind(e) + str_cat("could not open the device link: ", e.what());
    } catch (const std::exception& e) {
      error = str_cat("could not open the device link: ", e.what());
    } catch (...) {
      error = "could not open the device link: unknown exception";
    }
  }
  if (const std::string all = gather_errors(ctx.comm, error); !all.empty()) throw_tagged(all);
  if (ctx.link) log::debug("rank {}: device link {}", ctx.rank, ctx.link->name());
}

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
    report = std::move(after);
  }
  ctx.stats_line(str_cat(
      "{\"kind\":\"serve\",\"rank\":", ctx.rank, ",\"role\":\"", report.role, "\",\"initial_role\":\"",
      report.initial_role, "\",\"role_changes\":", report.role_changes,
      ",\"wall_seconds\":", report.wall_seconds, ",\"cpu_seconds\":", report.cpu_seconds,
      ",\"idle_wall_seconds\":", report.idle_wall_seconds, ",\"idle_cpu_seconds\":", report.idle_cpu_seconds,
      ",\"hdf5_reads\":", report.hdf5_reads, ",\"hdf5_bytes\":", report.hdf5_bytes,
      ",\"samples_prepared\":", report.samples_prepared, ",\"samples_skipped\":", report.samples_skipped,
      ",\"head_batches\":", report.head_batches, ",\"head_samples\":", report.head_samples,
      ",\"head_fetches\":", report.head_fetches, ",\"entries_stored\":", report.entries_stored,
      ",\"cache_hits\":", report.cache_hits, ",\"cache_evictions\":", report.cache_evictions,
      ",\"cache_dropped\":", report.cache_dropped, ",\"cache_peak_bytes\":", report.cache_peak_bytes,
      ",\"cache_capacity\":", report.cache_capacity,
      ",\"cache_servers_serving\":", report.cache_servers_serving,
      ",\"control_bytes\":", report.control_bytes, ",\"miss_lists_sent\":", report.miss_lists_sent,
      ",\"miss_lists_off_node\":", report.miss_lists_off_node, "}"));
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
