// A validated sequence of transform ops for one field and stage, run over batches of samples.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ferry/error.hpp"
#include "ferry/transform.hpp"
#include "transform/device_program.hpp"
#include "transform/op.hpp"
#include "transform/shaped_samples.hpp"
#include "transform/tensor_desc.hpp"

namespace ferry::transform {

// A sample that failed in the per-sample part of a chain (a corrupt JPEG): the message names field and op;
// the caller, who knows the file, adds where the sample is stored.
class SampleError : public TransformError {
 public:
  SampleError(std::uint64_t id, const std::string& what) : TransformError(what), id_(id) {}
  std::uint64_t id() const noexcept { return id_; }

 private:
  std::uint64_t id_;
};

// A sample the per-sample part of a chain could not take, recorded instead of thrown (bad_samples = skip):
// its index in the batch and the SampleError's message.
struct SampleFailure {
  std::size_t index;
  std::string what;
};

class Chain {
 public:
  // Builds and checks every op against the description flowing into it. Throws TransformError for an
  // unknown op, a random op in the prepare stage, or an input an op cannot take (dtype, shape, layout), and
  // ConfigError for a missing, unknown or bad parameter; every message names `field` and the op.
  // A variable input (vlen bytes) flows only through ops that take one (decode_*, resize(shorter),
  // center_crop, random_resized_crop, resize(height, width)) until one makes the shape fixed; an op that
  // needs a fixed shape before that, or a chain that ends variable, is a TransformError saying so.
  // With `fuse`, an op that can absorb the ops after it (Op::absorb) runs them in its own pass; the bytes
  // are the same either way (tests build both).
  // `first_index`: the index of the first op in the chain it continues, for a chain that runs the ops after
  // another's (the rest of an augment stage after its movable head, loader/sample_processor.hpp): random
  // ops hash their index in the whole chain, so the split pair draws what the whole chain draws.
  // `variable_end`: the chain may end in a per-sample shape (the movable head decode_jpeg alone): it runs
  // with run_shaped() only.
  Chain(std::vector<OpSpec> ops, TensorDesc input, Stage stage, std::string field,
        const OpRegistry& registry = OpRegistry::global(), bool fuse = true, std::size_t first_index = 0,
        bool variable_end = false);
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
  // Ops that run one sample at a time because their input shape varies (0 for a fixed input).
  std::size_t per_sample_ops() const noexcept { return head_; }
  // Ops that run inside the op before them (Op::absorb) instead of in a pass of their own.
  std::size_t absorbed_ops() const noexcept;
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
  // The same for a variable input: sample i is in[offsets[i], offsets[i+1]). The per-sample ops run one
  // sample at a time, the rest as run() does. A sample an op cannot take (corrupt bytes) throws SampleError
  // with its ID; with `failed` given it is appended there instead, its output is zeros and the others go on.
  // `ids` is required.
  void run_variable(const std::byte* in, const std::uint64_t* offsets, std::byte* out, std::size_t n,
                    const std::uint64_t* ids, std::uint64_t seed, std::uint64_t epoch,
                    std::vector<SampleFailure>* failed = nullptr);
  // The same for a variable input of more than one dimension (decoded images, from a chain that ended in a
  // per-sample shape): sample i is in[i], of input().shape.size() dimensions, into out + i *
  // output().bytes(). A shape that does not fit input() is an InternalError (the receiver checked it:
  // roles/shaped_sample.hpp).
  void run_variable(std::span<const SampleRef> in, std::byte* out, const std::uint64_t* ids,
                    std::uint64_t seed, std::uint64_t epoch, std::vector<SampleFailure>* failed = nullptr);
  // A chain built with `variable_end` over n variable inputs (sample i is in[offsets[i], offsets[i+1])):
  // every op runs per sample, and sample i's result is appended to `out` (reset to the output's rank) with
  // its shape. A sample that fails with `failed` given is appended empty (no bytes, every dimension 0).
  void run_shaped(const std::byte* in, const std::uint64_t* offsets, std::size_t n, const std::uint64_t* ids,
                  std::uint64_t seed, std::uint64_t epoch, ShapedSamples& out,
                  std::vector<SampleFailure>* failed = nullptr);
  // Times the first `ops` ops (all of them per-sample ops) in run_variable(): the movable head's share of a
  // chain that runs whole, as the consumer reports it (docs/heterogeneous.md). take_prefix_ns() returns the
  // nanoseconds spent in them since the last call.
  void time_prefix(std::size_t ops);
  // time_prefix(ops) would time exactly those ops: they all run per sample, and the last of them absorbed
  // none of the ops after it (fusion).
  bool can_time_prefix(std::size_t ops) const noexcept {
    return ops > 0 && ops <= head_ && ops_[ops - 1].absorbed == 0;
  }
  std::uint64_t take_prefix_ns() noexcept {
    const std::uint64_t ns = prefix_ns_;
    prefix_ns_ = 0;
    return ns;
  }

