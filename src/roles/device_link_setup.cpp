// Runtime::Impl::open_link: the device link (runtime.device_batches) that carries batches prepared on a
// GPU to the consumers' GPUs with NCCL. Collective; every rank decides every rank's membership from the same
// gathered device identities.
#include <cstring>
#include <map>

#include "core/check.hpp"
#include "core/collective_errors.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "roles/failure.hpp"
#include "roles/runtime_impl.hpp"
#include "transform/peer_link.hpp"
#include "transform/target.hpp"

namespace ferry {

namespace {

// Which ranks join the device link: every candidate consumer, then every candidate service rank whose GPU
// no member has yet. Every rank decides every rank's membership from the same gathered identities, so a
// refusal (two consumers on one GPU) is the same on every rank.
std::vector<bool> link_members(const roles::Context& ctx, bool candidate, int ordinal) {
  std::string error;
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
  return member;
}

}  // namespace

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

  const std::vector<bool> member = link_members(ctx, candidate, ordinal);
  const int size = static_cast<int>(member.size());
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
      error = roles::tag_kind(e) + str_cat("could not open the device link: ", e.what());
    } catch (const std::exception& e) {
      error = str_cat("could not open the device link: ", e.what());
    } catch (...) {
      error = "could not open the device link: unknown exception";
    }
  }
  if (const std::string all = gather_errors(ctx.comm, error); !all.empty()) roles::throw_tagged(all);
  if (ctx.link) log::debug("rank {}: device link {}", ctx.rank, ctx.link->name());
}

}  // namespace ferry
