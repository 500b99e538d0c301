#include "sampler/epoch_plan.hpp"

#include "core/check.hpp"
#include "core/hash.hpp"

namespace ferry::sampler {

std::uint64_t epoch_key(std::uint64_t seed, std::uint64_t epoch) noexcept {
  return hash_combine(hash_combine(0x46657272795f7065ULL, seed), epoch);
}

EpochPlan::EpochPlan(const ShareSpec& spec, std::uint64_t epoch)
    : spec_(spec), epoch_(epoch), order_(spec.samples, epoch_key(spec.seed, epoch)) {
  FERRY_ENFORCE(spec.consumers > 0 && spec.batch_size > 0, "consumers and batch size must be positive");
  const std::uint64_t n = spec.samples;
  const std::uint64_t c = spec.consumers;
  per_consumer_ = spec.drop_last ? n / c : (n + c - 1) / c;
  batches_ = spec.drop_last ? per_consumer_ / spec.batch_size
                            : (per_consumer_ + spec.batch_size - 1) / spec.batch_size;
}

std::uint64_t EpochPlan::batch_length(std::uint64_t k) const noexcept {
  if (k >= batches_) return 0;
  const std::uint64_t start = k * spec_.batch_size;
  const std::uint64_t end = start + spec_.batch_size;
  return (end <= per_consumer_ ? end : per_consumer_) - start;
}

std::uint64_t EpochPlan::id(std::uint32_t consumer, std::uint64_t position) const noexcept {
  const std::uint64_t global = (position * spec_.consumers + consumer) % spec_.samples;
  return spec_.shuffle ? order_(global) : global;
}

bool EpochPlan::locate(std::uint64_t id, std::uint32_t& consumer, std::uint64_t& position) const noexcept {
  const std::uint64_t global = spec_.shuffle ? order_.position_of(id) : id;
  consumer = static_cast<std::uint32_t>(global % spec_.consumers);
  position = global / spec_.consumers;
  return position < batches_ * spec_.batch_size;
}

void EpochPlan::batch_ids(std::uint32_t consumer, std::uint64_t k, std::vector<std::uint64_t>& out) const {
  FERRY_ENFORCE(consumer < spec_.consumers && k < batches_, "batch ", k, " of consumer ", consumer,
                " does not exist");
  const std::uint64_t length = batch_length(k);
  out.resize(length);
  for (std::uint64_t i = 0; i < length; ++i) out[i] = id(consumer, k * spec_.batch_size + i);
}

}  // namespace ferry::sampler