 private:
  struct Step {
    std::unique_ptr<Op> op;
    bool random;
    std::size_t absorbed = 0;         // ops after this one that it runs itself (Op::absorb)
    std::size_t absorbed_random = 0;  // index of the random op among them; 0: none
  };

  void fuse_steps();
  // What step k writes: the output of the last op it runs.
  const TensorDesc& step_output(std::size_t k) const { return ops_[k + ops_[k].absorbed].op->output(); }

  std::byte* scratch(std::size_t which, std::size_t bytes);
  // Ops [first, size()) over n fixed samples at `src`; hashes op indices as the whole chain does. The first
  // intermediate result goes to scratch buffer `parity`, the next to the other one, and so on.
  void run_from(std::size_t first, const std::byte* src, std::byte* out, std::size_t n,
                const std::uint64_t* ids, std::uint64_t batch_key, std::size_t parity);
  // The keys of op `k` for n samples into `keys`.
  const std::uint64_t* make_keys(std::vector<std::uint64_t>& keys, std::size_t k, std::size_t n,
                                 const std::uint64_t* ids, std::uint64_t batch_key);
  // The per-sample ops on sample `id` of description `desc` (chain_variable.cpp); the last one writes its
  // result where place(its description) says.
  void run_head(const std::byte* in, std::size_t bytes, TensorDesc desc, std::uint64_t id,
                std::uint64_t batch_key, const std::function<std::byte*(const TensorDesc&)>& place);
  // Sample i's description: the input's, with shape {bytes} (encoded bytes) or dims[0, rank) of a shaped one.
  TensorDesc sample_desc(std::size_t bytes, const std::size_t* dims) const;
  // run_variable over n samples; sample(i) gives sample i as a SampleRef (dims null: encoded bytes).
  void run_variable_from(const std::function<SampleRef(std::size_t)>& sample, std::byte* out, std::size_t n,
                         const std::uint64_t* ids, std::uint64_t batch_key,
                         std::vector<SampleFailure>* failed);

  std::vector<Step> ops_;
  TensorDesc input_;
  TensorDesc output_;
  Stage stage_;
  std::string field_;
  bool random_ = false;
  std::size_t max_sample_bytes_ = 0;
  std::size_t max_intermediate_bytes_ = 0;  // per sample, outputs of all ops but the last
  std::uint64_t fingerprint_ = 0;
  std::vector<std::byte> scratch_[2];         // ping-pong buffers between ops
  std::vector<std::uint64_t> keys_;           // per-sample random keys of the op being run
  std::vector<std::uint64_t> absorbed_keys_;  // ... and of the random op it absorbed
  std::size_t head_ = 0;                      // leading ops that run per sample (variable input)
  std::size_t first_index_ = 0;               // index of ops_[0] in the random keys (constructor)
  std::vector<std::byte> sample_[2];          // ping-pong buffers between per-sample ops
  std::size_t timed_ops_ = 0;                 // time_prefix()
  std::uint64_t prefix_ns_ = 0;
};

}  // namespace ferry::transform
