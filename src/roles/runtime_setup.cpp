// Runtime::Impl's set-up: layout, liveness, datasets, transport, slabs and send pools. Any set-up failure
// on any rank fails every rank with the same message (gather_errors), before any data moves.
#include <unistd.h>

#include <cstring>

#include "cache/slab_allocator.hpp"
#include "core/check.hpp"
#include "core/collective_errors.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "loader/resume.hpp"
#include "roles/failure.hpp"
#include "roles/memory_setup.hpp"
#include "roles/node_memory.hpp"
#include "roles/runtime_impl.hpp"
#include "roles/send_pool.hpp"
#include "roles/setup_agreement.hpp"
#include "sampler/epoch_plan.hpp"
#include "transport/comm.hpp"
#include "transport/registry.hpp"

namespace ferry {

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
  // A directory shard does not move: R3 (an idle randomizer hands its pipelines over) is off with shards.
  if (config.runtime.directory_shards > 1 &&
      ctx.monitor.may_move_randomizers(ctx.config.runtime.randomizers)) {
    ctx.monitor.roles.randomizers = false;
    if (ctx.rank == 0)
      log::info(
          "monitor.role_randomizers is off: runtime.directory_shards = {} (a directory shard does not move)",
          config.runtime.directory_shards);
  }
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
    error = roles::tag_kind(e) + e.what();
  } catch (const std::exception& e) {
    error = roles::tag_unexpected(roles::role_name(ctx.role()), e.what());
  } catch (...) {
    error = roles::tag_unexpected(roles::role_name(ctx.role()), "unknown exception");
  }
  if (const std::string all = gather_errors(ctx.comm, error); !all.empty()) roles::throw_tagged(all);
  // Before any slab or pool memory is taken: what a node cannot hold fails every rank
  // (roles/node_memory.hpp).
  const std::string beyond = roles::cache_beyond_node(ctx, roles::send_pool_bytes(ctx));
  if (const std::string all = gather_errors(ctx.comm, beyond); !all.empty()) throw ConfigError(all);
  ctx.fabric = transport::make_fabric(ctx.config.runtime.transport, ctx.comm);
  ctx.fabric->set_buffer_budget(ctx.config.runtime.message_buffer_bytes);
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
        (role == roles::Role::randomizer && ctx.layout.describes(i, ctx.rank)) || may_transform ||
        (role == roles::Role::consumer && std::find(group.begin(), group.end(), ctx.rank) != group.end());
    if (!needed) continue;
    roles::PipelineRuntime p;
    p.index = i;
    p.processor = std::make_unique<loader::SampleProcessor>(ctx.config.pipelines[i]);
    p.entry = roles::entry_layout(*p.processor);
    p.group = p.processor->prepare_fingerprint();
    p.head_moves = ctx.config.runtime.directory_shards == 1 && roles::head_moves(*p.processor, p.entry);
    loader::check_resume_dataset(ctx.config.pipelines[i], p.processor->dataset());
    if (!group.empty()) {  // a resume position past the end fails here, on every rank, before data moves
      const auto& cfg = ctx.config.pipelines[i];
      const auto share =
          loader::share_spec(cfg, p.processor->dataset().size(), static_cast<std::uint32_t>(group.size()));
      loader::start_sequence(cfg, sampler::EpochPlan(share, 0).batches_per_consumer());
    }
    // A randomizer refuses, at set-up, an entry that cannot fit its share of a cache server.
    const std::uint64_t share = ctx.layout.slab_share(ctx.config.runtime);
    if (role == roles::Role::randomizer && ctx.layout.describes(i, ctx.rank) && p.entry.fixed &&
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
  for (const auto& p : ctx.pipelines) heads = heads || p.head_moves;
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

}  // namespace ferry
