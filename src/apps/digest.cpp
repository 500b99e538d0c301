#include "apps/digest.hpp"

#include <xxhash.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "core/check.hpp"
#include "core/hash.hpp"
#include "core/strings.hpp"
#include "transform/target.hpp"

namespace ferry::apps {

std::uint64_t digest_batch(std::uint64_t digest, const Batch& batch) {
  Fingerprint fp;
  fp.add(digest);
  for (auto id : batch.ids) fp.add(id);
  // XXH3 reads a field at about memory speed; Fingerprint's byte-at-a-time FNV-1a, used here before, took
  // 26-46 % of a `ferry local` epoch (perf, image and cosmoflow sets).
  // A runtime.device_batches field is hashed from a host copy: the digest is the same wherever the bytes
  // were delivered, so a run with device batches checks against ferry local.
  thread_local std::vector<std::byte> host;
  for (const auto& field : batch.fields) {
    const std::byte* bytes = field.data;
    if (field.device_data != nullptr) {
      host.resize(field.bytes);
      transform::copy_device_to_host(host.data(), field.device_data, field.bytes);
      bytes = host.data();
    }
    fp.add(static_cast<std::uint64_t>(XXH3_64bits(bytes, field.bytes)));
  }
  return fp.value();
}

void print_digest(MPI_Comm comm, const std::string& pipeline, std::uint64_t digest, bool per_rank) {
  int rank = 0, size = 1;
  FERRY_CHECK_MPI(MPI_Comm_rank(comm, &rank));
  FERRY_CHECK_MPI(MPI_Comm_size(comm, &size));
  std::vector<std::uint64_t> all(static_cast<std::size_t>(size));
  FERRY_CHECK_MPI(MPI_Gather(&digest, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T, 0, comm));
  if (rank != 0) return;
  Fingerprint fp;
  for (auto d : all) fp.add(d);
  std::printf("digest %s %016llx\n", pipeline.c_str(), static_cast<unsigned long long>(fp.value()));
  if (per_rank)
    for (int r = 0; r < size; ++r)
      std::printf("digest %s rank %d %016llx\n", pipeline.c_str(), r,
                  static_cast<unsigned long long>(all[static_cast<std::size_t>(r)]));
  std::fflush(stdout);
}

IdDump::IdDump(const std::string& path, int consumer) : path_(str_cat(path, ".", consumer)) {
  file_.reset(std::fopen(path_.c_str(), "w"));
  if (!file_) throw Error(str_cat("--dump-ids: cannot write ", path_, ": ", std::strerror(errno)));
}

void IdDump::write(const Batch& batch) {
  if (!file_) return;
  std::fprintf(file_.get(), "%s %llu %llu", batch.pipeline.c_str(),
               static_cast<unsigned long long>(batch.epoch), static_cast<unsigned long long>(batch.index));
  for (auto id : batch.ids) std::fprintf(file_.get(), " %llu", static_cast<unsigned long long>(id));
  std::fputc('\n', file_.get());
}

void IdDump::close() {
  if (!file_) return;
  const bool failed = std::ferror(file_.get()) != 0;
  const bool close_failed = std::fclose(file_.release()) != 0;
  if (failed || close_failed) throw Error(str_cat("--dump-ids: writing ", path_, " failed"));
}

}  // namespace ferry::apps
