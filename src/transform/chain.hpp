// A validated sequence of transform ops for one field and stage, run over batches of samples.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ferry/transform.hpp"
#include "transform/device_program.hpp"
#include "transform/op.hpp"
#include "transform/tensor_desc.hpp"

namespace ferry::transform {

class Chain {
 public:
  // Builds and checks every op against the description flowing into it. Throws TransformError for an
  // unknown op, a random op in the prepare stage, or an input an op cannot take (dtype, shape, layout), and
  // ConfigError for a missing, unknown or bad parameter; every message names `field` and the op.
  Chain(std::vector<OpSpec> ops, TensorDesc input, Stage stage, std::string field,
        const OpRegistry& registry = OpRegistry::global());
  ~Chain();
  Chain(Chain&&) noexcept;
  Chain& operator=(Chain&&) noexcept;

  const TensorDesc& input() const noexcept { return input_; }
  const TensorDesc& output() const noexcept { return output_; }
  Stage stage() const noexcept { return stage_; }
  const std::string& field() const noexcept { return field_; }
  bool empty() const noexcept { return ops_.empty(); }
  std::size_t size() const noexcept { return ops_.size(); }
  // True when some op draws random numbers (then run() needs sample IDs).
  bool random() const noexcept { return random_; }
  // Largest per-sample size of the input, any intermediate and the output, in bytes.
  std::size_t max_sample_bytes() const noexcept { return max_sample_bytes_; }
  // Identifies what the chain computes: the input description and the canonical texts of its ops (every
  // parameter resolved, so "cast" and "cast(scale=1.0)" agree). Part of the cache key for prepared samples.
  std::uint64_t fingerprint() const noexcept { return fingerprint_; }
  // Canonical ops joined by " | " (empty for an empty chain).
  std::string text() const;
  // The chain as accelerator steps when every op has a device kernel; else nothing, and `why` (when given)
  // names the first op that has none.
  std::optional<DeviceProgram> device_program(std::string* why = nullptr) const;

  // Transforms n contiguous samples from `in` (n * input().bytes()) into `out` (n * output().bytes());
  // the buffers must not overlap. ids[i] is sample i's data ID; needed when random(), else may be null.
  // A random op's draws depend only on (seed, epoch, ids[i], the op's index in the chain, element), so a
  // sample's result does not depend on its batch or position. Not thread-safe: the chain owns its scratch,
  // which grows to the largest batch seen and is then reused.
  void run(const std::byte* in, std::byte* out, std::size_t n, const std::uint64_t* ids, std::uint64_t seed,
           std::uint64_t epoch);

 private:
  struct Step {
    std::unique_ptr<Op> op;
    bool random;
  };

  std::byte* scratch(std::size_t which, std::size_t bytes);

  std::vector<Step> ops_;
  TensorDesc input_;
  TensorDesc output_;
  Stage stage_;
  std::string field_;
  bool random_ = false;
  std::size_t max_sample_bytes_ = 0;
  std::size_t max_intermediate_bytes_ = 0;  // per sample, outputs of all ops but the last
  std::uint64_t fingerprint_ = 0;
  std::vector<std::byte> scratch_[2];  // ping-pong buffers between ops
  std::vector<std::uint64_t> keys_;    // per-sample random keys of the op being run
};

}  // namespace ferry::transform
