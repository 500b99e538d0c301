// A transform op as the chain runs it, the arguments its factory reads, and the registry of ops by name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/transform.hpp"
#include "transform/device_program.hpp"
#include "transform/tensor_desc.hpp"

namespace ferry::transform {

// One application of an op to a batch of `n` contiguous samples. `keys` holds one random key per sample
// (hash of seed, epoch, sample ID and the op's index in the chain); null for deterministic ops.
struct OpRun {
  const std::byte* in;
  std::byte* out;  // never overlaps `in`
  std::size_t n;
  const std::uint64_t* keys;
  // Keys of the random op this one absorbed (Op::absorb), for its op index; null when it absorbed none.
  const std::uint64_t* absorbed_keys = nullptr;
};

// One sample of a variable-shape chain head (Chain::run_variable): `in_desc` is this sample's actual
// description (fixed), `out_desc` what sample_output() said for it; `out` holds out_desc.bytes().
struct SampleRun {
  const std::byte* in;
  std::size_t in_bytes;
  const TensorDesc& in_desc;
  std::byte* out;
  const TensorDesc& out_desc;
  std::uint64_t key;               // the sample's random key for this op; 0 for deterministic ops
  std::uint64_t absorbed_key = 0;  // the key of the random op this one absorbed, if any
};

class Op {
 public:
  Op(std::string text, TensorDesc output) : text_(std::move(text)), output_(std::move(output)) {}
  virtual ~Op() = default;
  Op(const Op&) = delete;
  Op& operator=(const Op&) = delete;

  // Canonical text with every parameter resolved ("cast(to=f32, scale=1, shift=0)"): the fingerprint input,
  // so two spellings of the same op cache to the same entries.
  const std::string& text() const noexcept { return text_; }
  const TensorDesc& output() const noexcept { return output_; }
  // Not const: random ops keep per-sample scratch that grows with the batch.
  virtual void run(const OpRun& run) = 0;
  // The op as an accelerator step, when the CUDA launcher has its kernel (see device_program.hpp).
  virtual std::optional<DeviceStep> device_step() const { return std::nullopt; }
  // Folds the op that follows this one in the chain into this op, when this op can compute both in one
  // pass with the bytes the two would give one after the other (random_resized_crop takes random_flip,
  // cast and normalize: it writes the floats once). `next` is the next op described as a DeviceStep, its
  // `in` and `out` filled in. On true, sample_output() and run() give `next.out` from then on (output()
  // still describes the op alone) and the chain no longer runs the absorbed op; an op absorbs at most one
  // random op, whose keys then come in OpRun::absorbed_keys / SampleRun::absorbed_key. The default absorbs
  // nothing.
  virtual bool absorb(const DeviceStep& next) { return false; }

  // Ops registered with OpInfo::variable_input run one sample at a time while the shape varies:
  // sample_output() gives the output description of one sample (fixed dimensions) from its input bytes and
  // actual description, run_sample() computes it. The default of both throws InternalError.
  virtual TensorDesc sample_output(const std::byte* in, std::size_t in_bytes, const TensorDesc& in_desc);
  virtual void run_sample(const SampleRun& run);

 private:
  std::string text_;
  TensorDesc output_;
};

// What an op factory reads: the spec's parameters (typed, with the op and field named in every error) and
// the input description. Parameter problems throw ConfigError; input problems throw TransformError.
class OpArgs {
 public:
  OpArgs(const OpSpec& spec, const TensorDesc& input, std::string_view field);

  const TensorDesc& input() const noexcept { return input_; }
  const std::string& op() const noexcept { return spec_.name; }

  double number(std::string_view key, std::optional<double> fallback = std::nullopt) const;
  // A whole number >= `min` and <= kMaxCount (sizes and paddings: their sums and products stay far from
  // overflowing).
  static constexpr std::size_t kMaxCount = std::size_t{1} << 20;
  std::size_t count(std::string_view key, std::optional<std::size_t> fallback = std::nullopt,
                    std::size_t min = 1) const;
  // "[a, b, c]" or a single number; at least one value.
  std::vector<double> numbers(std::string_view key) const;
  std::string word(std::string_view key, std::string_view fallback) const;
  bool has(std::string_view key) const { return find(key) != nullptr; }
  // An output size given as size=N (square) or as height and width: {height, width}.
  std::pair<std::size_t, std::size_t> window() const;

  [[noreturn]] void bad_param(std::string_view key, const std::string& why) const;
  [[noreturn]] void fail(const std::string& why) const;
  // Input checks, each a TransformError naming op, field and what it got.
  void need_f32() const;
  void need_u8_or_f32() const;
  void need_image() const;
  void need_layout(ImageLayout layout) const;

  // "field 'image': op normalize": how messages start.
  std::string context() const;

 private:
  const std::string* find(std::string_view key) const;

  const OpSpec& spec_;
  const TensorDesc& input_;
  std::string field_;
};

using OpFactory = std::function<std::unique_ptr<Op>(const OpArgs&)>;

struct OpInfo {
  OpFactory make;
  std::vector<std::string> params;  // accepted parameter names, in canonical order
  bool random = false;              // draws from the per-sample key: augment stage only
  // Takes variable-shape input (decode, resize(shorter), crops): implements sample_output/run_sample.
  bool variable_input = false;
};

// Ops by name. global() holds the built-in ops; add() more at startup, before chains are built (the
// registry is not locked).
class OpRegistry {
 public:
  static OpRegistry& global();

  // Throws InternalError when `name` is taken.
  void add(const std::string& name, OpInfo info);
  const OpInfo* find(std::string_view name) const;
  std::vector<std::string> names() const;

 private:
  std::map<std::string, OpInfo, std::less<>> ops_;
};

// Built-in registrations (ops_elementwise.cpp with ops_cast.cpp, ops_image.cpp with ops_window.cpp,
// ops_decode.cpp, ops_resized_crop.cpp).
void add_elementwise_ops(OpRegistry& registry);
void add_image_ops(OpRegistry& registry);
void add_decode_ops(OpRegistry& registry);
void add_resized_crop_ops(OpRegistry& registry);

// Shortest text that reads back as the same double ("1", "0.5", "0.00392"): canonical op texts use it.
std::string format_number(double value);
std::string format_numbers(const std::vector<double>& values);

}  // namespace ferry::transform
