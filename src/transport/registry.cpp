#include "transport/registry.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>

#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "transport/mpi/mpi_fabric.hpp"
#include "transport/ucx/ucx_fabric.hpp"

namespace ferry::transport {

namespace {

// Built-in backends are listed here, not self-registered from their own files: static libraries drop
// object files nothing references, and a self-registering backend would silently vanish.
std::map<std::string, FabricFactory, std::less<>>& registry() {
  static std::map<std::string, FabricFactory, std::less<>> backends{
      {"mpi", [](MPI_Comm comm) { return mpi::make_fabric(comm); }},
      {"ucx", [](MPI_Comm comm) { return ucx::make_fabric(comm); }},
  };
  return backends;
}

}  // namespace

void register_backend(std::string name, FabricFactory factory) {
  registry()[std::move(name)] = std::move(factory);
}

std::vector<std::string> known_backends() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : registry()) names.push_back(name);
  return names;
}

std::unique_ptr<Fabric> make_fabric(std::string_view backend, MPI_Comm comm) {
  const auto& backends = registry();
  const auto it = backends.find(backend);
  if (it == backends.end()) {
    throw ConfigError(
        str_cat("unknown transport backend '", backend, "'; known backends: ", join(known_backends())));
  }
  return it->second(comm);
}

std::string shared_memory_dir(std::string_view backend) {
  if (backend != "ucx") return {};
  const char* dir = std::getenv("UCX_POSIX_DIR");
  return dir != nullptr && *dir != '\0' ? dir : "/dev/shm";
}

}  // namespace ferry::transport
