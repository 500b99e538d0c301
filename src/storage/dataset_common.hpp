// Pieces every Dataset implementation shares: spec checks, field lookup and the fingerprint.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ferry/dataset.hpp"
#include "storage/file_list.hpp"

namespace ferry::storage {

// Throws DatasetError for a spec with no files, no fields, an empty field path or a duplicate field name.
void validate_spec(const DatasetSpec& spec);

// Hash of the layout, every file's absolute path, size and mtime, and every field's name, path, dtype
// and shape, and the sample count: equal fingerprints mean the same bytes (barring same-second rewrites
// of equal size on file systems without sub-second mtimes).
std::uint64_t dataset_fingerprint(Layout layout, const std::vector<FileStat>& files,
                                  const std::vector<FieldInfo>& fields, std::uint64_t samples);

// The message part that names a field: "field 'image' (dataset /images)".
std::string field_label(const FieldInfo& field);

}  // namespace ferry::storage
