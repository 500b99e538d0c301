// Resume positions. A pipeline's batches form one sequence per consumer: seq = epoch * batches_per_epoch +
// batch. LocalLoader, the randomizer and the consumers start at the same seq (config start_epoch /
// start_batch, set by apply_state) and describe where they stand with the same state string.
#pragma once

#include <cstdint>
#include <string>

#include "ferry/config.hpp"
#include "ferry/dataset.hpp"
#include "sampler/epoch_plan.hpp"

namespace ferry::loader {

// How `p`'s epochs split `samples` IDs among `consumers` (its order, batch size, drop_last, seed). Throws
// ConfigError naming the pipeline when no consumer would get a batch (batch_size above a drop_last share).
sampler::ShareSpec share_spec(const PipelineConfig& p, std::uint64_t samples, std::uint32_t consumers);

// The first seq of `p`; throws ConfigError naming the pipeline when the position lies past its last batch or
// at its end (nothing left to deliver).
std::uint64_t start_sequence(const PipelineConfig& p, std::uint64_t batches_per_epoch);

// "ferry-state 1 pipeline=NAME seed=S epoch=E batch=B dataset=HEX" for the next seq to deliver, HEX the
// dataset's fingerprint (Dataset::fingerprint(): its files' paths, sizes and modification times, fields).
std::string format_state(const PipelineConfig& p, std::uint64_t next_seq, std::uint64_t batches_per_epoch,
                         const Dataset& dataset);

// Throws DatasetError naming the dataset's files when `p` resumes a state saved for other data
// (start_dataset differs from `dataset`'s fingerprint). Every rank that opens the pipeline checks.
void check_resume_dataset(const PipelineConfig& p, const Dataset& dataset);

// At an epoch boundary: throws DatasetError naming the file when one of `dataset`'s files was rewritten or
// removed since it was opened (Dataset::changed_file()); `epoch` is the epoch about to start.
void check_dataset_unchanged(const PipelineConfig& p, const Dataset& dataset, std::uint64_t epoch);

}  // namespace ferry::loader
