// Element types: integers and floats of any size and byte order read as the matching native type;
// everything else is refused with a message naming the file, the dataset and the type class.
#include <cstring>
#include <limits>

#include "storage/h5_writer.hpp"
#include "storage_test_util.hpp"

namespace ferry {
namespace {

using testing::TempDir;

// Writes `values` as dataset /x of type `file_type`, opens it stacked and reads IDs 1..n-1 back.
template <typename T>
void expect_round_trip(hid_t file_type, const std::vector<T>& values, DType expected) {
  TempDir dir;
  const std::string path = dir.file("t.h5");
  {
    storage::H5Writer w(path);
    const hsize_t dims[] = {values.size()};
    w.write_array<T>("/x", values, dims, {2, 1}, file_type);
    w.commit();
  }
  auto ds = Dataset::open(testing::stacked_spec({path}, {{"x", "/x"}}));
  ASSERT_EQ(ds->fields()[0].dtype, expected);
  std::vector<std::uint64_t> ids;
  for (std::uint64_t i = 1; i < values.size(); ++i) ids.push_back(i);
  std::vector<T> out(ids.size());
  ds->read(0, ids, reinterpret_cast<std::byte*>(out.data()));
  for (std::size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(out[i], values[ids[i]]) << "element " << ids[i];
}

TEST(DTypes, BigEndianInt16) {
  expect_round_trip<std::int16_t>(H5T_STD_I16BE, {1, -2, 300, -32768, 32767}, DType::i16);
}
TEST(DTypes, Uint16) {
  expect_round_trip<std::uint16_t>(H5T_STD_U16LE, {0, 40000, 65535, 7}, DType::u16);
}
TEST(DTypes, Int8AndUint8) {
  expect_round_trip<std::int8_t>(H5T_STD_I8LE, {0, -128, 127, -1}, DType::i8);
  expect_round_trip<std::uint8_t>(H5T_STD_U8BE, {0, 255, 128}, DType::u8);
}
TEST(DTypes, Uint32BigEndian) {
  expect_round_trip<std::uint32_t>(H5T_STD_U32BE, {1, 4000000000u, 5}, DType::u32);
}
TEST(DTypes, Int32) {
  expect_round_trip<std::int32_t>(H5T_STD_I32LE, {0, -2000000000, 9}, DType::i32);
}
TEST(DTypes, Int64) {
  expect_round_trip<std::int64_t>(H5T_STD_I64BE, {0, std::numeric_limits<std::int64_t>::min(), 1ll << 50},
                                  DType::i64);
}
TEST(DTypes, Uint64) {
  expect_round_trip<std::uint64_t>(H5T_STD_U64LE, {0, ~0ull, 1ull << 63}, DType::u64);
}
TEST(DTypes, Float32BigEndian) {
  expect_round_trip<float>(H5T_IEEE_F32BE, {0.f, -1.5f, 3.25e10f}, DType::f32);
}
TEST(DTypes, Float64) {
  expect_round_trip<double>(H5T_IEEE_F64BE, {0.0, -1e300, 3.141592653589793}, DType::f64);
}

// Creates /x of [4] with `type` (no data written) and expects open() to refuse it, naming `class_name`.
void expect_refused(hid_t type, const std::string& class_name, Layout layout = Layout::stacked) {
  TempDir dir;
  const std::string path = dir.file("odd.h5");
  {
    storage::H5Writer w(path);
    const hsize_t dims[] = {4};
    w.create("/x", type, dims);
    w.commit();
  }
  const std::string msg = testing::open_error(testing::stacked_spec({path}, {{"x", "/x"}}, layout));
  FERRY_EXPECT_NAMES(msg, "odd.h5", "/x", class_name);
  if (layout == Layout::stacked) FERRY_EXPECT_NAMES(msg, "unsupported type", "Ferry reads integer and float");
}

TEST(DTypes, StringRefused) {
  storage::H5Type t(H5Tcopy(H5T_C_S1));
  H5Tset_size(t.get(), 8);
  expect_refused(t.get(), "string");
}

TEST(DTypes, CompoundRefused) {
  storage::H5Type t(H5Tcreate(H5T_COMPOUND, 8));
  H5Tinsert(t.get(), "a", 0, H5T_NATIVE_INT32);
  H5Tinsert(t.get(), "b", 4, H5T_NATIVE_FLOAT);
  expect_refused(t.get(), "compound");
}

TEST(DTypes, EnumRefused) {
  storage::H5Type t(H5Tenum_create(H5T_NATIVE_INT32));
  int value = 0;
  H5Tenum_insert(t.get(), "zero", &value);
  expect_refused(t.get(), "enum");
}

TEST(DTypes, OpaqueAndBitfieldRefused) {
  storage::H5Type opaque(H5Tcreate(H5T_OPAQUE, 4));
  expect_refused(opaque.get(), "opaque");
  expect_refused(H5T_STD_B8LE, "bitfield");
}

TEST(DTypes, HalfFloatRefused) {
  storage::H5Type half(H5Tcopy(H5T_IEEE_F32LE));
  ASSERT_GE(H5Tset_fields(half.get(), 15, 10, 5, 0, 10), 0);
  ASSERT_GE(H5Tset_size(half.get(), 2), 0);
  ASSERT_GE(H5Tset_ebias(half.get(), 15), 0);
  expect_refused(half.get(), "16-bit float");
}

TEST(DTypes, ReferenceAndArrayRefused) {
  expect_refused(H5T_STD_REF_OBJ, "reference");
  const hsize_t dims[] = {3};
  storage::H5Type array(H5Tarray_create2(H5T_NATIVE_INT32, 1, dims));
  expect_refused(array.get(), "array");
}

TEST(DTypes, VlenRefusedOutsideTheVlenLayout) {
  storage::H5Type vlen(H5Tvlen_create(H5T_NATIVE_UINT8));
  expect_refused(vlen.get(), "variable-length of uint8");
}

TEST(DTypes, VlenLayoutNeedsVlenUint8First) {
  storage::H5Type vlen_int(H5Tvlen_create(H5T_NATIVE_INT32));
  expect_refused(vlen_int.get(), "variable-length of int32", Layout::vlen);
  expect_refused(H5T_NATIVE_UINT8, "uint8", Layout::vlen);
}

}  // namespace
}  // namespace ferry
