#include "loader/resume.hpp"

#include <cstdio>

#include "core/strings.hpp"
#include "ferry/error.hpp"

namespace ferry::loader {

sampler::ShareSpec share_spec(const PipelineConfig& p, std::uint64_t samples, std::uint32_t consumers) {
  const sampler::ShareSpec spec{samples, consumers, p.batch_size, p.drop_last, p.shuffle, p.seed};
  // A job that would deliver nothing is refused here, at set-up on every rank that works on `p`, rather
  // than running to a silent exit 0 (with drop_last, a share smaller than one batch yields no batch).
  if (consumers > 0 && p.batch_size > 0 && sampler::EpochPlan(spec, 0).batches_per_consumer() == 0)
    throw ConfigError(str_cat("pipeline '", p.name, "': batch_size = ", p.batch_size,
                              " is larger than each consumer's share of ", samples / consumers,
                              " sample(s) (", samples, " over ", consumers,
                              " consumer(s), drop_last = true): no consumer would get a batch"));
  return spec;
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
  if (seq == total && total > 0)  // a state saved after the last batch: resuming it would deliver nothing
    throw ConfigError(str_cat("pipeline '", p.name, "': the resume position (start_epoch = ", p.start_epoch,
                              ", start_batch = ", p.start_batch, ") is the end of its ", p.epochs,
                              " epoch(s): nothing is left to deliver"));
  return seq;
}

namespace {

std::string hex16(std::uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

}  // namespace

std::string format_state(const PipelineConfig& p, std::uint64_t next_seq, std::uint64_t batches_per_epoch,
                         const Dataset& dataset) {
  const std::uint64_t epoch = batches_per_epoch ? next_seq / batches_per_epoch : 0;
  const std::uint64_t batch = batches_per_epoch ? next_seq % batches_per_epoch : 0;
  return str_cat("ferry-state 1 pipeline=", p.name, " seed=", p.seed, " epoch=", epoch, " batch=", batch,
                 " dataset=", hex16(dataset.fingerprint()));
}

void check_resume_dataset(const PipelineConfig& p, const Dataset& dataset) {
  if (p.start_dataset.empty() || p.start_dataset == hex16(dataset.fingerprint())) return;
  const std::string files = join(p.dataset.files);
  throw DatasetError(
      str_cat("pipeline '", p.name, "': the resume state was saved for another dataset than ", files,
              " is now (fingerprint ", p.start_dataset, ", now ", hex16(dataset.fingerprint()),
              "): a file was replaced, rewritten or moved since; start without the state"),
      p.dataset.files.front(), "");
}

void check_dataset_unchanged(const PipelineConfig& p, const Dataset& dataset, std::uint64_t epoch) {
  if (const std::string changed = dataset.changed_file(); !changed.empty())
    throw DatasetError(str_cat("pipeline '", p.name, "': dataset file ", changed,
                               " changed under the running job (found at the start of epoch ", epoch, ")"),
                       changed, "");
}

}  // namespace ferry::loader
