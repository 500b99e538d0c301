#include "storage/h5_types.hpp"

#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "storage/h5.hpp"

namespace ferry::storage {

namespace {

const char* class_name(H5T_class_t cls) noexcept {
  switch (cls) {
    case H5T_INTEGER:
      return "integer";
    case H5T_FLOAT:
      return "float";
    case H5T_TIME:
      return "time";
    case H5T_STRING:
      return "string";
    case H5T_BITFIELD:
      return "bitfield";
    case H5T_OPAQUE:
      return "opaque";
    case H5T_COMPOUND:
      return "compound";
    case H5T_REFERENCE:
      return "reference";
    case H5T_ENUM:
      return "enum";
    case H5T_VLEN:
      return "variable-length";
    case H5T_ARRAY:
      return "array";
    default:
      return "unknown";
  }
}

}  // namespace

std::string describe_type(hid_t type) {
  const H5T_class_t cls = H5Tget_class(type);
  const std::size_t bits = H5Tget_size(type) * 8;
  if (cls == H5T_INTEGER) {
    return str_cat(H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int", bits);
  }
  if (cls == H5T_FLOAT) return str_cat(bits, "-bit float");
  if (cls == H5T_VLEN) {
    H5Type super(H5Tget_super(type));
    return str_cat("variable-length of ", super ? describe_type(super.get()) : std::string("unknown"));
  }
  return class_name(cls);
}

DType dtype_of(hid_t type, const std::string& file, const std::string& dataset) {
  const H5T_class_t cls = H5Tget_class(type);
  const std::size_t size = H5Tget_size(type);
  const bool is_signed = cls == H5T_INTEGER && H5Tget_sign(type) != H5T_SGN_NONE;
  if (cls == H5T_INTEGER) {
    switch (size) {
      case 1:
        return is_signed ? DType::i8 : DType::u8;
      case 2:
        return is_signed ? DType::i16 : DType::u16;
      case 4:
        return is_signed ? DType::i32 : DType::u32;
      case 8:
        return is_signed ? DType::i64 : DType::u64;
      default:
        break;
    }
  } else if (cls == H5T_FLOAT) {
    // Check the native match rather than the size alone: a 4-byte type with an odd mantissa layout
    // still reads as float, and HDF5 does the conversion.
    H5Type native(H5Tget_native_type(type, H5T_DIR_ASCEND));
    if (native && size == 4 && H5Tget_size(native.get()) == sizeof(float)) return DType::f32;
    if (native && size == 8 && H5Tget_size(native.get()) == sizeof(double)) return DType::f64;
    H5Eclear2(H5E_DEFAULT);
  }
  throw DatasetError(str_cat(file, ": dataset ", dataset, " has unsupported type ", describe_type(type),
                             " (Ferry reads integer and float datasets)"),
                     file, dataset);
}

hid_t native_type(DType dtype) noexcept {
  switch (dtype) {
    case DType::u8:
      return H5T_NATIVE_UINT8;
    case DType::i8:
      return H5T_NATIVE_INT8;
    case DType::u16:
      return H5T_NATIVE_UINT16;
    case DType::i16:
      return H5T_NATIVE_INT16;
    case DType::u32:
      return H5T_NATIVE_UINT32;
    case DType::i32:
      return H5T_NATIVE_INT32;
    case DType::u64:
      return H5T_NATIVE_UINT64;
    case DType::i64:
      return H5T_NATIVE_INT64;
    case DType::f32:
      return H5T_NATIVE_FLOAT;
    case DType::f64:
      return H5T_NATIVE_DOUBLE;
  }
  return H5I_INVALID_HID;
}

bool is_vlen_u8(hid_t type) noexcept {
  if (H5Tget_class(type) != H5T_VLEN) return false;
  H5Type super(H5Tget_super(type));
  return super && H5Tget_class(super.get()) == H5T_INTEGER && H5Tget_size(super.get()) == 1 &&
         H5Tget_sign(super.get()) == H5T_SGN_NONE;
}

}  // namespace ferry::storage
