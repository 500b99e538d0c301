#include "transform/chain.hpp"

#include <algorithm>
#include <cstring>

#include "core/check.hpp"
#include "core/hash.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "transform/dispatch.hpp"
#include "transform/kernels_elementwise.hpp"

namespace ferry::transform {

namespace {

constexpr const char* kFixingOps =
    "resize(height, width), center_crop(height, width) or random_resized_crop(size)";

void check_params(const OpSpec& spec, const OpInfo& info, const std::string& field) {
  for (const auto& param : spec.params) {
    const std::string& key = param.first;  // a named reference, not a binding: clang 14 cannot capture those
    if (std::find(info.params.begin(), info.params.end(), key) == info.params.end()) {
      throw ConfigError(str_cat("field '", field, "': op ", spec.name, ": unknown parameter '", key, "' (",
                                info.params.empty() ? "it takes none" : str_cat("known: ", join(info.params)),
                                ")"));
    }
    const auto same = [&](const auto& p) { return p.first == key; };
    if (std::count_if(spec.params.begin(), spec.params.end(), same) > 1) {
      throw ConfigError(
          str_cat("field '", field, "': op ", spec.name, ": parameter '", key, "' given twice"));
    }
  }
}

}  // namespace

Chain::Chain(std::vector<OpSpec> specs, TensorDesc input, Stage stage, std::string field,
             const OpRegistry& registry, bool fuse, std::size_t first_index, bool variable_end)
    : input_(std::move(input)),
      output_(input_),
      stage_(stage),
      field_(std::move(field)),
      first_index_(first_index) {
  max_sample_bytes_ = input_.bytes();
  Fingerprint fp;
  fp.add("ferry.transform.chain.v1").add(dtype_name(input_.dtype)).add(layout_name(input_.layout));
  fp.add(std::uint64_t{input_.shape.size()});
  for (std::size_t d : input_.shape) fp.add(std::uint64_t{d});

  for (const OpSpec& spec : specs) {
    const OpInfo* info = registry.find(spec.name);
    if (!info) {
      throw TransformError(str_cat("field '", field_, "': unknown op '", spec.name,
                                   "' (known: ", join(registry.names()), ")"));
    }
    if (info->random && stage_ == Stage::prepare) {
      throw TransformError(
          str_cat("field '", field_, "': ", spec.name, " is random: put it in the augment stage"));
    }
    check_params(spec, *info, field_);
    const bool variable_in = output_.variable;
    if (variable_in && !info->variable_input) {
      throw TransformError(
          str_cat("field '", field_, "': op ", spec.name, " needs a fixed shape, but ",
                  ops_.empty() ? "the field" : str_cat("the output of ", ops_.back().op->text()), " is ",
                  output_.str(), " (it varies per sample): put ", kFixingOps, " before it"));
    }
    std::unique_ptr<Op> op = info->make(OpArgs(spec, output_, field_));
    if (variable_in) head_ = ops_.size() + 1;
    output_ = op->output();
    if (ops_.size() + 1 < specs.size())
      max_intermediate_bytes_ = std::max(max_intermediate_bytes_, output_.bytes());
    max_sample_bytes_ = std::max(max_sample_bytes_, output_.bytes());
    fp.add(op->text());
    random_ = random_ || info->random;
    ops_.push_back({std::move(op), info->random});
  }
  if (output_.variable && !variable_end) {
    throw TransformError(str_cat("field '", field_, "': chain '", text(), "' ends with ", output_.str(),
                                 ", a shape that varies per sample; a batch needs one shape: end it with ",
                                 kFixingOps));
  }
  // An op that ends a chain in a variable shape takes a variable one (decode, resize(shorter)): every op of
  // such a chain runs per sample.
  FERRY_ENFORCE(!output_.variable || head_ == ops_.size(), "chain '", text(),
                "' ends variable after a fixed op");
  fingerprint_ = fp.value();
  if (fuse) fuse_steps();
}

void Chain::fuse_steps() {
  // Only ops with a fixed input are absorbed: the per-sample head keeps its one op per variable shape.
  for (std::size_t k = 0; k < ops_.size(); ++k) {
    if (k + 1 < head_) continue;
    Step& s = ops_[k];
    std::size_t next = k + 1;
    for (; next < ops_.size(); ++next) {
      const Step& n = ops_[next];
      if (n.random && s.absorbed_random) break;  // keys for one absorbed random op only
      std::optional<DeviceStep> step = n.op->device_step();
      if (!step) break;
      step->in = ops_[next - 1].op->output();
      step->out = n.op->output();
      if (!s.op->absorb(*step)) break;
      if (n.random) s.absorbed_random = next;
    }
    s.absorbed = next - k - 1;
    k = next - 1;
  }
}

Chain::~Chain() = default;
Chain::Chain(Chain&&) noexcept = default;
Chain& Chain::operator=(Chain&&) noexcept = default;

std::size_t Chain::absorbed_ops() const noexcept {
  std::size_t count = 0;
  for (const Step& s : ops_) count += s.absorbed;
  return count;
}

std::string Chain::text() const {
  std::vector<std::string> parts;
  for (const Step& s : ops_) parts.push_back(s.op->text());
  return join(parts, " | ");
}

std::optional<DeviceProgram> Chain::device_program(std::string* why) const {
  if (head_ > 0) {
    if (why) *why = str_cat("op ", ops_.front().op->text(), " takes a variable shape and runs on CPUs");
    return std::nullopt;
  }
  DeviceProgram program{input_, output_, {}, false, max_sample_bytes_};
  TensorDesc in = input_;
  for (std::size_t k = 0; k < ops_.size(); ++k) {
    const Step& s = ops_[k];
    auto step = s.op->device_step();
    if (!step) {
      if (why) *why = str_cat("op ", s.op->text(), " has no device kernel");
      return std::nullopt;
    }
    step->in = in;
    step->out = s.op->output();
    // The index Chain::run hashes into the sample keys.
    step->op_index = static_cast<std::uint32_t>(k + first_index_);
    program.random = program.random || step->random;
    in = step->out;
    program.steps.push_back(std::move(*step));
  }
  if (program.steps.empty()) {
    if (why) *why = "the chain is empty";
    return std::nullopt;
  }
  return program;
}

std::byte* Chain::scratch(std::size_t which, std::size_t bytes) {
  // Grows only when a batch is larger than every earlier one; steady state allocates nothing.
  if (scratch_[which].size() < bytes) scratch_[which].resize(bytes);
  return scratch_[which].data();
}

void Chain::run(const std::byte* in, std::byte* out, std::size_t n, const std::uint64_t* ids,
                std::uint64_t seed, std::uint64_t epoch) {
  FERRY_ENFORCE(head_ == 0, "chain '", text(), "' has a variable input: use run_variable");
  if (n == 0) return;
  if (ops_.empty()) {
    std::memcpy(out, in, n * input_.bytes());
    return;
  }
  if (random_ && !ids) {
    throw TransformError(
        str_cat("field '", field_, "': chain '", text(), "' is random and needs sample IDs"));
  }
  ensure_kokkos();
  run_from(0, in, out, n, ids, hash_combine(seed, epoch), 0);
}

const std::uint64_t* Chain::make_keys(std::vector<std::uint64_t>& keys, std::size_t k, std::size_t n,
                                      const std::uint64_t* ids, std::uint64_t batch_key) {
  if (keys.size() < n) keys.resize(n);
  const kernels::SampleKeys make{ids, keys.data(), batch_key, k + first_index_};
  for (std::size_t i = 0; i < n; ++i) make(i);
  return keys.data();
}

void Chain::run_from(std::size_t first, const std::byte* src, std::byte* out, std::size_t n,
                     const std::uint64_t* ids, std::uint64_t batch_key, std::size_t parity) {
  for (std::size_t k = first; k < ops_.size(); k += 1 + ops_[k].absorbed) {
    Step& step = ops_[k];
    const bool last = k + step.absorbed + 1 == ops_.size();
    std::byte* dst = last ? out : scratch(parity, n * max_intermediate_bytes_);
    parity ^= 1;
    const std::uint64_t* keys = step.random ? make_keys(keys_, k, n, ids, batch_key) : nullptr;
    const std::uint64_t* absorbed =
        step.absorbed_random ? make_keys(absorbed_keys_, step.absorbed_random, n, ids, batch_key) : nullptr;
    step.op->run({src, dst, n, keys, absorbed});
    src = dst;
  }
}

}  // namespace ferry::transform
