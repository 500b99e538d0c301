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
    // A head may end in a per-sample shape (decode alone, before a random_resized_crop): its samples then
    // travel with their shapes (transform::ShapedSamples) and the rest starts from a variable input.
    const transform::Chain chain(head, f.prepared, Stage::augment, name, registry, true, 0, true);
    f.past_head = chain.output();
    f.rest.emplace(std::move(rest), f.past_head, Stage::augment, name, registry, true, h);
  } catch (const TransformError& e) {
    // The whole chain is valid, so its two parts are too; should one not build, the head stays put.
    if (head_why_.empty()) {
      std::vector<std::string> names;
      for (const OpSpec& spec : head) names.push_back(spec.name);
      head_why_ = str_cat("field '", name, "': its augment head '", join(names, " | "),
                          "' cannot be split from the rest: ", e.what());
    }
    f.past_head = f.prepared;
    return;
  }
  f.head_ops = h;
  f.head_specs = std::move(head);
  // A consumer that runs the head itself runs the whole chain (the decoded images stay one at a time in its
  // scratch, and the ops after the head stay fused with it) and reports the head's share from the chain's
  // timing of its first ops, wherever that times the head alone: always for a head that ends variable.
  f.head_timed = f.augment->can_time_prefix(h);
  if (f.head_timed) f.augment->time_prefix(h);
}

std::vector<std::optional<transform::Chain>> SampleProcessor::head_chains() const {
  std::vector<std::optional<transform::Chain>> chains(fields_.size());
  const auto& infos = dataset_->fields();
  for (std::size_t f = 0; f < fields_.size(); ++f)
    if (fields_[f].head_ops > 0)
      chains[f].emplace(fields_[f].head_specs, fields_[f].prepared, Stage::augment, infos[f].name,
                        transform::OpRegistry::global(), true, 0, fields_[f].past_head.variable);
  return chains;
}

void SampleProcessor::augment_rest(std::size_t field, const std::byte* in, std::byte* out, std::size_t n,
                                   const std::uint64_t* ids, std::uint64_t epoch) {
  Field& f = fields_[field];
  FERRY_ENFORCE(f.rest, "field ", field, " has no movable augment head");
  f.rest->run(in, out, n, ids, config_.seed, epoch);
}

void SampleProcessor::augment_rest(std::size_t field, std::span<const transform::SampleRef> in,
                                   std::byte* out, const std::uint64_t* ids, std::uint64_t epoch) {
  Field& f = fields_[field];
  FERRY_ENFORCE(f.rest && f.past_head.variable, "field ", field, " has no augment head that ends variable");
  f.rest->run_variable(in, out, ids, config_.seed, epoch);
}

}  // namespace ferry::loader
