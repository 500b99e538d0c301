// Kokkos lifetime for library use, without pulling Kokkos headers into the caller.
#pragma once

namespace ferry::transform {

// Initializes Kokkos once per process unless the application already has (then the application also
// finalizes it); when Ferry initialized it, it is finalized at exit. Chain::run calls it; call it yourself
// only to pay the start-up cost early. Thread-safe. The application must not initialize Kokkos after Ferry
// did, nor use Kokkos after exit handlers run.
void ensure_kokkos();

}  // namespace ferry::transform
