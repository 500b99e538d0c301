#include "config/keys.hpp"

#include <charconv>

#include "config/key_makers.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"

namespace ferry::config {
// The key makers shared with keys_monitor.cpp are in detail (config/key_makers.hpp); make_keys with them.
namespace detail {

constexpr long long kMaxConsumerIndex = 1 << 24;

[[noreturn]] void bad(const std::string& where, const std::string& what) {
  throw ConfigError(where + ": " + what);
}

long long parse_integer(std::string_view text, const std::string& where) {
  text = trim(text);
  long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size())
    bad(where, str_cat("'", text, "' is not an integer"));
  return value;
}

bool parse_bool(std::string_view text, const std::string& where) {
  text = trim(text);
  for (std::string_view t : {"true", "1", "yes", "on"})
    if (text == t) return true;
  for (std::string_view f : {"false", "0", "no", "off"})
    if (text == f) return false;
  bad(where, str_cat("'", text, "' is not a boolean (use true or false)"));
}

// Splits "a=b" at the first '=' (values may contain '=', as op chains do).
std::pair<std::string, std::string> split_pair(const std::string& text, const std::string& where) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) bad(where, str_cat("'", text, "' is not NAME=VALUE"));
  return {std::string(trim(std::string_view(text).substr(0, eq))),
          std::string(trim(std::string_view(text).substr(eq + 1)))};
}

std::string node_text(const toml::node& node, const std::string& where) {
  if (auto s = node.value<std::string>()) return *s;
  bad(where, "must be a string");
}

// An op given as a TOML table: {op = "normalize", mean = [0.5], std = [0.25]}.
OpSpec op_from_table(const toml::table& table, const std::string& where) {
  OpSpec op;
  for (auto&& [k, v] : table) {
    const std::string key(k.str());
    std::string value;
    if (auto s = v.value<std::string>()) {
      value = *s;
    } else if (auto i = v.value<long long>(); i && v.is_integer()) {
      value = std::to_string(*i);
    } else if (auto d = v.value<double>()) {
      value = str_cat(*d);
    } else if (auto b = v.value<bool>()) {
      value = *b ? "true" : "false";
    } else if (const auto* arr = v.as_array()) {
      std::vector<std::string> items;
      for (const auto& item : *arr) {
        if (auto x = item.value<double>())
          items.push_back(str_cat(*x));
        else
          bad(where, str_cat("op parameter '", key, "' must be a list of numbers"));
      }
      value = "[" + join(items) + "]";
    } else {
      bad(where, str_cat("op parameter '", key, "' has an unsupported type"));
    }
    if (key == "op")
      op.name = value;
    else
      op.params.emplace_back(key, value);
  }
  if (op.name.empty()) bad(where, "an op table needs op = \"NAME\"");
  return op;
}

using Getter = std::function<long long&(Config&, PipelineConfig*)>;

KeyDef integer_key(std::string_view key, Scope scope, long long min, long long max, std::string_view help,
                   std::function<void(PipelineConfig&, long long)> set,
                   std::function<long long(const PipelineConfig&)> get) {
  KeyDef def{key, scope, Kind::integer, help, {}, min, max, {}, {}, {}};
  auto check = [key, min, max](long long v, const std::string& where) {
    if (v < min || v > max)
      bad(where, str_cat(key, " = ", v, " is out of range (allowed: ", min, " to ", max, ")"));
    return v;
  };
  def.from_toml = [=](Config&, PipelineConfig* p, const toml::node& n, const std::string& where) {
    auto v = n.value<long long>();
    if (!v || !n.is_integer()) bad(where, str_cat(key, " must be an integer"));
    set(*p, check(*v, where));
  };
  def.from_text = [=](Config&, PipelineConfig* p, const std::vector<std::string>& t,
                      const std::string& where) { set(*p, check(parse_integer(t.back(), where), where)); };
  def.to_toml = [=](const Config&, const PipelineConfig* p) { return std::to_string(get(*p)); };
  return def;
}

