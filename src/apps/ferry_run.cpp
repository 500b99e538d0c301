// `ferry run` and `ferry-serve`: the multi-rank system. Service ranks serve; consumer ranks drain their
// pipelines round-robin (optionally "training" for --step-ms per batch) and print a digest per pipeline.
// The randomizer (rank 0 by default) prints the per-epoch table.
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "apps/ferry_cli.hpp"
#include "apps/usage.hpp"
#include "core/check.hpp"
#include "core/hash.hpp"
#include "ferry/error.hpp"
#include "ferry/runtime.hpp"

namespace ferry::apps {

std::uint64_t digest_batch(std::uint64_t digest, const Batch& batch) {
  Fingerprint fp;
  fp.add(digest);
  for (auto id : batch.ids) fp.add(id);
  for (const auto& field : batch.fields)
    fp.add(std::string_view(reinterpret_cast<const char*>(field.data), field.bytes));
  return fp.value();
}

void print_digest(MPI_Comm comm, const std::string& pipeline, std::uint64_t digest, bool per_rank) {
  int rank = 0, size = 1;
  FERRY_CHECK_MPI(MPI_Comm_rank(comm, &rank));
  FERRY_CHECK_MPI(MPI_Comm_size(comm, &size));
  std::vector<std::uint64_t> all(static_cast<std::size_t>(size));
  FERRY_CHECK_MPI(MPI_Gather(&digest, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T, 0, comm));
  if (rank != 0) return;
  Fingerprint fp;
  for (auto d : all) fp.add(d);
  std::printf("digest %s %016llx\n", pipeline.c_str(), static_cast<unsigned long long>(fp.value()));
  if (per_rank)
    for (int r = 0; r < size; ++r)
      std::printf("digest %s rank %d %016llx\n", pipeline.c_str(), r,
                  static_cast<unsigned long long>(all[static_cast<std::size_t>(r)]));
  std::fflush(stdout);
}

int run_distributed(const config::CommandLine& cl, const RunOptions& options, bool serve_only) {
  int rank = 0;
  FERRY_CHECK_MPI(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
  const char* program = serve_only ? "ferry-serve" : "ferry";
  Config config;
  try {
    config = config::resolve(cl);
  } catch (const ConfigError& e) {
    // Every rank reads the same config and fails the same way: say it once.
    if (rank == 0) std::fprintf(stderr, "%s: error: %s\n", program, e.what());
    return kExitUsage;
  }
  if (cl.print_config) {
    if (rank == 0) std::fputs(to_toml(config).c_str(), stdout);
    return 0;
  }
  try {
    Runtime rt(MPI_COMM_WORLD, config, serve_only);
    if (!rt.is_consumer()) {
      rt.serve();
      return 0;
    }
    std::vector<Loader*> loaders;
    for (const auto& name : rt.pipelines()) loaders.push_back(&rt.loader(name));
    std::vector<std::uint64_t> digests(config.pipelines.size(), 0);
    std::vector<bool> active(loaders.size(), true);
    for (std::size_t left = loaders.size(); left > 0;) {
      for (std::size_t i = 0; i < loaders.size(); ++i) {
        if (!active[i]) continue;
        const Batch* batch = loaders[i]->next_batch();
        if (!batch) {
          active[i] = false;
          --left;
          continue;
        }
        std::size_t index = 0;
        while (config.pipelines[index].name != loaders[i]->pipeline()) ++index;
        digests[index] = digest_batch(digests[index], *batch);
        if (options.step_ms > 0)
          std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(options.step_ms));
      }
    }
    for (std::size_t p = 0; p < config.pipelines.size(); ++p)
      print_digest(rt.consumer_comm(), config.pipelines[p].name, digests[p], options.per_rank_digest);
  } catch (const Error& e) {
    // Set-up errors and failures are agreed by every rank (same text): rank 0 says it, and so does the rank
    // the failure started on.
    const std::string text = e.what();
    if (rank == 0 || text.rfind("rank " + std::to_string(rank) + " ", 0) == 0)
      std::fprintf(stderr, "%s: error: %s\n", program, text.c_str());
    return kExitFailure;
  }
  return 0;
}

}  // namespace ferry::apps
