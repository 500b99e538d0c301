// Ferry's exception hierarchy. Policy: docs/errors.md.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

namespace ferry {

// Base of everything Ferry throws. what() is one line that names the culprit (file, dataset, key, option).
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// A config key, CLI option or op parameter is missing or has a bad value.
class ConfigError : public Error {
 public:
  using Error::Error;
};

// An HDF5 file or dataset cannot be opened, read or understood, or a sample ID is out of range.
class DatasetError : public Error {
 public:
  DatasetError(const std::string& message, std::string file, std::string dataset)
      : Error(message), file_(std::move(file)), dataset_(std::move(dataset)) {}
  const std::string& file() const noexcept { return file_; }
  const std::string& dataset() const noexcept { return dataset_; }

 private:
  std::string file_;
  std::string dataset_;
};

// A transform chain cannot be built for its input (wrong dtype, shape, parameter) or failed to run.
class TransformError : public Error {
 public:
  using Error::Error;
};

// MPI, UCX, CUDA or NCCL reported a failure. status() is the native return code.
class TransportError : public Error {
 public:
  TransportError(const std::string& message, int status) : Error(message), status_(status) {}
  int status() const noexcept { return status_; }

 private:
  int status_;
};

// Another rank of the job died or stopped answering (runtime.peer_timeout_s, docs/errors.md). what() names
// it: "rank R (ROLE) on host H was lost: why". Every surviving rank throws it from its next Ferry call; the
// job cannot go on, so end it: Runtime::end_after_loss() (the CLIs) or MPI_Abort.
class PeerLost : public Error {
 public:
  PeerLost(const std::string& message, int rank) : Error(message), rank_(rank) {}
  int rank() const noexcept { return rank_; }

 private:
  int rank_;
};

// An internal invariant did not hold (FERRY_ENFORCE): a bug in Ferry, not in the caller's input.
class InternalError : public Error {
 public:
  using Error::Error;
};

}  // namespace ferry
