// Which files a DatasetSpec names, and what the fingerprint needs to know about each.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ferry/dataset.hpp"

namespace ferry::storage {

using FileStat = FileStamp;

// stat(2) of a file that must exist and be a non-empty regular file; DatasetError naming it otherwise.
FileStat stat_regular_file(const std::string& path);

// How `then` (a stat_regular_file() result) has changed on disk: "" when its size and modification time
// are the same, else "PATH (what happened)".
std::string file_change(const FileStat& then);

// Resolves the `files` of a file_per_sample spec into sample files, in sample-ID order:
// - one directory: its *.h5 / *.hdf5 files, sorted by name;
// - one file not ending in .h5 / .hdf5 and without HDF5's signature: a list file, one path a line ('#'
//   comments and blank lines ignored), relative paths taken against the list file's directory;
// - otherwise the entries are the sample files themselves.
// Throws DatasetError for an empty list, a missing path, an empty directory or a "list file" with control
// bytes (a binary file: the message names it without printing its bytes).
std::vector<std::string> resolve_sample_files(const std::vector<std::string>& files);

// True when the name ends in .h5 or .hdf5 (any case).
bool has_hdf5_extension(const std::string& path);

}  // namespace ferry::storage
