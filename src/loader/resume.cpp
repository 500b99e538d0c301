#include "loader/resume.hpp"

#include "core/strings.hpp"
#include "ferry/error.hpp"

namespace ferry::loader {

sampler::ShareSpec share_spec(const PipelineConfig& p, std::uint64_t samples, std::uint32_t consumers) {
  return {samples, consumers, p.batch_size, p.drop_last, p.shuffle, p.seed};
}

std::uint64_t start_sequence(const PipelineConfig& p, std::uint64_t batches_per_epoch) {
  const std::uint64_t total = batches_per_epoch * static_cast<std::uint64_t>(p.epochs);
  if (p.start_batch > batches_per_epoch || (p.start_batch == batches_per_epoch && p.start_batch != 0))
    throw ConfigError(str_cat("pipeline '", p.name, "': start_batch = ", p.start_batch, " but an epoch has ",
                              batches_per_epoch, " batch(es) per consumer"));
  const std::uint64_t seq = p.start_epoch * batches_per_epoch + p.start_batch;
  if (seq > total)
    throw ConfigError(str_cat("pipeline '", p.name, "': start_epoch = ", p.start_epoch, " lies past its ",
                              p.epochs, " epoch(s)"));
  return seq;
}

std::string format_state(const PipelineConfig& p, std::uint64_t next_seq, std::uint64_t batches_per_epoch) {
  const std::uint64_t epoch = batches_per_epoch ? next_seq / batches_per_epoch : 0;
  const std::uint64_t batch = batches_per_epoch ? next_seq % batches_per_epoch : 0;
  return str_cat("ferry-state 1 pipeline=", p.name, " seed=", p.seed, " epoch=", epoch, " batch=", batch);
}

}  // namespace ferry::loader
