#include "storage/image_folder.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "storage/vlen_writer.hpp"

namespace ferry::storage {

namespace fs = std::filesystem;

namespace {

bool is_image(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

std::vector<std::uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) throw DatasetError(str_cat(path, ": cannot read"), path, "");
  return bytes;
}

}  // namespace

ImageFolder scan_image_folder(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw DatasetError(str_cat(dir, ": not a directory"), dir, "");
  ImageFolder folder;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_directory()) folder.classes.push_back(entry.path().filename().string());
  }
  std::sort(folder.classes.begin(), folder.classes.end());
  if (folder.classes.empty())
    throw DatasetError(str_cat(dir, ": no class subdirectories (ImageFolder layout: DIR/<class>/<image>)"),
                       dir, "");
  for (std::size_t c = 0; c < folder.classes.size(); ++c) {
    std::vector<std::string> files;
    for (const auto& entry : fs::recursive_directory_iterator(fs::path(dir) / folder.classes[c])) {
      if (entry.is_regular_file() && is_image(entry.path())) files.push_back(entry.path().string());
    }
    std::sort(files.begin(), files.end());
    folder.files.insert(folder.files.end(), files.begin(), files.end());
    folder.labels.insert(folder.labels.end(), files.size(), static_cast<std::int32_t>(c));
  }
  if (folder.files.empty())
    throw DatasetError(str_cat(dir, ": no .jpg, .jpeg or .png files in its class subdirectories"), dir, "");
  return folder;
}

ImportResult import_image_folder(const std::string& dir, const std::string& out, const WriteOptions& options,
                                 const std::function<void(std::uint64_t, std::uint64_t)>& progress) {
  const ImageFolder folder = scan_image_folder(dir);
  const std::uint64_t n = folder.files.size();
  VlenWriter writer(out, "/images", n, options);
  for (std::uint64_t i = 0; i < n; ++i) {
    writer.add(read_file(folder.files[i]), folder.labels[i]);
    if (progress) progress(i + 1, n);
  }
  std::vector<std::vector<std::uint8_t>> names;
  for (const std::string& name : folder.classes) names.emplace_back(name.begin(), name.end());
  const hsize_t dims[] = {names.size()};
  H5Type vlen = vlen_u8_type(out, "/classes");
  {
    H5Dataset classes = writer.file().create("/classes", vlen.get(), dims);
    writer.file().write_vlen_samples(classes.get(), "/classes", 0, names);
  }
  ImportResult r;
  r.samples = n;
  r.file_bytes = writer.commit();
  r.spec.layout = Layout::vlen;
  r.spec.files = {out};
  r.spec.fields = {{"image", "/images"}, {"label", "/labels"}};
  return r;
}

}  // namespace ferry::storage
