#include "storage/vlen_writer.hpp"

#include "core/check.hpp"

namespace ferry::storage {

namespace {

constexpr std::uint64_t kFlushBytes = std::uint64_t{32} << 20;

}  // namespace

VlenWriter::VlenWriter(const std::string& path, const std::string& bytes_name, std::uint64_t samples,
                       const WriteOptions& options)
    : file_(path), bytes_name_(bytes_name), samples_(samples) {
  const hsize_t dims[] = {samples};
  H5Type vlen = vlen_u8_type(path, bytes_name);
  // Vlen elements live in the global heap; chunking (and deflate) apply to the heap references.
  bytes_ = file_.create(bytes_name, vlen.get(), dims, options);
  labels_ = file_.create("/labels", H5T_STD_I32LE, dims, options);
}

void VlenWriter::add(std::vector<std::uint8_t> bytes, std::int32_t label) {
  FERRY_ENFORCE(next_ < samples_, file_.path(), ": more than ", samples_, " samples added");
  pending_bytes_ += bytes.size();
  payload_ += bytes.size() + sizeof(std::int32_t);
  pending_.push_back(std::move(bytes));
  pending_labels_.push_back(label);
  ++next_;
  if (pending_bytes_ >= kFlushBytes) flush();
}

void VlenWriter::flush() {
  if (pending_.empty()) return;
  file_.write_vlen_samples(bytes_.get(), bytes_name_, first_, pending_);
  file_.write_samples(labels_.get(), "/labels", H5T_NATIVE_INT32, first_, pending_labels_.size(),
                      pending_labels_.data());
  first_ += pending_.size();
  pending_.clear();
  pending_labels_.clear();
  pending_bytes_ = 0;
}

std::uint64_t VlenWriter::commit() {
  flush();
  FERRY_ENFORCE(next_ == samples_, file_.path(), ": ", next_, " of ", samples_, " samples written");
  bytes_.reset();
  labels_.reset();
  return file_.commit();
}

}  // namespace ferry::storage