// A pipeline key holding text; `set` checks the value and names `where` when it refuses it.
KeyDef pipeline_text(std::string_view key, std::string_view help,
                     std::function<void(PipelineConfig&, const std::string&, const std::string& where)> set,
                     std::function<std::string(const PipelineConfig&)> get) {
  KeyDef def{key, Scope::pipeline, Kind::text, help, {}, 0, 0, {}, {}, {}};
  def.from_toml = [=](Config&, PipelineConfig* p, const toml::node& n, const std::string& w) {
    set(*p, node_text(n, w), w);
  };
  def.from_text = [=](Config&, PipelineConfig* p, const std::vector<std::string>& t, const std::string& w) {
    set(*p, t.back(), w);
  };
  def.to_toml = [=](const Config&, const PipelineConfig* p) { return quote(get(*p)); };
  return def;
}

// A pipeline key with a fixed set of choices, each naming one value of an enum.
template <typename E>
KeyDef pipeline_choice(std::string_view key, std::string_view help,
                       std::vector<std::pair<std::string_view, E>> choices,
                       std::function<void(PipelineConfig&, E)> set_value,
                       std::function<E(const PipelineConfig&)> get) {
  std::vector<std::string_view> names;
  for (const auto& choice : choices) names.push_back(choice.first);
  KeyDef def{key, Scope::pipeline, Kind::choice, help, names, 0, 0, {}, {}, {}};
  auto set = [=](PipelineConfig& p, const std::string& v, const std::string& where) {
    for (const auto& [name, value] : choices) {
      if (name == v) {
        set_value(p, value);
        return;
      }
    }
    bad(where, str_cat(key, " = '", v, "' is not one of ", join(names)));
  };
  def.from_toml = [=](Config&, PipelineConfig* p, const toml::node& n, const std::string& w) {
    set(*p, node_text(n, w), w);
  };
  def.from_text = [=](Config&, PipelineConfig* p, const std::vector<std::string>& t, const std::string& w) {
    set(*p, t.back(), w);
  };
  def.to_toml = [=](const Config&, const PipelineConfig* p) {
    for (const auto& [name, value] : choices)
      if (value == get(*p)) return quote(name);
    return quote("");
  };
  return def;
}

KeyDef bool_key(std::string_view key, std::string_view help, bool PipelineConfig::*member) {
  KeyDef def{key, Scope::pipeline, Kind::boolean, help, {}, 0, 0, {}, {}, {}};
  def.from_toml = [=](Config&, PipelineConfig* p, const toml::node& n, const std::string& where) {
    auto v = n.value<bool>();
    if (!v || !n.is_boolean()) bad(where, str_cat(key, " must be true or false"));
    p->*member = *v;
  };
  def.from_text = [=](Config&, PipelineConfig* p, const std::vector<std::string>& t,
                      const std::string& where) { p->*member = parse_bool(t.back(), where); };
  def.to_toml = [=](const Config&, const PipelineConfig* p) {
    return std::string(p->*member ? "true" : "false");
  };
  return def;
}

KeyDef chains_key(std::string_view key, std::string_view help,
                  std::vector<FieldChain> PipelineConfig::*member) {
  KeyDef def{key, Scope::pipeline, Kind::chains, help, {}, 0, 0, {}, {}, {}};
  auto assign = [member](PipelineConfig& p, const std::string& field, std::vector<OpSpec> ops) {
    for (auto& fc : p.*member) {
      if (fc.field == field) {
        fc.ops = std::move(ops);
        return;
      }
    }
    (p.*member).push_back({field, std::move(ops)});
  };
  def.from_toml = [=](Config&, PipelineConfig* p, const toml::node& n, const std::string& where) {
    const auto* table = n.as_table();
    if (!table) bad(where, str_cat(key, " must be a table of FIELD = \"op | op\""));
    for (auto&& [k, v] : *table) {
      const std::string field(k.str());
      const std::string at = where + "." + field;
      if (v.is_string()) {
        assign(*p, field, parse_op_chain(*v.value<std::string>(), at));
      } else if (const auto* arr = v.as_array()) {
        std::vector<OpSpec> ops;
        for (const auto& item : *arr) {
          if (!item.is_table()) bad(at, "must be a chain string or a list of op tables");
          ops.push_back(op_from_table(*item.as_table(), at));
        }
        assign(*p, field, std::move(ops));
      } else {
        bad(at, "must be a chain string or a list of op tables");
      }
    }
  };
  def.from_text = [=](Config&, PipelineConfig* p, const std::vector<std::string>& t,
                      const std::string& where) {
    for (const auto& entry : t) {
      auto [field, chain] = split_pair(entry, where);
      assign(*p, field, parse_op_chain(chain, where + " " + field));
    }
  };
  def.to_toml = [=](const Config&, const PipelineConfig* p) {
    std::string out;
    for (const auto& fc : p->*member) {
      std::vector<std::string> texts;
      for (const auto& op : fc.ops) texts.push_back(op.text());
      out += fc.field + " = " + quote(join(texts, " | ")) + "\n";
    }
    return out;
  };
  return def;
}

