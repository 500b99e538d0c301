// Chain's runs over inputs whose shape varies per sample: encoded bytes (decode in the chain), decoded images
// with their shapes (the rest of an augment stage after a head that ended variable), and a chain that itself
// ends in a per-sample shape (that head). The per-sample ops run one sample at a time, the fixed part after
// them as Chain::run does (chain.cpp).
#include <chrono>
#include <cstring>

#include "core/check.hpp"
#include "core/hash.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "transform/chain.hpp"
#include "transform/dispatch.hpp"
#include "transform/kernels_elementwise.hpp"

namespace ferry::transform {

namespace {

// Runs body(i) for samples 0..n-1. A sample that throws goes to `failed` (with on_fail(i) to leave defined
// bytes) or, without it, ends the run: a SampleError as it is, any other Error as a SampleError with its ID.
// An InternalError (a broken rule of Ferry's own, not a bad sample) always ends the run as it is.
template <typename Body, typename OnFail>
void each_sample(std::size_t n, const std::uint64_t* ids, std::vector<SampleFailure>* failed, Body&& body,
                 OnFail&& on_fail) {
  for (std::size_t i = 0; i < n; ++i) {
    std::string why;
    try {
      body(i);
      continue;
    } catch (const SampleError& e) {
      if (!failed) throw;
      why = e.what();
    } catch (const InternalError&) {
      throw;
    } catch (const Error& e) {
      if (!failed) throw SampleError(ids[i], e.what());
      why = e.what();
    }
    failed->push_back({i, std::move(why)});
    on_fail(i);
  }
}

}  // namespace

TensorDesc Chain::sample_desc(std::size_t bytes, const std::size_t* dims) const {
  TensorDesc desc = input_;
  desc.variable = false;
  if (!dims) {
    FERRY_ENFORCE(input_.shape.size() == 1, "chain '", text(), "': a sample of ", input_.str(),
                  " needs its shape");
    desc.shape = {bytes};
    return desc;
  }
  desc.shape.assign(dims, dims + input_.shape.size());
  std::size_t elements = 1;
  for (std::size_t d = 0; d < desc.shape.size(); ++d) {
    FERRY_ENFORCE(input_.shape[d] == 0 || input_.shape[d] == desc.shape[d], "chain '", text(),
                  "': a sample of shape ", desc.shape_str(), " for an input of ", input_.str());
    FERRY_ENFORCE(!__builtin_mul_overflow(elements, desc.shape[d], &elements), "chain '", text(),
                  "': a sample of shape ", desc.shape_str(), " overflows");
  }
  FERRY_ENFORCE(elements * dtype_size(desc.dtype) == bytes, "chain '", text(), "': a sample of shape ",
                desc.shape_str(), " in ", bytes, " bytes");
  return desc;
}

void Chain::run_variable(const std::byte* in, const std::uint64_t* offsets, std::byte* out, std::size_t n,
                         const std::uint64_t* ids, std::uint64_t seed, std::uint64_t epoch,
                         std::vector<SampleFailure>* failed) {
  const auto sample = [&](std::size_t i) {
    return SampleRef{in + offsets[i], offsets[i + 1] - offsets[i], nullptr};
  };
  run_variable_from(sample, out, n, ids, hash_combine(seed, epoch), failed);
}

void Chain::run_variable(std::span<const SampleRef> in, std::byte* out, const std::uint64_t* ids,
                         std::uint64_t seed, std::uint64_t epoch, std::vector<SampleFailure>* failed) {
  for (const SampleRef& r : in)
    FERRY_ENFORCE(r.dims, "chain '", text(), "': a sample of ", input_.str(), " without its shape");
  run_variable_from([&](std::size_t i) { return in[i]; }, out, in.size(), ids, hash_combine(seed, epoch),
                    failed);
}

void Chain::run_variable_from(const std::function<SampleRef(std::size_t)>& sample, std::byte* out,
                              std::size_t n, const std::uint64_t* ids, std::uint64_t batch_key,
                              std::vector<SampleFailure>* failed) {
  FERRY_ENFORCE(head_ > 0 && ids && !output_.variable, "chain '", text(),
                "': run_variable needs a variable input, a fixed output and sample IDs");
  if (n == 0) return;
  ensure_kokkos();
  const std::size_t rest = head_ + ops_[head_ - 1].absorbed;  // first op of the fixed part
  const bool last = rest == ops_.size();
  const std::size_t head_bytes = step_output(head_ - 1).bytes();
  // The head's last op writes where the fixed part reads: the output, or the first scratch buffer.
  std::byte* fixed = last ? out : scratch(0, n * max_intermediate_bytes_);
  each_sample(
      n, ids, failed,
      [&](std::size_t i) {
        const SampleRef one = sample(i);
        run_head(one.data, one.bytes, sample_desc(one.bytes, one.dims), ids[i], batch_key,
                 [&](const TensorDesc& desc) {
                   FERRY_ENFORCE(desc.bytes() == head_bytes, "chain '", text(), "': a per-sample result of ",
                                 desc.str());
                   return fixed + i * head_bytes;
                 });
      },
      // Defined bytes for the ops after the head.
      [&](std::size_t i) { std::memset(fixed + i * head_bytes, 0, head_bytes); });
  if (!last) run_from(rest, fixed, out, n, ids, batch_key, 1);
}

void Chain::run_shaped(const std::byte* in, const std::uint64_t* offsets, std::size_t n,
                       const std::uint64_t* ids, std::uint64_t seed, std::uint64_t epoch, ShapedSamples& out,
                       std::vector<SampleFailure>* failed) {
  FERRY_ENFORCE(output_.variable && ids, "chain '", text(), "': run_shaped needs a variable output and IDs");
  out.reset(output_.shape.size());
  if (n == 0) return;
  ensure_kokkos();
  const std::uint64_t batch_key = hash_combine(seed, epoch);
  each_sample(
      n, ids, failed,
      [&](std::size_t i) {
        const std::size_t bytes = offsets[i + 1] - offsets[i];
        run_head(in + offsets[i], bytes, sample_desc(bytes, nullptr), ids[i], batch_key,
                 [&](const TensorDesc& desc) {
                   FERRY_ENFORCE(desc.shape.size() == out.rank, "chain '", text(), "': a sample of ",
                                 desc.str(), " among samples of ", out.rank, " dimensions");
                   return out.append(desc.shape, desc.bytes());
                 });
      },
      [&](std::size_t i) {
        // What a failed op may have appended goes; the sample is empty.
        out.truncate(i);
        const std::vector<std::size_t> none(out.rank, 0);
        out.append(none, 0);
      });
}

void Chain::time_prefix(std::size_t ops) {
  FERRY_ENFORCE(can_time_prefix(ops), "chain '", text(), "': its first ", ops,
                " ops cannot be timed alone (per-sample ops: ", head_, ")");
  timed_ops_ = ops;
}

void Chain::run_head(const std::byte* in, std::size_t bytes, TensorDesc desc, std::uint64_t id,
                     std::uint64_t batch_key, const std::function<std::byte*(const TensorDesc&)>& place) {
  const auto t0 = timed_ops_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  const std::byte* src = in;
  for (std::size_t k = 0; k < head_; ++k) {
    Op& op = *ops_[k].op;
    const TensorDesc out_desc = op.sample_output(src, bytes, desc);
    std::byte* dst = nullptr;
    if (k + 1 < head_) {
      std::vector<std::byte>& buffer = sample_[k % 2];
      if (buffer.size() < out_desc.bytes()) buffer.resize(out_desc.bytes());
      dst = buffer.data();
    } else {
      dst = place(out_desc);
    }
    const std::uint64_t key = ops_[k].random ? kernels::sample_key(batch_key, id, k + first_index_) : 0;
    const std::size_t other = ops_[k].absorbed_random;
    op.run_sample({src, bytes, desc, dst, out_desc, key,
                   other ? kernels::sample_key(batch_key, id, other + first_index_) : 0});
    src = dst;
    bytes = out_desc.bytes();
    desc = out_desc;
    if (k + 1 == timed_ops_) {
      prefix_ns_ += static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
              .count());
    }
  }
}

}  // namespace ferry::transform
