// What the ferry CLI prints and writes so that two runs can be compared without comparing their data: the
// delivery digest ("digest NAME HEX") and the --dump-ids files.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "ferry/batch.hpp"

namespace ferry::apps {

// Folds a batch into a running digest: the IDs in delivery order, then the XXH3-64 of each field's bytes
// (a runtime.device_batches field from a host copy of its device memory, so it hashes like the same bytes in
// host memory). examples/01_c_api.c computes the same value in C; change both together. Throws
// TransformError for a device field where this build or machine has no CUDA device.
std::uint64_t digest_batch(std::uint64_t digest, const Batch& batch);

// Collective over `comm`: rank 0 prints "digest NAME HEX" over every rank's digest in rank order (equal
// digests, equal delivery), and with `per_rank` one line per rank too.
void print_digest(MPI_Comm comm, const std::string& pipeline, std::uint64_t digest, bool per_rank);

// --dump-ids PATH: one consumer's record of what it was delivered, in PATH.<consumer>, one line per batch:
//   PIPELINE EPOCH BATCH ID ID ...
// in delivery order (a consumer of several pipelines interleaves their lines as it took the batches).
class IdDump {
 public:
  IdDump() = default;  // writes nothing
  // Truncates PATH.<consumer>; throws Error naming the file when it cannot be opened.
  IdDump(const std::string& path, int consumer);

  void write(const Batch& batch);
  // Flushes and closes; throws Error naming the file when a write failed (disk full). The destructor closes
  // without checking.
  void close();

 private:
  struct Closer {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
  };
  std::string path_;
  std::unique_ptr<std::FILE, Closer> file_;
};

}  // namespace ferry::apps
