// An image folder (torchvision's ImageFolder layout: DIR/<class>/**/<file>.jpg) as a vlen dataset: the
// files' bytes as they are (no re-encoding), their class index, and the class names.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "storage/h5_writer.hpp"
#include "storage/idx.hpp"

namespace ferry::storage {

struct ImageFolder {
  std::vector<std::string> classes;  // sorted subdirectory names; a sample's label is its class's index
  std::vector<std::string> files;    // per class in class order, sorted paths within
  std::vector<std::int32_t> labels;  // one per file
};

// Walks `dir` as ImageFolder does: classes are the sorted names of its subdirectories, a class's samples
// the files below it (any depth) whose extension is .jpg, .jpeg or .png (any case), sorted by path.
// Throws DatasetError for a missing directory, no classes or no images.
ImageFolder scan_image_folder(const std::string& dir);

// Writes the folder to `out`: vlen /images (file bytes), /labels i32, /classes (vlen u8 names, one a row).
ImportResult import_image_folder(const std::string& dir, const std::string& out, const WriteOptions& options,
                                 const std::function<void(std::uint64_t, std::uint64_t)>& progress = {});

}  // namespace ferry::storage
