// What a ferry_runtime handle of the C API holds, and the exception-to-status translation every C function
// goes through. Internal to the capi layer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/ferry.h"
#include "ferry/runtime.hpp"

// The C view of one pipeline's current batch: ferry_batch points into these vectors and into the Batch the
// Loader owns, so everything stays valid until the next ferry_next_batch() of that pipeline.
struct FerryBatchView {
  ferry::Loader* loader = nullptr;
  ferry_batch batch{};
  std::vector<ferry_field> fields;
  std::vector<std::vector<std::int64_t>> shapes;  // one per field
};

struct ferry_runtime {
  std::unique_ptr<ferry::Runtime> runtime;
  bool owns_mpi = false;  // ferry_init_world() called MPI_Init_thread: ferry_finalize() calls MPI_Finalize
  std::vector<std::string> pipelines;  // this consumer's pipelines, in Runtime::pipelines() order
  std::vector<FerryBatchView> views;   // same order
};

namespace ferry::capi {

// Thrown inside the C layer for a bad argument; becomes FERRY_ERROR_INVALID_ARGUMENT.
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

// Records `message` as this thread's last error and returns `status`.
int fail(int status, std::string_view message) noexcept;

// Runs `body` and turns any exception into a status code with its message recorded; FERRY_OK otherwise.
template <typename Body>
int guarded(Body&& body) noexcept;

// The status for the exception being handled (call inside a catch block only), message recorded.
int status_of_current_exception() noexcept;

// Throws InvalidArgument naming `what` when `p` is null.
template <typename T>
T* require(T* p, const char* what) {
  if (p == nullptr) throw InvalidArgument(std::string(what) + " is NULL");
  return p;
}

// The runtime of a consumer rank; throws InvalidArgument on a null handle or a service rank.
const ferry_runtime& consumer_of(const ferry_runtime* rt, const char* function);
// Position of `pipeline` (null or empty: 0) in rt.pipelines; throws InvalidArgument when unknown.
std::size_t pipeline_position(const ferry_runtime& rt, const char* pipeline);

template <typename Body>
int guarded(Body&& body) noexcept {
  try {
    body();
    return FERRY_OK;
  } catch (...) {
    return status_of_current_exception();
  }
}

}  // namespace ferry::capi
