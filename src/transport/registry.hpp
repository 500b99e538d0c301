// Backends by name: "ucx" and "mpi" are built in; tests and later layers may add their own. Creating a
// Fabric is collective over the communicator (it bootstraps through MPI collectives).
#pragma once

#include <mpi.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "transport/fabric.hpp"

namespace ferry::transport {

// Builds one rank's Fabric over comm. The factory dups comm; the caller keeps ownership of its own.
using FabricFactory = std::function<std::unique_ptr<Fabric>(MPI_Comm comm)>;

// Adds or replaces a backend.
void register_backend(std::string name, FabricFactory factory);
// Names of every registered backend, sorted.
std::vector<std::string> known_backends();
// Creates the named backend's Fabric. An unknown name throws ConfigError naming it and every known one,
// before any collective call, so every rank fails the same way without hanging.
std::unique_ptr<Fabric> make_fabric(std::string_view backend, MPI_Comm comm);

// The directory whose file system may hold the backend's allocate_memory() regions, "" for none known: UCX
// places a region in System V shared memory or, when that fails, in a POSIX shared-memory file under
// UCX_POSIX_DIR (/dev/shm by default), which it first fills to the region's size.
std::string shared_memory_dir(std::string_view backend);

}  // namespace ferry::transport
