// The C API's life cycle and queries: ferry_init*, ferry_finalize, roles, serve and the consumer side's
// communicator and pipelines.
#include <memory>
#include <sstream>
#include <string>

#include "capi/handle.hpp"
#include "core/check.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "ferry/config.hpp"
#include "ferry/error.hpp"
#include "ferry/features.hpp"
#include "roles/setup_agreement.hpp"

namespace ferry::capi {
namespace {

// Every resume line of `state` (Loader::state() strings, newline-separated) applied to `config`.
void apply_states(Config& config, const char* state) {
  if (state == nullptr) return;
  std::istringstream lines(state);
  for (std::string line; std::getline(lines, line);) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    const auto last = line.find_last_not_of(" \t\r");
    apply_state(config, line.substr(first, last - first + 1));
  }
}

// Collective over `comm`: reads the config and builds the Runtime. A rank that cannot read the config (a
// file missing on one node) joins the Runtime's first collective step with its error instead
// (roles/setup_agreement.hpp), so every rank, whatever program it runs (ferry-serve beside a C or Python
// training program), throws the same ConfigError and none waits in a collective the others never enter.
std::unique_ptr<ferry_runtime> open_runtime(MPI_Comm comm, const char* config_path, const char* state) {
  Config config;
  std::string error;
  try {
    if (config_path == nullptr || *config_path == '\0') throw ConfigError("ferry_init: config_path is empty");
    config = load_config(config_path);
    apply_states(config, state);
  } catch (const Error& e) {
    error = e.what();
  } catch (const std::exception& e) {  // a filesystem error, out of memory: still every rank must hear
    error = e.what();
  }
  if (!error.empty()) roles::agree_on_setup(comm, nullptr, error);  // throws on every rank

  auto handle = std::make_unique<ferry_runtime>();
  handle->runtime = std::make_unique<Runtime>(comm, config);
  if (handle->runtime->is_consumer()) {
    handle->pipelines = handle->runtime->pipelines();
    handle->views.resize(handle->pipelines.size());
    for (std::size_t i = 0; i < handle->pipelines.size(); ++i)
      handle->views[i].loader = &handle->runtime->loader(handle->pipelines[i]);
  }
  return handle;
}

}  // namespace

const ferry_runtime& consumer_of(const ferry_runtime* rt, const char* function) {
  require(rt, "the runtime handle");
  if (!rt->runtime->is_consumer())
    throw InvalidArgument(str_cat(function, " called on rank ", rt->runtime->rank(), ", a ",
                                  rt->runtime->role(), ": only consumer ranks have batches"));
  return *rt;
}

std::size_t pipeline_position(const ferry_runtime& rt, const char* pipeline) {
  if (rt.pipelines.empty()) throw InvalidArgument("this consumer belongs to no pipeline");
  if (pipeline == nullptr || *pipeline == '\0') return 0;
  for (std::size_t i = 0; i < rt.pipelines.size(); ++i)
    if (rt.pipelines[i] == pipeline) return i;
  throw InvalidArgument(str_cat("pipeline '", pipeline,
                                "' is not a pipeline of this consumer (have: ", join(rt.pipelines), ")"));
}

}  // namespace ferry::capi

using ferry::capi::guarded;
using ferry::capi::require;

extern "C" {

int ferry_init(MPI_Comm comm, const char* config_path, const char* state, ferry_runtime** out) {
  return guarded([&] {
    require(out, "out");
    *out = nullptr;
    *out = ferry::capi::open_runtime(comm, config_path, state).release();
  });
}

int ferry_init_world(const char* config_path, const char* state, ferry_runtime** out) {
  bool initialized_here = false;
  const int status = guarded([&] {
    require(out, "out");
    *out = nullptr;
    int initialized = 0;
    FERRY_CHECK_MPI(MPI_Initialized(&initialized));
    if (!initialized) {
      int provided = 0;
      FERRY_CHECK_MPI(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided));
      initialized_here = true;
    }
    auto handle = ferry::capi::open_runtime(MPI_COMM_WORLD, config_path, state);
    handle->owns_mpi = initialized_here;
    *out = handle.release();
  });
  // Set-up errors are agreed by every rank, so all of them finalize here together: a binding that got no
  // handle has nothing to finalize with, and a process that leaves without MPI_Finalize fails the job.
  if (status != FERRY_OK && initialized_here) MPI_Finalize();
  return status;
}

