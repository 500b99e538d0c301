// Helpers for multi-rank runtime tests: shared datasets, running one job end to end, and what every rank
// saw. Every rank calls every helper (they are collective over MPI_COMM_WORLD).
#pragma once

#include <mpi.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <thread>
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
// Variable-length byte samples with labels, no chain (variable-length entries), batches of 4.
PipelineConfig vlen_pipeline(const std::string& name, std::uint64_t samples, std::uint64_t seed);

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

// Stop and resume (a one-pipeline job, service ranks first, the rest consumers): runs `config` until every
// consumer took `before` batches and ends the job there (consumers stop mid-epoch; every rank must shut
// down), then runs it again from the state consumer 0 saved. Every consumer saved the same state, and gets
// LocalLoader's batches from `before` on in the resumed job. Records gtest failures.
void expect_resume_matches_local(const Config& config, std::uint64_t before);

// For a consumer of a one-pipeline job of 2 consumers: every batch it saw equals LocalLoader's.
void expect_local_loader_job(const Config& config, const JobResult& result);

// A counter of this rank's, published to the other ranks for as long as the object lives (a file per rank
// in shared_dir(), rewritten when the count changes): for a test that waits on another rank's progress while
// the runtime owns the transport and that rank is inside serve().
class PublishedCount {
 public:
  PublishedCount(const std::string& name, const std::atomic<std::uint64_t>& count);
  ~PublishedCount();  // stops publishing and removes the file
  PublishedCount(const PublishedCount&) = delete;
  PublishedCount& operator=(const PublishedCount&) = delete;

 private:
  void publish(std::uint64_t value) const;
  std::string path_;
  const std::atomic<std::uint64_t>& count_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Waits until `done` holds for the sum over ranks of the PublishedCounts called `name` (0 while none is
// published). False when it still does not after `deadline` (under the test watchdog's 90 s).
bool wait_for_published(const std::string& name, const std::function<bool(std::uint64_t)>& done,
                        std::chrono::seconds deadline = std::chrono::seconds(60));

// Sum of a value over all ranks.
std::uint64_t sum_all(std::uint64_t value);
double max_all(double value);

}  // namespace ferry::test
