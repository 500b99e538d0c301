// The dataset keys of the config table (keys.hpp) and the two op chains (prepare, augment), each bound to a
// member of PipelineConfig.
#include "config/key_makers.hpp"

namespace ferry::config::detail {
namespace {

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

KeyDef files_key() {
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
  return def;
}

KeyDef fields_key() {
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
  return def;
}

}  // namespace

void add_dataset_keys(std::vector<KeyDef>& k) {
  k.push_back(pipeline_choice<Layout>(
      "dataset.layout", "HDF5 layout",
      {{"stacked", Layout::stacked}, {"file_per_sample", Layout::file_per_sample}, {"vlen", Layout::vlen}},
      [](PipelineConfig& p, Layout v) { p.dataset.layout = v; },
      [](const PipelineConfig& p) { return p.dataset.layout; }));
  k.push_back(files_key());
  k.push_back(fields_key());
  k.push_back(integer_key(
      "dataset.chunk_cache_bytes", Scope::pipeline, 0, 1LL << 36, "HDF5 chunk cache per dataset",
      [](PipelineConfig& p, long long v) { p.dataset.chunk_cache_bytes = static_cast<std::size_t>(v); },
      [](const PipelineConfig& p) { return static_cast<long long>(p.dataset.chunk_cache_bytes); }));
  k.push_back(
      chains_key("prepare", "FIELD = \"op | op\": deterministic stage (cached)", &PipelineConfig::prepare));
  k.push_back(chains_key("augment", "FIELD = \"op | op\": random stage per (seed, epoch, ID)",
                         &PipelineConfig::augment));
}

}  // namespace ferry::config::detail
