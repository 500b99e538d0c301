// HDF5 plumbing for the storage layer: RAII owners for hid_t, error-stack folding and FERRY_CHECK_H5.
// Internal to src/storage (never installed). HDF5 is not thread-safe here: one Dataset per thread.
#pragma once

#include <hdf5.h>

#include <string>
#include <utility>

namespace ferry::storage {

// Turns HDF5's automatic error printing off, once per process: failures become one-line DatasetErrors
// instead of a stack dump on stderr. Every storage entry point calls it before touching HDF5.
void h5_init() noexcept;

// Folds the current HDF5 error stack into "desc; desc; ..." (innermost detail last); empty if none.
std::string h5_error_stack();

// Throws DatasetError "<file>: dataset <dataset>: <call> failed: <stack>" (dataset part left out if empty).
[[noreturn]] void throw_h5(const char* call, const std::string& file, const std::string& dataset);

// HDF5 signals failure with a negative hid_t / herr_t / htri_t; anything else passes through.
template <typename T>
T check_h5(T value, const char* call, const std::string& file, const std::string& dataset) {
  if (value < 0) throw_h5(call, file, dataset);
  return value;
}

// How each kind of handle is closed, and what a failed close calls it in the log.
struct H5FileClose {
  static herr_t close(hid_t id) noexcept { return H5Fclose(id); }
  static constexpr const char* kKind = "file";
};
struct H5DatasetClose {
  static herr_t close(hid_t id) noexcept { return H5Dclose(id); }
  static constexpr const char* kKind = "dataset";
};
struct H5SpaceClose {
  static herr_t close(hid_t id) noexcept { return H5Sclose(id); }
  static constexpr const char* kKind = "dataspace";
};
struct H5TypeClose {
  static herr_t close(hid_t id) noexcept { return H5Tclose(id); }
  static constexpr const char* kKind = "datatype";
};
struct H5PlistClose {
  static herr_t close(hid_t id) noexcept { return H5Pclose(id); }
  static constexpr const char* kKind = "property list";
};
struct H5GroupClose {
  static herr_t close(hid_t id) noexcept { return H5Gclose(id); }
  static constexpr const char* kKind = "group";
};

void log_close_failure(const char* kind, hid_t id) noexcept;

// Owns one hid_t. Move-only; the destructor closes and, on failure, logs instead of throwing.
template <typename Close>
class H5Handle {
 public:
  H5Handle() noexcept = default;
  explicit H5Handle(hid_t id) noexcept : id_(id) {}
  H5Handle(H5Handle&& other) noexcept : id_(std::exchange(other.id_, H5I_INVALID_HID)) {}
  H5Handle& operator=(H5Handle&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
    }
    return *this;
  }
  H5Handle(const H5Handle&) = delete;
  H5Handle& operator=(const H5Handle&) = delete;
  ~H5Handle() { reset(); }

  hid_t get() const noexcept { return id_; }
  explicit operator bool() const noexcept { return id_ >= 0; }
  // Gives up ownership: the caller closes the id.
  hid_t release() noexcept { return std::exchange(id_, H5I_INVALID_HID); }
  void reset() noexcept {
    const hid_t id = std::exchange(id_, H5I_INVALID_HID);
    if (id >= 0 && Close::close(id) < 0) log_close_failure(Close::kKind, id);
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
};

using H5File = H5Handle<H5FileClose>;
using H5Dataset = H5Handle<H5DatasetClose>;
using H5Space = H5Handle<H5SpaceClose>;
using H5Type = H5Handle<H5TypeClose>;
using H5Plist = H5Handle<H5PlistClose>;
using H5Group = H5Handle<H5GroupClose>;

}  // namespace ferry::storage

// Checks an HDF5 call, naming it and the file and dataset it was about; yields the call's value, so
// `H5Dataset d(FERRY_CHECK_H5(H5Dopen2(f, p, H5P_DEFAULT), file, p));` both opens and checks.
#define FERRY_CHECK_H5(call, file, dataset) ::ferry::storage::check_h5((call), #call, (file), (dataset))
