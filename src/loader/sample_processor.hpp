// One pipeline's sample work: read from HDF5, run the prepare chain (deterministic, cacheable) and the
// augment chain (random per (seed, epoch, ID)). LocalLoader uses all of it; in the distributed system the
// transformation ranks run read_prepared() and the consumers run augment().
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <vector>

#include "ferry/config.hpp"
#include "ferry/dataset.hpp"
#include "transform/chain.hpp"
#include "transform/tensor_desc.hpp"

namespace ferry::loader {

class SampleProcessor {
 public:
  // Opens the dataset and builds every chain; throws DatasetError / TransformError / ConfigError.
  explicit SampleProcessor(const PipelineConfig& config);

  Dataset& dataset() noexcept { return *dataset_; }
  const PipelineConfig& config() const noexcept { return config_; }
  std::size_t field_count() const noexcept { return fields_.size(); }
  // The prepared samples of `field` (what entries and caches hold) are variable-length bytes: a vlen field
  // without a prepare chain. A vlen field whose prepare chain decodes it is fixed after prepare.
  bool variable(std::size_t field) const noexcept { return fields_[field].variable; }
  // The field is stored as variable-length bytes (read with read_vlen).
  bool raw_variable(std::size_t field) const noexcept { return fields_[field].raw.variable; }
  // A sample of `field` after prepare (what a cache holds) and after augment (what a batch holds).
  const transform::TensorDesc& prepared(std::size_t field) const noexcept { return fields_[field].prepared; }
  const transform::TensorDesc& output(std::size_t field) const noexcept { return fields_[field].output; }
  bool has_augment(std::size_t field) const noexcept { return fields_[field].augment.has_value(); }
  // Seconds spent so far in HDF5 reads, the prepare chains and the augment chains.
  struct Timings {
    double read = 0, prepare = 0, augment = 0;
  };
  const Timings& timings() const noexcept { return timings_; }
  // Identifies prepared samples: dataset fingerprint and every field's prepare chain.
  std::uint64_t prepare_fingerprint() const noexcept { return prepare_fingerprint_; }

  // Samples a chain could not take (bad_samples = skip): their indices in the call's `ids`, ascending; each
  // one's line ("skipped: FILE: dataset D, sample ID: ...") is logged as a warning once per processor. With
  // bad_samples = fail the calls below throw TransformError with that line instead.
  using Skipped = std::vector<std::size_t>;
  bool skips() const noexcept { return config_.bad_samples == BadSamples::skip; }

