// `ferry run` and `ferry-serve`: the multi-rank system. Service ranks serve; consumer ranks drain their
// pipelines round-robin (optionally "training" for --step-ms per batch); with --digest they print a digest
// per pipeline, with --dump-ids each writes the IDs of every batch it took. The randomizer (rank 0 by
// default) prints the per-epoch table.
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "apps/ferry_cli.hpp"
#include "apps/state_file.hpp"
#include "apps/usage.hpp"
#include "core/check.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "ferry/runtime.hpp"
#include "roles/setup_agreement.hpp"

namespace ferry::apps {

namespace {
// Collective over the consumers: true when no consumer failed. A consumer that did says so itself, naming its
// world rank and consumer index (its --dump-ids file is PATH.<consumer>).
bool consumers_succeeded(const Runtime& rt, int rank, const std::string& error) {
  if (!error.empty())
    std::fprintf(stderr, "ferry: error (rank %d, consumer %d): %s\n", rank, rt.consumer_index(),
                 error.c_str());
  int failed = error.empty() ? 0 : 1, any = 0;
  FERRY_CHECK_MPI(MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, rt.consumer_comm()));
  return any == 0;
}

// A consumer rank of `ferry run`: drains its pipelines (digests, ID dump, --step-ms), then agrees with the
// other consumers that all went well.
int consume(Runtime& rt, const Config& config, const RunOptions& options, int rank) {
  // Consumer i of `ferry run` writes what consumer (rank) i of `ferry local` does: PATH.<consumer index>.
  IdDump dump;
  StateFile state;
  std::vector<Loader*> loaders;
  for (const auto& name : rt.pipelines()) loaders.push_back(&rt.loader(name));
  std::string error;
  try {
    if (!options.dump_ids.empty()) dump = IdDump(options.dump_ids, rt.consumer_index());
    if (!options.save_state.empty()) state = StateFile(options.save_state, rt.consumer_index());
    state.save(loaders);  // the start position: a path that cannot be written is found before any batch
    state.check();
  } catch (const Error& e) {
    error = e.what();
  }
  if (!consumers_succeeded(rt, rank, error)) return 1;
  std::vector<std::uint64_t> digests(config.pipelines.size(), 0);
  std::vector<bool> active(loaders.size(), true);
  try {
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
        if (options.digest) digests[index] = digest_batch(digests[index], *batch);
        dump.write(*batch);
        state.save(loaders);
        if (options.step_ms > 0)
          std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(options.step_ms));
      }
    }
  } catch (const PeerLost&) {
    throw;  // every rank printed the loss already
  } catch (const Error& e) {
    // A failure on this consumer (a sample its augment stage cannot decode) is said here, before the Runtime
    // ends and tells the other ranks only that this consumer left. Another rank's failure arrives as text
    // that starts "rank N (role)", and that rank says it.
    const std::string text = e.what();
    if (text.rfind("rank ", 0) != 0)
      std::fprintf(stderr, "ferry: error (rank %d, consumer %d): %s\n", rank, rt.consumer_index(),
                   text.c_str());
    throw;
  }
  try {
    dump.close();
    state.check();
  } catch (const Error& e) {
    error = e.what();
  }
  if (!consumers_succeeded(rt, rank, error)) return 1;
  if (options.digest)
    for (std::size_t p = 0; p < config.pipelines.size(); ++p)
      print_digest(rt.consumer_comm(), config.pipelines[p].name, digests[p], options.per_rank_digest);
  return 0;
}

}  // namespace

void leave_setup(const std::string& why) {
  try {
    roles::agree_on_setup(MPI_COMM_WORLD, nullptr, why);
  } catch (const ConfigError&) {  // expected: this rank's own error, which its caller reports
  }
}

int run_distributed(const config::CommandLine& cl, const RunOptions& options, bool serve_only) {
  int rank = 0;
  FERRY_CHECK_MPI(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
  const char* program = serve_only ? "ferry-serve" : "ferry";
  Config config;
  try {
    config = config::resolve(cl);
  } catch (const std::exception& e) {
    // The ranks of the other program of an MPMD job (or of this one, on a node where the config could be
    // read) wait in the Runtime's first collective: join it with this error, so they fail too.
    leave_setup(e.what());
    // Every rank of this program reads the same config and fails the same way: say it once.
    if (rank == 0) std::fprintf(stderr, "%s: error: %s\n", program, e.what());
    return dynamic_cast<const ConfigError*>(&e) != nullptr ? kExitUsage : kExitFailure;
  }
  if (cl.print_config) {
    leave_setup(str_cat(program, " was asked for --print-config, so it sets nothing up"));
    if (rank == 0) std::fputs(to_toml(config).c_str(), stdout);
    return 0;
  }
  try {
    Runtime rt(MPI_COMM_WORLD, config, serve_only);
    try {
      if (rt.is_consumer()) return consume(rt, config, options, rank);
      rt.serve();
      return 0;
    } catch (const PeerLost&) {
      rt.end_after_loss();  // every rank printed the loss already (transport/peer_watch.hpp)
    }
  } catch (const roles::OtherRanksFailed& e) {
    // This rank's config was fine; others' was not (the other program of an MPMD job: its rank 0 said why).
    if (e.report_here()) std::fprintf(stderr, "%s: error: %s\n", program, e.what());
    return kExitUsage;
  } catch (const roles::ConfigMismatch& e) {
    // The two programs of an MPMD job disagree: rank 0 may be the other program's, so every rank says it.
    std::fprintf(stderr, "%s: error (rank %d): %s\n", program, rank, e.what());
    return kExitFailure;
  } catch (const Error& e) {
    // Set-up errors and failures are agreed by every rank (same text, which names the rank a failure started
    // on): rank 0 says it, once (a corrupt sample is named in one line, not also by its transformer).
    if (rank == 0) std::fprintf(stderr, "%s: error: %s\n", program, e.what());
    return kExitFailure;
  }
  return 0;
}

}  // namespace ferry::apps
