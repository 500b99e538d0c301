// Turning a sorted list of sample IDs into HDF5 selections: one hyperslab block per run of consecutive IDs.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "storage/h5.hpp"

namespace ferry::storage {

// A run of consecutive sample IDs [first, first + count), local to one file.
struct IdRun {
  std::uint64_t first = 0;
  std::uint64_t count = 0;
};

// Throws DatasetError (naming `file`, `dataset`, the ID and `size`) unless `ids` is strictly increasing
// and every ID is below `size`.
void check_ids(std::span<const std::uint64_t> ids, std::uint64_t size, const std::string& file,
               const std::string& dataset);

// Runs of consecutive IDs, each shifted down by `base` (the file's first global ID).
std::vector<IdRun> make_runs(std::span<const std::uint64_t> ids, std::uint64_t base);

// The dataset's file dataspace with the union of `runs` selected along the first axis (all of every
// other axis): one H5S_SELECT_SET, then one H5S_SELECT_OR per further run.
H5Space select_runs(hid_t dataset, std::span<const IdRun> runs, const std::string& file,
                    const std::string& path);

// A dataset's file dataspace and its extent (read once), for selecting runs along the first axis.
class RunSelector {
 public:
  RunSelector(hid_t dataset, const std::string& file, const std::string& path);
  // Selects `run` (all of every other axis), replacing the selection (H5S_SELECT_SET) or adding to it
  // (H5S_SELECT_OR).
  void select(const IdRun& run, H5S_seloper_t op);

  H5Space space;

 private:
  const std::string& file_;
  const std::string& path_;
  std::vector<hsize_t> start_, block_, one_;
};

// A contiguous memory dataspace [count, sample_dims...] for reading `count` samples in one H5Dread.
H5Space memory_space(std::uint64_t count, std::span<const std::size_t> sample_dims, const std::string& file,
                     const std::string& path);

}  // namespace ferry::storage