  // Prepared samples of fixed-size `field` for strictly increasing `ids`, sample-major into `out`. A
  // skipped sample's bytes are zeros and its index goes to `skipped` (required when skips()).
  void read_prepared(std::size_t field, std::span<const std::uint64_t> ids, std::byte* out,
                     Skipped* skipped = nullptr);
  // The same in two steps, for a reader thread and prepare workers: read_raw() reads the samples as stored
  // (raw(field).bytes() each); a copy of the prepare chains from prepare_chains() turns them into prepared
  // samples on another thread (one copy per thread: a Chain is not thread-safe). HDF5 is not thread-safe
  // here: read_raw() stays on one thread.
  const transform::TensorDesc& raw(std::size_t field) const noexcept { return fields_[field].raw; }
  void read_raw(std::size_t field, std::span<const std::uint64_t> ids, std::byte* out);
  // Per field: a fresh copy of its prepare chain, or nothing when it has none.
  std::vector<std::optional<transform::Chain>> prepare_chains() const;
  // Runs `chain` (a prepare chain of raw_variable field `field`, from prepare_chains()) over n encoded
  // samples, back to back in `bytes` with lengths `sizes`, into `out` (n * prepared(field).bytes()). A
  // sample the chain cannot take fails with one line naming file, dataset and sample ID, or is skipped.
  void prepare_variable(transform::Chain& chain, std::size_t field, const std::byte* bytes,
                        std::span<const std::uint64_t> sizes, std::span<const std::uint64_t> ids,
                        std::byte* out, Skipped* skipped) const;
  // The field's augment chain as an accelerator program; nothing (and `why`) when it has no augment chain or
  // an op without a device kernel.
  std::optional<transform::DeviceProgram> augment_program(std::size_t field,
                                                          std::string* why = nullptr) const;
  std::uint64_t seed() const noexcept { return config_.seed; }
  // The augment stage's movable head (docs/heterogeneous.md, "The movable head"): the leading ops of a
  // field's augment chain that draw no per-sample key (decode_jpeg, resize, center_crop, cast ...), up to
  // its first random op. They give the same bytes wherever they run, so a transformation rank may run them
  // and send the samples past the head; the consumer runs the rest (augment_rest). A head may end in a fixed
  // shape (decode | resize | center_crop) or in one that varies per sample (decode alone, before a
  // random_resized_crop): then past_head(field) is variable and its samples travel with their shapes
  // (transform::ShapedSamples). A pipeline's head is movable when some field has one (head_why() says why
  // not).
  bool head_movable() const noexcept { return head_movable_; }
  // Some field's augment chain starts with such ops (movable or not).
  bool has_head() const noexcept { return head_found_; }
  const std::string& head_why() const noexcept { return head_why_; }
  std::size_t head_ops(std::size_t field) const noexcept { return fields_[field].head_ops; }
  // The head runs per sample at the front of the whole augment chain, which times it (augment_variable's
  // head_ns): a consumer running the head itself runs the chain whole.
  bool head_timed(std::size_t field) const noexcept { return fields_[field].head_timed; }
  // A sample of `field` past the head (prepared() for a field without one); variable where the head ends in
  // a per-sample shape.
  const transform::TensorDesc& past_head(std::size_t field) const noexcept {
    return fields_[field].past_head;
  }
  // Per field: a fresh copy of its head chain, or nothing when it has none (one copy per thread).
  std::vector<std::optional<transform::Chain>> head_chains() const;
  // Runs `chain` (field's, from head_chains(), past_head(field) fixed) over n prepared samples: fixed ones
  // back to back in `in` (offsets null), variable ones at in[offsets[i], offsets[i+1]); into `out` (n *
  // past_head(field)). A sample it cannot take fails with one line naming file, dataset and ID, or is
  // skipped.
  void run_head(transform::Chain& chain, std::size_t field, const std::byte* in, const std::uint64_t* offsets,
                std::byte* out, std::size_t n, const std::uint64_t* ids, Skipped* skipped) const;
  // The same for a head that ends variable: n variable samples at in[offsets[i], offsets[i+1]) into `out`
  // with their shapes (a skipped sample is empty there).
  void run_head(transform::Chain& chain, std::size_t field, const std::byte* in, const std::uint64_t* offsets,
                std::size_t n, const std::uint64_t* ids, transform::ShapedSamples& out,
                Skipped* skipped) const;
  // The augment stage's ops after the head, from n samples past it (n * past_head(field) bytes) into `out`
  // (n * output(field)): with the head, the bytes augment() gives.
  void augment_rest(std::size_t field, const std::byte* in, std::byte* out, std::size_t n,
                    const std::uint64_t* ids, std::uint64_t epoch);
  // The same from samples past a head that ended variable, with their shapes (checked by the receiver).
  void augment_rest(std::size_t field, std::span<const transform::SampleRef> in, std::byte* out,
                    const std::uint64_t* ids, std::uint64_t epoch);
  // Augments n prepared samples (ids in the same order) into `out`; copies when the field has no augment
  // chain.
  void augment(std::size_t field, const std::byte* in, std::byte* out, std::size_t n,
               const std::uint64_t* ids, std::uint64_t epoch);
  // The same for a variable() field whose augment chain decodes it: sample i is in[offsets[i],
  // offsets[i+1]). A sample it cannot take fails, or is skipped (its position goes to `skipped`). With a
  // head timed inside the chain (head_timed()), the nanoseconds its ops took are added to `head_ns` (when
  // given).
  void augment_variable(std::size_t field, const std::byte* in, const std::uint64_t* offsets, std::byte* out,
                        std::size_t n, const std::uint64_t* ids, std::uint64_t epoch,
                        Skipped* skipped = nullptr, std::uint64_t* head_ns = nullptr);

 private:
  struct Field {
    bool variable = false;
    transform::TensorDesc raw, prepared, output;
    std::optional<transform::Chain> prepare, augment;
    std::size_t head_ops = 0;              // the augment chain's leading deterministic ops
    bool head_timed = false;               // ... timed inside the whole chain (Chain::time_prefix)
    std::vector<OpSpec> head_specs;        // ... as configured
    transform::TensorDesc past_head;       // a sample after them
    std::optional<transform::Chain> rest;  // the augment ops after them
  };
  // Finds field f's head (sample_processor_head.cpp); `ops` is its augment chain.
  void find_head(Field& f, const std::vector<OpSpec>& ops, const std::string& name);
  bool head_found_ = false, head_movable_ = false;
  std::string head_why_;
  PipelineConfig config_;
  std::unique_ptr<Dataset> dataset_;
  std::vector<Field> fields_;
  [[noreturn]] void rethrow_sample(std::size_t field, const transform::SampleError& e) const;
  // Runs `run` (a run_variable call that records failures) and applies the bad_samples policy to them.
  template <typename Run>
  void variable_run(std::size_t field, const std::uint64_t* ids, Skipped* skipped, Run&& run) const;

  std::vector<std::byte> staging_;    // raw samples before prepare; grows to the largest batch once
  std::vector<std::uint64_t> sizes_;  // of the variable-length samples in staging_
  std::uint64_t prepare_fingerprint_ = 0;
  Timings timings_;
  mutable std::mutex warned_mutex_;         // prepare workers share the processor
  mutable std::set<std::uint64_t> warned_;  // IDs of the skipped samples already warned about
};

}  // namespace ferry::loader
