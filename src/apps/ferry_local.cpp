// `ferry local`: every rank is a consumer running LocalLoader on its share (no service ranks). The
// reference the distributed system is compared against; rank 0 prints one line per epoch and pipeline, then
// (--digest) a digest per pipeline. Rank i is consumer i: its digest and --dump-ids file match consumer i of
// `ferry run`.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "apps/ferry_cli.hpp"
#include "apps/usage.hpp"
#include "core/check.hpp"
#include "core/collective_errors.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "ferry/config.hpp"
#include "ferry/error.hpp"
#include "ferry/features.hpp"
#include "ferry/local_loader.hpp"
#include "loader/skipped_samples.hpp"

namespace ferry::apps {

struct EpochFigures {
  double samples = 0, hdf5_bytes = 0, hdf5_reads = 0, read_s = 0, prepare_s = 0, augment_s = 0, skipped = 0;
};
constexpr int kEpochFigures = 7;  // doubles in EpochFigures, reduced in one MPI_Reduce

int run_local(const ferry::config::CommandLine& cl, const RunOptions& options) {
  int rank = 0, size = 1;
  FERRY_CHECK_MPI(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
  FERRY_CHECK_MPI(MPI_Comm_size(MPI_COMM_WORLD, &size));

  ferry::Config config;
  std::vector<ferry::LocalLoader> loaders;
  IdDump dump;
  std::string error;
  try {
    config = ferry::config::resolve(cl);
    ferry::log::init(rank, config.log_level);
  } catch (const ferry::Error& e) {
    error = e.what();
  }
  // A config that cannot be read or has a bad value is a usage error (a file may be missing on one node
  // only, so the ranks agree first).
  if (!ferry::agree_on_errors(MPI_COMM_WORLD, error, "ferry")) return kExitUsage;
  if (cl.print_config) {
    if (rank == 0) std::fputs(ferry::to_toml(config).c_str(), stdout);
    return 0;
  }
  try {
    for (const auto& p : config.pipelines)
      loaders.emplace_back(p, static_cast<std::uint32_t>(rank), static_cast<std::uint32_t>(size));
    if (!options.dump_ids.empty()) dump = IdDump(options.dump_ids, rank);
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (!ferry::agree_on_errors(MPI_COMM_WORLD, error, "ferry")) return kExitFailure;

  if (rank == 0) {
    std::printf("ferry %s local mode: %d consumer rank(s), %zu pipeline(s)\n", ferry::kVersion, size,
                config.pipelines.size());
    std::printf("%-12s %5s %10s %12s %10s %12s %9s %9s %9s\n", "pipeline", "epoch", "samples", "samples/s",
                "hdf5 MiB", "hdf5 reads", "read s", "prep s", "augm s");
  }
  int max_epochs = 0;
  for (const auto& p : config.pipelines) max_epochs = std::max(max_epochs, p.epochs);
  std::vector<std::uint64_t> digests(loaders.size(), 0);
  std::vector<ferry::LocalCounters> before(loaders.size());

  for (int epoch = 0; epoch < max_epochs; ++epoch) {
    for (std::size_t i = 0; i < loaders.size(); ++i) {
      const ferry::PipelineConfig& p = config.pipelines[i];
      // A resumed pipeline (start_epoch, start_batch) begins mid-way: the loader starts there.
      if (epoch >= p.epochs || static_cast<std::uint64_t>(epoch) < p.start_epoch) continue;
      EpochFigures mine;
      double seconds = 0;
      try {
        auto& loader = loaders[i];
        const auto start = std::chrono::steady_clock::now();
        const std::uint64_t skipped = static_cast<std::uint64_t>(epoch) == p.start_epoch ? p.start_batch : 0;
        const std::uint64_t batches = loader.batches_per_epoch() - skipped;
        for (std::uint64_t b = 0; b < batches; ++b) {
          const ferry::Batch* batch = loader.next_batch();
          FERRY_ENFORCE(batch != nullptr, "loader ended early");
          if (options.digest) digests[i] = digest_batch(digests[i], *batch);
          dump.write(*batch);
        }
        seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const auto& c = loader.counters();
        mine = {static_cast<double>(c.samples - before[i].samples),
                static_cast<double>(c.hdf5_bytes - before[i].hdf5_bytes),
                static_cast<double>(c.hdf5_reads - before[i].hdf5_reads),
                c.read_seconds - before[i].read_seconds,
                c.prepare_seconds - before[i].prepare_seconds,
                c.augment_seconds - before[i].augment_seconds,
                static_cast<double>(c.skipped - before[i].skipped)};
        before[i] = c;
      } catch (const std::exception& e) {  // a ferry::Error or not: the other ranks wait for this one
        error = ferry::str_cat("pipeline '", p.name, "', epoch ", epoch, ": ", e.what());
      }
      if (!ferry::agree_on_errors(MPI_COMM_WORLD, error, "ferry")) return kExitFailure;
      EpochFigures sum;
      double slowest = 0;
      FERRY_CHECK_MPI(MPI_Reduce(&mine, &sum, kEpochFigures, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD));
      FERRY_CHECK_MPI(MPI_Reduce(&seconds, &slowest, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD));
      if (rank == 0) {
        std::printf("%-12s %5d %10.0f %12.0f %10.2f %12.0f %9.3f %9.3f %9.3f\n",
                    config.pipelines[i].name.c_str(), epoch, sum.samples,
                    slowest > 0 ? sum.samples / slowest : 0.0, sum.hdf5_bytes / 1048576.0, sum.hdf5_reads,
                    sum.read_s, sum.prepare_s, sum.augment_s);
        ferry::loader::print_skipped(config.pipelines[i].name, static_cast<std::uint64_t>(epoch),
                                     static_cast<std::uint64_t>(sum.skipped));
      }
    }
  }
  try {
    dump.close();
  } catch (const ferry::Error& e) {
    error = e.what();
  }
  if (!ferry::agree_on_errors(MPI_COMM_WORLD, error, "ferry")) return 1;
  if (options.digest)
    for (std::size_t i = 0; i < loaders.size(); ++i)
      print_digest(MPI_COMM_WORLD, config.pipelines[i].name, digests[i], options.per_rank_digest);
  return 0;
}

}  // namespace ferry::apps
