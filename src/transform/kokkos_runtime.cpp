// Ferry may be the first (or only) Kokkos user in the process.
#include "transform/kokkos_runtime.hpp"

#include <Kokkos_Core.hpp>
#include <cstdlib>
#include <mutex>

namespace ferry::transform {

namespace {

void finalize_at_exit() {
  // The application may have finalized Kokkos itself after Ferry initialized it.
  if (Kokkos::is_initialized()) Kokkos::finalize();
}

}  // namespace

void ensure_kokkos() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (Kokkos::is_initialized()) return;  // the application owns Kokkos' lifetime
    Kokkos::InitArguments args;
    args.disable_warnings = true;  // Ferry is a library: Kokkos' banner warnings belong to the application
    Kokkos::initialize(args);
    std::atexit(finalize_at_exit);
  });
}

}  // namespace ferry::transform