int ferry_finalize(ferry_runtime* rt) {
  if (rt == nullptr) return FERRY_OK;
  // After a lost peer nothing collective can finish (MPI_Finalize included): end the job instead.
  if (rt->runtime->peer_lost()) rt->runtime->end_after_loss();
  const bool owns_mpi = rt->owns_mpi;
  // ~Runtime is collective and never throws (failures to close are logged).
  delete rt;
  if (!owns_mpi) return FERRY_OK;
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized && MPI_Finalize() != MPI_SUCCESS)
    return ferry::capi::fail(FERRY_ERROR_TRANSPORT, "MPI_Finalize failed");
  return FERRY_OK;
}

int ferry_is_consumer(const ferry_runtime* rt, int* out) {
  return guarded(
      [&] { *require(out, "out") = require(rt, "the runtime handle")->runtime->is_consumer() ? 1 : 0; });
}

int ferry_role(const ferry_runtime* rt, const char** out) {
  return guarded([&] {
    require(out, "out");
    // Static strings, so the pointer outlives the call.
    const std::string role = require(rt, "the runtime handle")->runtime->role();
    if (role == "randomizer")
      *out = "randomizer";
    else if (role == "cache_server")
      *out = "cache_server";
    else if (role == "transformer")
      *out = "transformer";
    else
      *out = "consumer";
  });
}

int ferry_serve(ferry_runtime* rt) {
  return guarded([&] {
    require(rt, "the runtime handle");
    if (rt->runtime->is_consumer())
      throw ferry::capi::InvalidArgument(ferry::str_cat("ferry_serve called on rank ", rt->runtime->rank(),
                                                        ", a consumer: consumers call ferry_next_batch"));
    rt->runtime->serve();
  });
}

int ferry_consumer_index(const ferry_runtime* rt, int* out) {
  return guarded(
      [&] { *require(out, "out") = require(rt, "the runtime handle")->runtime->consumer_index(); });
}

int ferry_consumer_count(const ferry_runtime* rt, int* out) {
  return guarded([&] {
    require(out, "out");
    *out = 0;
    const MPI_Comm comm = require(rt, "the runtime handle")->runtime->consumer_comm();
    if (comm != MPI_COMM_NULL) FERRY_CHECK_MPI(MPI_Comm_size(comm, out));
  });
}

int ferry_consumer_comm(const ferry_runtime* rt, MPI_Comm* out) {
  return guarded([&] { *require(out, "out") = require(rt, "the runtime handle")->runtime->consumer_comm(); });
}

int ferry_consumer_comm_f(const ferry_runtime* rt, MPI_Fint* out) {
  return guarded([&] {
    *require(out, "out") = MPI_Comm_c2f(require(rt, "the runtime handle")->runtime->consumer_comm());
  });
}

int ferry_pipeline_count(const ferry_runtime* rt, int* out) {
  return guarded(
      [&] { *require(out, "out") = static_cast<int>(require(rt, "the runtime handle")->pipelines.size()); });
}

int ferry_pipeline_name(const ferry_runtime* rt, int i, const char** out) {
  return guarded([&] {
    require(out, "out");
    const auto& names = require(rt, "the runtime handle")->pipelines;
    if (i < 0 || static_cast<std::size_t>(i) >= names.size())
      throw ferry::capi::InvalidArgument(ferry::str_cat(
          "pipeline position ", i, " is out of range: this rank has ", names.size(), " pipeline(s)"));
    *out = names[static_cast<std::size_t>(i)].c_str();
  });
}

const char* ferry_version_string(void) {
  return ferry::kVersion;
}

}  // extern "C"
