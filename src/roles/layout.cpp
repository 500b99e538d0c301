#include "roles/layout.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>

#include "core/check.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "monitor/role_script.hpp"

namespace ferry::roles {
namespace {

// monitor.role_script against the layout it starts from: every step's rank and role (one ConfigError line).
void check_script(const Config& config, const Layout& layout) {
  monitor::ScriptLayout start;
  start.coordinator = static_cast<std::uint32_t>(layout.coordinator());
  start.cache = !layout.cache_servers.empty() && config.runtime.cache_bytes > 0;
  for (int r = 0; r < layout.size(); ++r) {
    start.roles.push_back(service_role(layout.role[static_cast<std::size_t>(r)]));
    start.holds_slab.push_back(layout.slab_index(r) >= 0);
  }
  monitor::check_role_script(monitor::parse_role_script(config.monitor.role_script), start);
}

// Monitoring routes (Layout::report_to, relayed): on one node every rank reports to the coordinator (a
// leader would save no message off the node); on several, through each node's lowest cache server or
// transformer, whose serve() loop lasts until every consumer has finished.
void plan_stats_routes(Layout& layout) {
  const std::size_t world = layout.role.size();
  layout.report_to.assign(world, layout.coordinator());
  layout.relayed.assign(world, 0);
  if (std::set<int>(layout.node_of.begin(), layout.node_of.end()).size() < 2) return;
  std::map<int, int> leader;  // node -> its stats leader
  for (std::size_t r = 0; r < world; ++r) {
    const Role role = layout.role[r];
    if (role == Role::cache_server || role == Role::transformer)
      leader.try_emplace(layout.node_of[r], static_cast<int>(r));
  }
  for (std::size_t r = 0; r < world; ++r) {
    const auto it = leader.find(layout.node_of[r]);
    if (layout.role[r] == Role::randomizer || it == leader.end() || it->second == static_cast<int>(r))
      continue;
    layout.report_to[r] = it->second;
    ++layout.relayed[static_cast<std::size_t>(it->second)];
  }
}

// FERRY_TEST_RANKS_PER_NODE (tests only): pretend nodes of that many consecutive ranks; 0 when unset.
int pretend_node_size() {
  const char* text = std::getenv("FERRY_TEST_RANKS_PER_NODE");
  if (!text || !*text) return 0;
  char* end = nullptr;
  const long n = std::strtol(text, &end, 10);
  if (*end != '\0' || n < 1 || n > (1 << 20))
    throw ConfigError(str_cat("FERRY_TEST_RANKS_PER_NODE = '", text, "' is not a rank count 1 .. 2^20"));
  return static_cast<int>(n);
}

}  // namespace

std::optional<monitor::ServiceRole> service_role(Role role) noexcept {
  switch (role) {
    case Role::randomizer:
      return monitor::ServiceRole::randomizer;
    case Role::cache_server:
      return monitor::ServiceRole::cache_server;
    case Role::transformer:
      return monitor::ServiceRole::transformer;
    case Role::consumer:
      break;
  }
  return std::nullopt;
}

const char* role_name(Role role) noexcept {
  switch (role) {
    case Role::randomizer:
      return "randomizer";
    case Role::cache_server:
      return "cache_server";
    case Role::transformer:
      return "transformer";
    case Role::consumer:
      return "consumer";
  }
  return "?";
}

int Layout::index_of(int rank) const {
  const std::vector<int>* list = nullptr;
  switch (role.at(static_cast<std::size_t>(rank))) {
    case Role::randomizer:
      list = &randomizers;
      break;
    case Role::cache_server:
      list = &cache_servers;
      break;
    case Role::transformer:
      list = &transformers;
      break;
    case Role::consumer:
      list = &consumers;
      break;
  }
  return static_cast<int>(std::lower_bound(list->begin(), list->end(), rank) - list->begin());
}

int Layout::slab_index(int rank) const noexcept {
  const auto it = std::lower_bound(slab_holders.begin(), slab_holders.end(), rank);
  return it != slab_holders.end() && *it == rank ? static_cast<int>(it - slab_holders.begin()) : -1;
}

std::uint64_t Layout::slab_share(const RuntimeConfig& rt) const noexcept {
  // Every randomizer owns an equal slice of every server's slab, aligned down to 64 bytes.
  return (rt.cache_bytes / static_cast<std::uint64_t>(std::max<std::size_t>(randomizers.size(), 1))) &
         ~std::uint64_t{63};
}

std::string Layout::describe() const {
  std::vector<std::string> parts;
  auto add = [&](const char* what, const std::vector<int>& ranks) {
    if (!ranks.empty()) parts.push_back(str_cat(ranks.size(), " ", what, " [", join(ranks, ","), "]"));
  };
  add("randomizer", randomizers);
  add("cache server", cache_servers);
  add("transformer", transformers);
  add("consumer", consumers);
  return join(parts, ", ");
}

Layout plan_layout(const Config& config, const std::vector<int>& node_of_rank,
                   const std::vector<char>& service) {
  const RuntimeConfig& rt = config.runtime;
  const int world = static_cast<int>(node_of_rank.size());
  const bool mpmd = !service.empty();
  Layout layout;
  layout.node_of = node_of_rank;
  layout.role.assign(static_cast<std::size_t>(world), Role::consumer);
  std::vector<char> taken(static_cast<std::size_t>(world), 0);
  // Candidates for service roles: every rank in library mode, the ferry-serve ranks in MPMD mode.
  auto candidate = [&](int r) {
    return !taken[static_cast<std::size_t>(r)] && (!mpmd || service[static_cast<std::size_t>(r)]);
  };
  auto take = [&](int r, Role role, std::vector<int>& list) {
    taken[static_cast<std::size_t>(r)] = 1;
    layout.role[static_cast<std::size_t>(r)] = role;
    list.push_back(r);
  };
  auto take_next = [&](int count, Role role, std::vector<int>& list) {
    for (int r = 0; r < world && count > 0; ++r)
      if (candidate(r)) {
        take(r, role, list);
        --count;
      }
    return count;  // how many could not be placed
  };
  const int service_ranks = mpmd ? static_cast<int>(std::count(service.begin(), service.end(), 1)) : world;
  const std::string mode = mpmd ? str_cat(service_ranks, " ferry-serve rank(s)") : str_cat(world, " rank(s)");

  if (take_next(rt.randomizers, Role::randomizer, layout.randomizers) > 0)
    throw ConfigError(str_cat("runtime: ", mode, " cannot hold runtime.randomizers = ", rt.randomizers));
  // per_node(COUNT, ROLE, LIST, KEY): COUNT ranks of ROLE on every node, the lowest free ones of each.
  auto per_node = [&](int count, Role role, std::vector<int>& list, const char* key) {
    std::map<int, int> placed;  // node -> ranks placed there
    for (int r = 0; r < world; ++r) {
      const int node = node_of_rank[static_cast<std::size_t>(r)];
      if (candidate(r) && placed[node] < count) {
        take(r, role, list);
        ++placed[node];
      }
    }
    for (int node : std::set<int>(node_of_rank.begin(), node_of_rank.end()))
      if (placed[node] < count)
        throw ConfigError(str_cat("runtime: node ", node, " has room for ", placed[node], " ",
                                  role_name(role), "(s) but ", key, " = ", count));
  };
  if (rt.cache_servers_per_node > 0) {
    per_node(rt.cache_servers_per_node, Role::cache_server, layout.cache_servers,
             "runtime.cache_servers_per_node");
  } else if (take_next(rt.cache_servers, Role::cache_server, layout.cache_servers) > 0) {
    throw ConfigError(str_cat("runtime: ", mode, " cannot hold ", rt.randomizers,
                              " randomizer(s) and runtime.cache_servers = ", rt.cache_servers));
  }
  if (rt.transformers_per_node > 0) {
    per_node(rt.transformers_per_node, Role::transformer, layout.transformers,
             "runtime.transformers_per_node");
  } else if (take_next(rt.transformers, Role::transformer, layout.transformers) > 0) {
    throw ConfigError(str_cat("runtime: ", mode, " cannot hold ", layout.randomizers.size(),
                              " randomizer(s), ", layout.cache_servers.size(),
                              " cache server(s) and runtime.transformers = ", rt.transformers));
  }
  for (int r = 0; r < world; ++r) {
    if (taken[static_cast<std::size_t>(r)]) continue;
    if (mpmd && service[static_cast<std::size_t>(r)])
      throw ConfigError(
          str_cat("runtime: ", mode, " but the config asks for ",
                  layout.randomizers.size() + layout.cache_servers.size() + layout.transformers.size(),
                  " service ranks (randomizers + cache servers + transformers): rank ", r, " has no role"));
    layout.consumers.push_back(r);
  }
  if (layout.consumers.empty())
    throw ConfigError(str_cat("runtime: ", mode, " leave no consumer after ", layout.randomizers.size(),
                              " randomizer(s), ", layout.cache_servers.size(), " cache server(s) and ",
                              layout.transformers.size(),
                              " transformer(s): start more ranks or ask for fewer service ranks"));

  assign_pipelines(config, layout);
  layout.slab_holders = layout.cache_servers;
  if (config.monitor.rebalance)
    layout.slab_holders.insert(layout.slab_holders.end(), layout.transformers.begin(),
                               layout.transformers.end());
  std::sort(layout.slab_holders.begin(), layout.slab_holders.end());
  plan_stats_routes(layout);
  if (config.monitor.role_policy == "scripted") check_script(config, layout);
  return layout;
}

Layout compute_layout(MPI_Comm comm, const Config& config, bool serve_only) {
  int rank = 0, size = 0;
  FERRY_CHECK_MPI(MPI_Comm_rank(comm, &rank));
  FERRY_CHECK_MPI(MPI_Comm_size(comm, &size));
  MPI_Comm node_comm = MPI_COMM_NULL;
  FERRY_CHECK_MPI(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node_comm));
  // A node's number is the lowest world rank on it (the communicator freed before an error is thrown).
  int node_id = rank;
  const int reduced = MPI_Allreduce(MPI_IN_PLACE, &node_id, 1, MPI_INT, MPI_MIN, node_comm);
  FERRY_CHECK_MPI(MPI_Comm_free(&node_comm));
  FERRY_CHECK_MPI(reduced);
  if (const int pretend = pretend_node_size()) node_id = rank - rank % pretend;
  std::vector<int> nodes(static_cast<std::size_t>(size));
  FERRY_CHECK_MPI(MPI_Allgather(&node_id, 1, MPI_INT, nodes.data(), 1, MPI_INT, comm));
  // MPMD mode is on when any rank was started as ferry-serve; then the other ranks are the consumers.
  char mine = serve_only ? 1 : 0;
  std::vector<char> flags(static_cast<std::size_t>(size));
  FERRY_CHECK_MPI(MPI_Allgather(&mine, 1, MPI_CHAR, flags.data(), 1, MPI_CHAR, comm));
  if (std::find(flags.begin(), flags.end(), 1) == flags.end()) flags.clear();
  return plan_layout(config, nodes, flags);
}

}  // namespace ferry::roles
