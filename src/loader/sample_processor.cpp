#include "loader/sample_processor.hpp"

#include <chrono>
#include <cstring>

#include "core/check.hpp"
#include "core/hash.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"

namespace ferry::loader {
namespace {

class Stopwatch {
 public:
  explicit Stopwatch(double& total) : total_(total), start_(std::chrono::steady_clock::now()) {}
  ~Stopwatch() { total_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }

 private:
  double& total_;
  std::chrono::steady_clock::time_point start_;
};

const std::vector<OpSpec>* find_chain(const std::vector<FieldChain>& chains, const std::string& field) {
  for (const auto& c : chains)
    if (c.field == field) return &c.ops;
  return nullptr;
}

}  // namespace

SampleProcessor::SampleProcessor(const PipelineConfig& config)
    : config_(config), dataset_(Dataset::open(config.dataset)) {
  Fingerprint fp;
  fp.add(dataset_->fingerprint());
  for (const auto& info : dataset_->fields()) {
    Field f;
    f.variable = info.variable;
    const auto* prepare_ops = find_chain(config.prepare, info.name);
    const auto* augment_ops = find_chain(config.augment, info.name);
    // A vlen field is u8[?] to its chains: decode_* and the ops after it give it a fixed shape.
    f.raw = info.variable ? transform::TensorDesc::bytes_of_variable_length()
                          : transform::TensorDesc::of(info.dtype, info.shape);
    f.prepared = f.raw;
    if (prepare_ops && !prepare_ops->empty()) {
      f.prepare.emplace(*prepare_ops, f.raw, Stage::prepare, info.name);
      f.prepared = f.prepare->output();
    }
    f.variable = f.prepared.variable;
    f.output = f.prepared;
    if (augment_ops && !augment_ops->empty()) {
      f.augment.emplace(*augment_ops, f.prepared, Stage::augment, info.name);
      f.output = f.augment->output();
    }
    f.past_head = f.prepared;
    if (f.augment) find_head(f, *augment_ops, info.name);
    fp.add(info.name).add(f.prepare ? f.prepare->fingerprint() : 0);
    fields_.push_back(std::move(f));
  }
  prepare_fingerprint_ = fp.value();
  head_movable_ = head_found_ && head_why_.empty();
  if (!head_found_) head_why_ = "no field's augment stage starts with an op that draws no random numbers";
}

void SampleProcessor::read_prepared(std::size_t field, std::span<const std::uint64_t> ids, std::byte* out,
                                    Skipped* skipped) {
  Field& f = fields_[field];
  if (!f.prepare) {
    Stopwatch watch(timings_.read);
    dataset_->read(field, ids, out);
    return;
  }
  if (f.raw.variable) {
    staging_.clear();
    sizes_.clear();
    {
      Stopwatch watch(timings_.read);
      dataset_->read_vlen(field, ids, staging_, sizes_);
    }
    Stopwatch watch(timings_.prepare);
    prepare_variable(*f.prepare, field, staging_.data(), sizes_, ids, out, skipped);
    return;
  }
  const std::size_t need = ids.size() * f.raw.bytes();
  if (staging_.size() < need) staging_.resize(need);
  {
    Stopwatch watch(timings_.read);
    dataset_->read(field, ids, staging_.data());
  }
  // Prepare is deterministic: seed and epoch do not enter it.
  Stopwatch watch(timings_.prepare);
  f.prepare->run(staging_.data(), out, ids.size(), ids.data(), config_.seed, 0);
}

void SampleProcessor::read_raw(std::size_t field, std::span<const std::uint64_t> ids, std::byte* out) {
  Stopwatch watch(timings_.read);
  dataset_->read(field, ids, out);
}

std::vector<std::optional<transform::Chain>> SampleProcessor::prepare_chains() const {
  std::vector<std::optional<transform::Chain>> chains(fields_.size());
  const auto& infos = dataset_->fields();
  for (std::size_t f = 0; f < fields_.size(); ++f) {
    const auto* ops = find_chain(config_.prepare, infos[f].name);
    if (fields_[f].prepare && ops) chains[f].emplace(*ops, fields_[f].raw, Stage::prepare, infos[f].name);
  }
  return chains;
}

namespace {

void offsets_of(std::span<const std::uint64_t> sizes, std::vector<std::uint64_t>& offsets) {
  offsets.assign(sizes.size() + 1, 0);
  for (std::size_t i = 0; i < sizes.size(); ++i) offsets[i + 1] = offsets[i] + sizes[i];
}

}  // namespace

void SampleProcessor::rethrow_sample(std::size_t field, const transform::SampleError& e) const {
  throw TransformError(str_cat(dataset_->locate(field, e.id()), ": ", e.what()));
}

template <typename Run>
void SampleProcessor::variable_run(std::size_t field, const std::uint64_t* ids, Skipped* skipped,
                                   Run&& run) const {
  if (!skips()) {
    try {
      run(nullptr);
    } catch (const transform::SampleError& e) {
      rethrow_sample(field, e);
    }
    return;
  }
  FERRY_ENFORCE(skipped, "bad_samples = skip needs a list for the skipped samples");
  thread_local std::vector<transform::SampleFailure> failed;  // per thread: prepare workers share this
  failed.clear();
  run(&failed);
  for (const auto& failure : failed) {
    skipped->push_back(failure.index);
    const std::uint64_t id = ids[failure.index];
    {
      std::lock_guard<std::mutex> lock(warned_mutex_);
      if (!warned_.insert(id).second) continue;
    }
    log::warn("skipped (bad_samples = skip): {}: {}", dataset_->locate(field, id), failure.what);
  }
}

void SampleProcessor::prepare_variable(transform::Chain& chain, std::size_t field, const std::byte* bytes,
                                       std::span<const std::uint64_t> sizes,
                                       std::span<const std::uint64_t> ids, std::byte* out,
                                       Skipped* skipped) const {
  thread_local std::vector<std::uint64_t> offsets;  // per thread: prepare workers share the processor
  offsets_of(sizes, offsets);
  // Prepare is deterministic: seed and epoch do not enter it.
  variable_run(field, ids.data(), skipped, [&](std::vector<transform::SampleFailure>* failed) {
    chain.run_variable(bytes, offsets.data(), out, ids.size(), ids.data(), config_.seed, 0, failed);
  });
}

// The movable head's run (the rest of it is in sample_processor_head.cpp): here for variable_run.
void SampleProcessor::run_head(transform::Chain& chain, std::size_t field, const std::byte* in,
                               const std::uint64_t* offsets, std::byte* out, std::size_t n,
                               const std::uint64_t* ids, Skipped* skipped) const {
  // The head draws nothing: seed and epoch do not enter it.
  if (!offsets) {
    chain.run(in, out, n, ids, config_.seed, 0);
    return;
  }
  variable_run(field, ids, skipped, [&](std::vector<transform::SampleFailure>* failed) {
    chain.run_variable(in, offsets, out, n, ids, config_.seed, 0, failed);
  });
}

void SampleProcessor::run_head(transform::Chain& chain, std::size_t field, const std::byte* in,
                               const std::uint64_t* offsets, std::size_t n, const std::uint64_t* ids,
                               transform::ShapedSamples& out, Skipped* skipped) const {
  variable_run(field, ids, skipped, [&](std::vector<transform::SampleFailure>* failed) {
    chain.run_shaped(in, offsets, n, ids, config_.seed, 0, out, failed);
  });
}

void SampleProcessor::augment_variable(std::size_t field, const std::byte* in, const std::uint64_t* offsets,
                                       std::byte* out, std::size_t n, const std::uint64_t* ids,
                                       std::uint64_t epoch, Skipped* skipped, std::uint64_t* head_ns) {
  Field& f = fields_[field];
  Stopwatch watch(timings_.augment);
  variable_run(field, ids, skipped, [&](std::vector<transform::SampleFailure>* failed) {
    f.augment->run_variable(in, offsets, out, n, ids, config_.seed, epoch, failed);
  });
  const std::uint64_t head = f.augment->take_prefix_ns();
  if (head_ns) *head_ns += head;
}

std::optional<transform::DeviceProgram> SampleProcessor::augment_program(std::size_t field,
                                                                         std::string* why) const {
  const Field& f = fields_[field];
  if (!f.augment) {
    if (why) *why = "it has no augment chain";
    return std::nullopt;
  }
  return f.augment->device_program(why);
}

void SampleProcessor::augment(std::size_t field, const std::byte* in, std::byte* out, std::size_t n,
                              const std::uint64_t* ids, std::uint64_t epoch) {
  Field& f = fields_[field];
  if (!f.augment) {
    std::memcpy(out, in, n * f.prepared.bytes());
    return;
  }
  Stopwatch watch(timings_.augment);
  f.augment->run(in, out, n, ids, config_.seed, epoch);
}

}  // namespace ferry::loader
