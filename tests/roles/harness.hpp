// Helpers for multi-rank runtime tests: shared datasets, running one job end to end, and what every rank
// saw. Every rank calls every helper (they are collective over MPI_COMM_WORLD).
#pragma once

#include <mpi.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ferry/config.hpp"
#include "ferry/runtime.hpp"

namespace ferry::test {

int world_rank();
int world_size();

// A directory every rank sees under the same name (made by rank 0, removed at exit).
const std::string& shared_dir();
// Writes (once per job) a synthetic image dataset of `samples` samples (6x5x3 u8 + i32 label).
std::string image_dataset(std::uint64_t samples);
std::string vlen_dataset(std::uint64_t samples);

PipelineConfig image_pipeline(const std::string& name, std::uint64_t samples, std::uint64_t seed);

struct SeenBatch {
  std::size_t pipeline;  // index in config.pipelines
  std::uint64_t epoch, index;
  std::vector<std::uint64_t> ids;
  std::vector<std::vector<std::byte>> fields;
};

struct JobResult {
  bool consumer = false;
  int consumer_index = -1;
  std::vector<SeenBatch> batches;  // consumers: every batch, in delivery order per pipeline
  std::map<std::size_t, std::vector<LoaderCounters>> epoch_counters;  // consumers: per pipeline, per epoch
  ServeReport report;                                                 // service ranks
};

// Runs the job on MPI_COMM_WORLD: service ranks serve(), consumers drain every pipeline they are in
// (round-robin over pipelines), calling `on_batch` (may be empty) after each batch.
JobResult run_job(const Config& config, const std::function<void(Runtime&, const Batch&)>& on_batch = {});

// Every batch of `seen` (one consumer's batches of pipeline p, in delivery order) equals LocalLoader's batch
// for consumer `me` of `consumers` (IDs and every field's bytes), and there are as many. Records gtest
// failures.
void expect_local_loader_batches(const PipelineConfig& p, const std::vector<const SeenBatch*>& seen,
                                 std::uint32_t me, std::uint32_t consumers);

// The 5-rank job of the device tests (1 randomizer, 1 cache server, 1 transformer with 2 workers, 2
// consumers): 480 images of which half fit the cache, 3 epochs, prefetch 3, 20 ms windows, and the static
// policy at `static_share`.
Config device_job_config(const std::string& transport, double static_share);

// For a consumer of a one-pipeline job of 2 consumers: every batch it saw equals LocalLoader's.
void expect_local_loader_job(const Config& config, const JobResult& result);

// Sum of a value over all ranks.
std::uint64_t sum_all(std::uint64_t value);
double max_all(double value);

}  // namespace ferry::test
