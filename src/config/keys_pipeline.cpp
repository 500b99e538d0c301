// The pipeline keys of the config table (keys.hpp): name, cache ID, seed, epochs, batches, resume point,
// shuffle, bad samples and the consumer group, each bound to a member of PipelineConfig.
#include "config/key_makers.hpp"

namespace ferry::config::detail {

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

namespace {

constexpr long long kMaxConsumerIndex = 1 << 24;

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

// The pipeline's consumer group as consumer indices (0 = the job's first consumer rank). Indices past the
// job's consumers are refused with the layout (roles/layout.cpp), which knows how many there are.
KeyDef consumers_key() {
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
  return def;
}

}  // namespace

void add_pipeline_keys(std::vector<KeyDef>& k) {
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
  k.push_back(consumers_key());
}

}  // namespace ferry::config::detail
