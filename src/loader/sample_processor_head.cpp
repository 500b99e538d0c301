// SampleProcessor's movable augment head: which leading ops of a field's augment chain may run on a
// transformation rank, the chains that run them there, and the rest of the stage that the consumer runs
// (docs/heterogeneous.md, "The movable head").
#include "core/check.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "loader/sample_processor.hpp"
#include "transform/op.hpp"

namespace ferry::loader {

void SampleProcessor::find_head(Field& f, const std::vector<OpSpec>& ops, const std::string& name) {
  const transform::OpRegistry& registry = transform::OpRegistry::global();
  std::size_t h = 0;
  // The full chain was built from these ops already, so every name is known here.
  while (h < ops.size() && !registry.find(ops[h].name)->random) ++h;
  if (h == 0) return;
  head_found_ = true;
  std::vector<OpSpec> head(ops.begin(), ops.begin() + static_cast<std::ptrdiff_t>(h));
  std::vector<OpSpec> rest(ops.begin() + static_cast<std::ptrdiff_t>(h), ops.end());
  try {
    f.past_head = transform::Chain(head, f.prepared, Stage::augment, name).output();
  } catch (const TransformError&) {
    // The whole chain is valid, so the head's only fault is its end: a shape that varies per sample
    // (decode alone). Samples of one shape per field are what a batch entry carries; it stays put.
    if (head_why_.empty()) {
      std::vector<std::string> names;
      for (const OpSpec& spec : head) names.push_back(spec.name);
      head_why_ = str_cat("field '", name, "': its augment head '", join(names, " | "),
                          "' ends in a shape that varies per sample");
    }
    return;
  }
  f.head_ops = h;
  f.head_specs = std::move(head);
  f.rest.emplace(std::move(rest), f.past_head, Stage::augment, name, registry, true, h);
}

std::vector<std::optional<transform::Chain>> SampleProcessor::head_chains() const {
  std::vector<std::optional<transform::Chain>> chains(fields_.size());
  const auto& infos = dataset_->fields();
  for (std::size_t f = 0; f < fields_.size(); ++f)
    if (fields_[f].head_ops > 0)
      chains[f].emplace(fields_[f].head_specs, fields_[f].prepared, Stage::augment, infos[f].name);
  return chains;
}

void SampleProcessor::augment_rest(std::size_t field, const std::byte* in, std::byte* out, std::size_t n,
                                   const std::uint64_t* ids, std::uint64_t epoch) {
  Field& f = fields_[field];
  FERRY_ENFORCE(f.rest, "field ", field, " has no movable augment head");
  f.rest->run(in, out, n, ids, config_.seed, epoch);
}

}  // namespace ferry::loader
