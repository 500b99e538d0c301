// Which HDF5 types Ferry reads, and the native type each is converted to on read.
#pragma once

#include <hdf5.h>

#include <string>

#include "ferry/dtype.hpp"

namespace ferry::storage {

// Integer and float types of any size and byte order map to the native type of the same class, size and
// sign. Anything else throws DatasetError "file: dataset /x has unsupported type <class> (...)".
DType dtype_of(hid_t type, const std::string& file, const std::string& dataset);

// The in-memory HDF5 type for a DType (library-owned constant: never close it).
hid_t native_type(DType dtype) noexcept;

// True for a variable-length sequence of unsigned 1-byte integers (encoded JPEG bytes and the like).
bool is_vlen_u8(hid_t type) noexcept;

// A short human name for a type: "string", "compound", "16-bit float", "variable-length of int32", ...
std::string describe_type(hid_t type);

}  // namespace ferry::storage