// An integer key of a global section, read and written through `set` / `get` on the whole Config.
KeyDef config_integer(std::string_view key, long long min, long long max, std::string_view help,
                      std::function<void(Config&, long long)> set,
                      std::function<long long(const Config&)> get) {
  KeyDef def{key, Scope::global, Kind::integer, help, {}, min, max, {}, {}, {}};
  auto check = [key, min, max](long long v, const std::string& where) {
    if (v < min || v > max)
      bad(where, str_cat(key, " = ", v, " is out of range (allowed: ", min, " to ", max, ")"));
    return v;
  };
  def.from_toml = [=](Config& c, PipelineConfig*, const toml::node& n, const std::string& where) {
    auto v = n.value<long long>();
    if (!v || !n.is_integer()) bad(where, str_cat(key, " must be an integer"));
    set(c, check(*v, where));
  };
  def.from_text = [=](Config& c, PipelineConfig*, const std::vector<std::string>& t,
                      const std::string& where) { set(c, check(parse_integer(t.back(), where), where)); };
  def.to_toml = [=](const Config& c, const PipelineConfig*) { return std::to_string(get(c)); };
  return def;
}

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

double parse_number(std::string_view text, const std::string& where) {
  text = trim(text);
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size())
    bad(where, str_cat("'", text, "' is not a number"));
  return value;
}

