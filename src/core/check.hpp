// One checking macro per native API. Each names the failed call (its text up to the first '(') and carries
// the native status, so a failure reads "MPI_Comm_dup failed: MPI_ERR_COMM: invalid communicator".
#pragma once

#include <string>

#include "ferry/error.hpp"

namespace ferry::detail {

[[noreturn]] void throw_mpi(const char* call, int rc);
[[noreturn]] void throw_ucs(const char* call, int status);
[[noreturn]] void throw_cuda(const char* call, int rc, const char* text);
[[noreturn]] void throw_enforce(const char* cond, const char* file, int line, const std::string& msg);

// Text of a call expression up to its argument list: "MPI_Comm_dup(comm, &out)" -> "MPI_Comm_dup".
std::string call_name(const char* expr);

template <typename... Args>
std::string concat(const Args&... args);

}  // namespace ferry::detail

#include "core/strings.hpp"

namespace ferry::detail {
template <typename... Args>
std::string concat(const Args&... args) {
  return ferry::str_cat(args...);
}
}  // namespace ferry::detail

// Invariant inside Ferry; failure is a bug (InternalError), not bad input.
#define FERRY_ENFORCE(cond, ...)                                                                   \
  do {                                                                                             \
    if (!(cond)) ::ferry::detail::throw_enforce(#cond, __FILE__, __LINE__,                         \
                                                ::ferry::detail::concat("" __VA_OPT__(, ) __VA_ARGS__)); \
  } while (0)

#define FERRY_CHECK_MPI(call)                                              \
  do {                                                                     \
    const int ferry_rc_ = (call);                                          \
    if (ferry_rc_ != 0 /* MPI_SUCCESS */) ::ferry::detail::throw_mpi(#call, ferry_rc_); \
  } while (0)

#define FERRY_CHECK_UCS(call)                                                          \
  do {                                                                                 \
    const int ferry_st_ = static_cast<int>(call);                                      \
    if (ferry_st_ != 0 /* UCS_OK */) ::ferry::detail::throw_ucs(#call, ferry_st_);      \
  } while (0)

// HDF5 checks live in storage/h5.hpp (they need the file and dataset to name); CUDA checks in
// transform/cuda (they need cudaGetErrorString): both call into this header's helpers.
