// The global keys of the config table (keys.hpp): log_level and the [runtime] section, each bound to a
// member of Config or RuntimeConfig.
#include "config/key_makers.hpp"
#include "core/log.hpp"

namespace ferry::config::detail {
namespace {

KeyDef global_integer(std::string_view key, long long min, long long max, std::string_view help,
                      std::function<void(RuntimeConfig&, long long)> set,
                      std::function<long long(const RuntimeConfig&)> get) {
  return config_integer(
      key, min, max, help, [set](Config& c, long long v) { set(c.runtime, v); },
      [get](const Config& c) { return get(c.runtime); });
}

KeyDef global_text(std::string_view key, std::vector<std::string_view> allowed, std::string_view help,
                   std::string RuntimeConfig::*member) {
  return section_text(key, std::move(allowed), help, &Config::runtime, member);
}

KeyDef log_level_key() {
  KeyDef def{"log_level",
             Scope::global,
             Kind::choice,
             "log level (FERRY_LOG_LEVEL overrides)",
             {"trace", "debug", "info", "warn", "error", "off"},
             0,
             0,
             {},
             {},
             {}};
  auto set = [](Config& c, const std::string& v, const std::string& where) {
    if (!log::valid_level(v))
      bad(where, str_cat("log_level = '", v, "' is not one of trace, debug, info, warn, error, off"));
    c.log_level = v;
  };
  def.from_toml = [=](Config& c, PipelineConfig*, const toml::node& n, const std::string& w) {
    set(c, node_text(n, w), w);
  };
  def.from_text = [=](Config& c, PipelineConfig*, const std::vector<std::string>& t, const std::string& w) {
    set(c, t.back(), w);
  };
  def.to_toml = [](const Config& c, const PipelineConfig*) { return quote(c.log_level); };
  return def;
}

// How many ranks of each role, and what a transformation rank runs with.
void add_role_keys(std::vector<KeyDef>& k) {
  k.push_back(
      global_text("runtime.transport", {"ucx", "mpi"}, "transport backend", &RuntimeConfig::transport));
  k.push_back(global_integer(
      "runtime.randomizers", 1, 1024, "randomizer ranks",
      [](RuntimeConfig& r, long long v) { r.randomizers = static_cast<int>(v); },
      [](const RuntimeConfig& r) { return static_cast<long long>(r.randomizers); }));
  k.push_back(global_integer(
      "runtime.directory_shards", 1, static_cast<long long>(kMaxDirectoryShards),
      "randomizers per cache ID, each with one key range of its directory",
      [](RuntimeConfig& r, long long v) { r.directory_shards = static_cast<int>(v); },
      [](const RuntimeConfig& r) { return static_cast<long long>(r.directory_shards); }));
  k.push_back(global_integer(
      "runtime.cache_servers", 0, 1 << 20, "cache server ranks in total",
      [](RuntimeConfig& r, long long v) { r.cache_servers = static_cast<int>(v); },
      [](const RuntimeConfig& r) { return static_cast<long long>(r.cache_servers); }));
  k.push_back(global_integer(
      "runtime.cache_servers_per_node", 0, 1024, "cache servers on every node (overrides cache_servers)",
      [](RuntimeConfig& r, long long v) { r.cache_servers_per_node = static_cast<int>(v); },
      [](const RuntimeConfig& r) { return static_cast<long long>(r.cache_servers_per_node); }));
  k.push_back(global_integer(
      "runtime.transformers", 1, 1 << 20, "transformation ranks",
      [](RuntimeConfig& r, long long v) { r.transformers = static_cast<int>(v); },
      [](const RuntimeConfig& r) { return static_cast<long long>(r.transformers); }));
  k.push_back(global_integer(
      "runtime.transformers_per_node", 0, 1024,
      "transformation ranks on every node (overrides transformers; a consumer's misses go to its node's)",
      [](RuntimeConfig& r, long long v) { r.transformers_per_node = static_cast<int>(v); },
      [](const RuntimeConfig& r) { return static_cast<long long>(r.transformers_per_node); }));
  k.push_back(global_integer(
      "runtime.transform_workers", 1, 256, "CPU worker threads per transformation rank",
      [](RuntimeConfig& r, long long v) { r.transform_workers = static_cast<int>(v); },
      [](const RuntimeConfig& r) { return static_cast<long long>(r.transform_workers); }));
}

}  // namespace

void add_runtime_keys(std::vector<KeyDef>& k) {
  k.push_back(log_level_key());
  add_role_keys(k);
  k.push_back(global_integer(
      "runtime.read_ahead_bytes", 0, 1LL << 44,
      "bytes a transformation rank's reader thread may hold read ahead of its sends (0: read on the progress "
      "thread, no read-ahead)",
      [](RuntimeConfig& r, long long v) { r.read_ahead_bytes = static_cast<std::uint64_t>(v); },
      [](const RuntimeConfig& r) { return static_cast<long long>(r.read_ahead_bytes); }));
  k.push_back(global_integer(
      "runtime.send_pool_bytes", 0, 1LL << 40,
      "registered bytes per rank that may prepare samples that entries of 64 KiB and more are prepared into, "
      "for consumers and cache servers to get one-sided (0: all entries in messages)",
      [](RuntimeConfig& r, long long v) { r.send_pool_bytes = static_cast<std::uint64_t>(v); },
      [](const RuntimeConfig& r) { return static_cast<long long>(r.send_pool_bytes); }));
  k.push_back(global_integer(
      "runtime.message_buffer_bytes", 0, 1LL << 40,
      "bytes of handled message payloads and completed send copies every rank keeps for reuse by the next "
      "messages it receives or sends: no fresh pages to fault in (0: each freed once handled or sent)",
      [](RuntimeConfig& r, long long v) { r.message_buffer_bytes = static_cast<std::uint64_t>(v); },
      [](const RuntimeConfig& r) { return static_cast<long long>(r.message_buffer_bytes); }));
  k.push_back(global_integer(
      "runtime.miss_list_bytes", 0, 1LL << 40,
      "fewest prepared bytes per miss list: a batch's misses go to min(transformers, bytes / this) "
      "transformers, at least one (0: to every transformer)",
      [](RuntimeConfig& r, long long v) { r.miss_list_bytes = static_cast<std::uint64_t>(v); },
      [](const RuntimeConfig& r) { return static_cast<long long>(r.miss_list_bytes); }));
  k.push_back(global_text(
      "runtime.accelerator", {"auto", "none"},
      "auto: transformation ranks (prepare) and consumers (augment) use a visible CUDA device when the job "
      "list says; none: CPU only",
      &RuntimeConfig::accelerator));
  k.push_back(section_bool("runtime.device_batches",
                           "consumers get fixed-size fields in device memory (needs CUDA, NCCL and a GPU per "
                           "consumer); samples prepared on a GPU go to the consumer's GPU with NCCL",
                           &Config::runtime, &RuntimeConfig::device_batches));
  k.push_back(global_integer(
      "runtime.cache_bytes", 0, 1LL << 44, "slab bytes per cache server",
      [](RuntimeConfig& r, long long v) { r.cache_bytes = static_cast<std::uint64_t>(v); },
      [](const RuntimeConfig& r) { return static_cast<long long>(r.cache_bytes); }));
  k.push_back(global_integer(
      "runtime.inserts_in_flight_bytes", 0, 1LL << 44,
      "bytes of cache inserts a randomizer's share may have unacked beyond its outstanding batches' "
      "admissions: at or over it, it describes no further batch until acks come (0: no bound)",
      [](RuntimeConfig& r, long long v) { r.inserts_in_flight_bytes = static_cast<std::uint64_t>(v); },
      [](const RuntimeConfig& r) { return static_cast<long long>(r.inserts_in_flight_bytes); }));
  k.push_back(global_text("runtime.cache_policy", {"static", "lru", "clairvoyant"},
                          "cache admission and eviction", &RuntimeConfig::cache_policy));
  k.push_back(global_integer(
      "runtime.prefetch", 1, 256, "batches in flight per consumer and pipeline",
      [](RuntimeConfig& r, long long v) { r.prefetch = static_cast<int>(v); },
      [](const RuntimeConfig& r) { return static_cast<long long>(r.prefetch); }));
  k.push_back(global_integer(
      "runtime.peer_timeout_s", 0, 86400,
      "seconds without a heartbeat (or in one step of a service rank's loop) before a rank counts as lost "
      "(0: off)",
      [](RuntimeConfig& r, long long v) { r.peer_timeout_s = static_cast<int>(v); },
      [](const RuntimeConfig& r) { return static_cast<long long>(r.peer_timeout_s); }));
  k.push_back(global_integer(
      "runtime.setup_timeout_s", 0, 86400,
      "seconds a rank waits in the set-up's first collectives (before heartbeats start) for every rank to "
      "join before the job ends, naming the step (0: no deadline)",
      [](RuntimeConfig& r, long long v) { r.setup_timeout_s = static_cast<int>(v); },
      [](const RuntimeConfig& r) { return static_cast<long long>(r.setup_timeout_s); }));
  k.push_back(global_text("runtime.stats_file", {}, "JSON lines of per-rank counters (appended)",
                          &RuntimeConfig::stats_file));
}

}  // namespace ferry::config::detail