std::vector<KeyDef> make_keys() {
  std::vector<KeyDef> k;
  {
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
    k.push_back(std::move(def));
  }
  k.push_back(
      global_text("runtime.transport", {"ucx", "mpi"}, "transport backend", &RuntimeConfig::transport));
  k.push_back(global_integer(
      "runtime.randomizers", 1, 1024, "randomizer ranks",
      [](RuntimeConfig& r, long long v) { r.randomizers = static_cast<int>(v); },
      [](const RuntimeConfig& r) { return static_cast<long long>(r.randomizers); }));
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
  add_monitor_keys(k);
  k.push_back(pipeline_text(
      "name", "pipeline name (unique)",
      [](PipelineConfig& p, const std::string& v, const std::string& where) {
        if (v.empty()) bad(where, "name must not be empty");
        p.name = v;
      },
      [](const PipelineConfig& p) { return p.name; }));
  k.push_back(integer_key(
      "cache_id", Scope::pipeline, 0, 1 << 20, "cache shared by pipelines with the same ID",
      [](PipelineConfig& p, long long v) { p.cache_id = static_cast<int>(v); },
      [](const PipelineConfig& p) { return static_cast<long long>(p.cache_id); }));
  k.push_back(integer_key(
      "seed", Scope::pipeline, 0, (1LL << 62), "seed of the permutation and augmentations",
      [](PipelineConfig& p, long long v) { p.seed = static_cast<std::uint64_t>(v); },
      [](const PipelineConfig& p) { return static_cast<long long>(p.seed); }));
  k.push_back(integer_key(
      "epochs", Scope::pipeline, 1, 1000000, "epochs to run",
      [](PipelineConfig& p, long long v) { p.epochs = static_cast<int>(v); },
      [](const PipelineConfig& p) { return static_cast<long long>(p.epochs); }));
  k.push_back(integer_key(
      "batch_size", Scope::pipeline, 1, static_cast<long long>(kMaxBatchSize),
      "samples per batch per consumer",
      [](PipelineConfig& p, long long v) { p.batch_size = static_cast<std::size_t>(v); },
      [](const PipelineConfig& p) { return static_cast<long long>(p.batch_size); }));
  k.push_back(integer_key(
      "start_epoch", Scope::pipeline, 0, 1000000, "resume: epoch of the first batch (apply_state)",
      [](PipelineConfig& p, long long v) { p.start_epoch = static_cast<std::uint64_t>(v); },
      [](const PipelineConfig& p) { return static_cast<long long>(p.start_epoch); }));
  k.push_back(integer_key(
      "start_batch", Scope::pipeline, 0, 1LL << 40, "resume: batch of the first batch within start_epoch",
      [](PipelineConfig& p, long long v) { p.start_batch = static_cast<std::uint64_t>(v); },
      [](const PipelineConfig& p) { return static_cast<long long>(p.start_batch); }));
  // Set by apply_state from a state's dataset=HEX: set-up refuses to resume on other data.
  k.push_back(pipeline_text(
      "start_dataset",
      "resume: fingerprint of the dataset the state was saved for (apply_state; empty: not checked)",
      [](PipelineConfig& p, const std::string& v, const std::string& where) {
        if (!v.empty() && (v.size() != 16 || v.find_first_not_of("0123456789abcdef") != std::string::npos))
          bad(where, str_cat("start_dataset = '", v, "' is not 16 lowercase hex digits"));
        p.start_dataset = v;
      },
      [](const PipelineConfig& p) { return p.start_dataset; }));
  k.push_back(bool_key("drop_last", "true: equal shares, drop the last partial batch; false: pad shares",
                       &PipelineConfig::drop_last));
  k.push_back(
      bool_key("shuffle", "false: identity order (still split per consumer)", &PipelineConfig::shuffle));
  k.push_back(pipeline_choice<BadSamples>(
      "bad_samples",
      "a sample that does not decode: fail the job, or skip it (dropped from its batch, counted)",
      {{"fail", BadSamples::fail}, {"skip", BadSamples::skip}},
      [](PipelineConfig& p, BadSamples v) { p.bad_samples = v; },
      [](const PipelineConfig& p) { return p.bad_samples; }));
  {
    // The pipeline's consumer group as consumer indices (0 = the job's first consumer rank). Indices past
    // the job's consumers are refused with the layout (roles/layout.cpp), which knows how many there are.
    KeyDef def{"consumers",
               Scope::pipeline,
               Kind::list,
               "consumer group: consumer indices (0 = the first consumer); empty = all",
               {},
               0,
               kMaxConsumerIndex,
               {},
               {},
               {}};
    auto add = [](PipelineConfig& p, long long v, const std::string& where) {
      if (v < 0 || v > kMaxConsumerIndex)
        bad(where, str_cat(v, " is not a consumer index (allowed: 0 to ", kMaxConsumerIndex, ")"));
      for (int c : p.consumers)
        if (c == v) bad(where, str_cat("lists consumer ", v, " twice"));
      p.consumers.push_back(static_cast<int>(v));
    };
    def.from_toml = [=](Config&, PipelineConfig* p, const toml::node& n, const std::string& where) {
      const auto* arr = n.as_array();
      if (!arr) bad(where, "consumers must be a list of consumer indices, e.g. [0, 1]");
      p->consumers.clear();
      for (const auto& item : *arr) {
        auto v = item.value<long long>();
        if (!v || !item.is_integer()) bad(where, "consumers must be a list of consumer indices, e.g. [0, 1]");
        add(*p, *v, where);
      }
    };
    def.from_text = [=](Config&, PipelineConfig* p, const std::vector<std::string>& t,
                        const std::string& where) {
      p->consumers.clear();
      for (const auto& entry : t)
        for (auto& part : split(entry, ','))
          if (!trim(part).empty()) add(*p, parse_integer(part, where), where);
    };
    def.to_toml = [](const Config&, const PipelineConfig* p) {
      std::vector<std::string> items;
      for (int c : p->consumers) items.push_back(std::to_string(c));
      return "[" + join(items) + "]";
    };
    k.push_back(std::move(def));
  }
  k.push_back(pipeline_choice<Layout>(
      "dataset.layout", "HDF5 layout",
      {{"stacked", Layout::stacked}, {"file_per_sample", Layout::file_per_sample}, {"vlen", Layout::vlen}},
      [](PipelineConfig& p, Layout v) { p.dataset.layout = v; },
      [](const PipelineConfig& p) { return p.dataset.layout; }));
  {
    KeyDef def{"dataset.files",
               Scope::pipeline,
               Kind::list,
               "HDF5 files, a directory or a list file",
               {},
               0,
               0,
               {},
               {},
               {}};
    def.from_toml = [](Config&, PipelineConfig* p, const toml::node& n, const std::string& where) {
      p->dataset.files.clear();
      if (n.is_string()) {
        p->dataset.files.push_back(*n.value<std::string>());
        return;
      }
      const auto* arr = n.as_array();
      if (!arr) bad(where, "dataset.files must be a string or a list of strings");
      for (const auto& item : *arr) p->dataset.files.push_back(node_text(item, where));
    };
    def.from_text = [](Config&, PipelineConfig* p, const std::vector<std::string>& t, const std::string&) {
      p->dataset.files.clear();
      for (const auto& entry : t)
        for (auto& part : split(entry, ','))
          if (!trim(part).empty()) p->dataset.files.emplace_back(trim(part));
    };
    def.to_toml = [](const Config&, const PipelineConfig* p) {
      std::vector<std::string> q;
      for (const auto& f : p->dataset.files) q.push_back(quote(f));
      return "[" + join(q) + "]";
    };
    k.push_back(std::move(def));
  }
  {
    KeyDef def{
        "dataset.fields", Scope::pipeline, Kind::map, "field name = HDF5 dataset path", {}, 0, 0, {}, {}, {}};
    def.from_toml = [](Config&, PipelineConfig* p, const toml::node& n, const std::string& where) {
      const auto* table = n.as_table();
      if (!table) bad(where, "dataset.fields must be a table of NAME = \"/hdf5/path\"");
      p->dataset.fields.clear();
      for (auto&& [name, path] : *table)
        p->dataset.fields.push_back(
            {std::string(name.str()), node_text(path, where + "." + std::string(name.str()))});
    };
    def.from_text = [](Config&, PipelineConfig* p, const std::vector<std::string>& t,
                       const std::string& where) {
      p->dataset.fields.clear();
      for (const auto& entry : t) {
        for (auto& part : split(entry, ',')) {
          auto [name, path] = split_pair(part, where);
          p->dataset.fields.push_back({name, path});
        }
      }
    };
    def.to_toml = [](const Config&, const PipelineConfig* p) {
      std::string out;
      for (const auto& f : p->dataset.fields) out += f.name + " = " + quote(f.path) + "\n";
      return out;
    };
    k.push_back(std::move(def));
  }
  k.push_back(integer_key(
      "dataset.chunk_cache_bytes", Scope::pipeline, 0, 1LL << 36, "HDF5 chunk cache per dataset",
      [](PipelineConfig& p, long long v) { p.dataset.chunk_cache_bytes = static_cast<std::size_t>(v); },
      [](const PipelineConfig& p) { return static_cast<long long>(p.dataset.chunk_cache_bytes); }));
  k.push_back(
      chains_key("prepare", "FIELD = \"op | op\": deterministic stage (cached)", &PipelineConfig::prepare));
  k.push_back(chains_key("augment", "FIELD = \"op | op\": random stage per (seed, epoch, ID)",
                         &PipelineConfig::augment));
  return k;
}

}  // namespace detail

const std::vector<KeyDef>& keys() {
  static const std::vector<KeyDef> table = detail::make_keys();
  return table;
}

const KeyDef* find_key(std::string_view key, Scope scope) {
  for (const auto& def : keys())
    if (def.key == key && def.scope == scope) return &def;
  return nullptr;
}

std::string quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

}  // namespace ferry::config
