#include "storage/selection.hpp"

#include "core/strings.hpp"
#include "ferry/error.hpp"

namespace ferry::storage {

void check_ids(std::span<const std::uint64_t> ids, std::uint64_t size, const std::string& file,
               const std::string& dataset) {
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] >= size) {
      throw DatasetError(str_cat(file, ": dataset ", dataset, ": sample ID ", ids[i],
                                 " is out of range (the dataset has ", size, " samples)"),
                         file, dataset);
    }
    if (i > 0 && ids[i] <= ids[i - 1]) {
      throw DatasetError(
          str_cat(file, ": dataset ", dataset, ": sample IDs must be strictly increasing, but ID ", ids[i],
                  " follows ", ids[i - 1], " at position ", i),
          file, dataset);
    }
  }
}

std::vector<IdRun> make_runs(std::span<const std::uint64_t> ids, std::uint64_t base) {
  std::vector<IdRun> runs;
  for (std::uint64_t id : ids) {
    const std::uint64_t local = id - base;
    if (!runs.empty() && runs.back().first + runs.back().count == local) {
      ++runs.back().count;
    } else {
      runs.push_back({local, 1});
    }
  }
  return runs;
}

H5Space select_runs(hid_t dataset, std::span<const IdRun> runs, const std::string& file,
                    const std::string& path) {
  RunSelector selector(dataset, file, path);
  bool first = true;
  for (const IdRun& run : runs) {
    selector.select(run, first ? H5S_SELECT_SET : H5S_SELECT_OR);
    first = false;
  }
  return std::move(selector.space);
}

RunSelector::RunSelector(hid_t dataset, const std::string& file, const std::string& path)
    : space(FERRY_CHECK_H5(H5Dget_space(dataset), file, path)), file_(file), path_(path) {
  const int rank = FERRY_CHECK_H5(H5Sget_simple_extent_ndims(space.get()), file, path);
  block_.resize(static_cast<std::size_t>(rank));
  FERRY_CHECK_H5(H5Sget_simple_extent_dims(space.get(), block_.data(), nullptr), file, path);
  start_.assign(block_.size(), 0);
  one_.assign(block_.size(), 1);
}

void RunSelector::select(const IdRun& run, H5S_seloper_t op) {
  // The run is one block: [first, 0, ...] of size [count, dims[1], ...], count 1 (no stride).
  start_[0] = run.first;
  block_[0] = run.count;
  FERRY_CHECK_H5(H5Sselect_hyperslab(space.get(), op, start_.data(), nullptr, one_.data(), block_.data()),
                 file_, path_);
}

H5Space memory_space(std::uint64_t count, std::span<const std::size_t> sample_dims, const std::string& file,
                     const std::string& path) {
  std::vector<hsize_t> dims;
  dims.reserve(sample_dims.size() + 1);
  dims.push_back(count);
  for (std::size_t d : sample_dims) dims.push_back(d);
  return H5Space(
      FERRY_CHECK_H5(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), file, path));
}

}  // namespace ferry::storage
