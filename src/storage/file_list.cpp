#include "storage/file_list.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/strings.hpp"
#include "ferry/error.hpp"

namespace ferry::storage {

namespace fs = std::filesystem;

namespace {
std::int64_t mtime_ns_of(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}
}  // namespace

std::string file_change(const FileStat& then) {
  struct stat st {};
  if (::stat(then.absolute_path.c_str(), &st) != 0) {
    const int err = errno;
    return str_cat(then.absolute_path, " (gone: ", std::strerror(err), ")");
  }
  if (static_cast<std::uint64_t>(st.st_size) != then.size)
    return str_cat(then.absolute_path, " (rewritten: ", then.size, " bytes when the job opened it, ",
                   st.st_size, " now)");
  if (mtime_ns_of(st) != then.mtime_ns)
    return str_cat(then.absolute_path, " (rewritten: modified after the job opened it)");
  return {};
}

FileStat stat_regular_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    throw DatasetError(str_cat(path, ": cannot open: ", std::strerror(err)), path, "");
  }
  if (S_ISDIR(st.st_mode)) {
    throw DatasetError(str_cat(path, ": is a directory, expected an HDF5 file"), path, "");
  }
  if (!S_ISREG(st.st_mode)) throw DatasetError(str_cat(path, ": is not a regular file"), path, "");
  if (st.st_size == 0)  // one empty sample file of a folder is found here, at set-up, not by a reader later
    throw DatasetError(str_cat(path, ": is empty (0 bytes), not an HDF5 file"), path, "");
  FileStat out;
  std::error_code ec;
  const fs::path abs = fs::absolute(path, ec);
  out.absolute_path = ec ? path : abs.lexically_normal().string();
  out.size = static_cast<std::uint64_t>(st.st_size);
  out.mtime_ns = mtime_ns_of(st);
  return out;
}

bool has_hdf5_extension(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".h5" || ext == ".hdf5";
}

namespace {

std::vector<std::string> list_directory(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (has_hdf5_extension(it->path().string()) && !it->is_directory()) files.push_back(it->path().string());
  }
  if (ec) throw DatasetError(str_cat(dir, ": cannot list directory: ", ec.message()), dir, "");
  if (files.empty()) {
    throw DatasetError(str_cat(dir, ": directory holds no *.h5 or *.hdf5 files"), dir, "");
  }
  std::sort(files.begin(), files.end());
  return files;
}

// True when the file starts with HDF5's signature, at 0 or after a user block (512, 1024, 2048, ... bytes).
bool has_hdf5_signature(const std::string& path) {
  static constexpr char kSignature[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};
  std::ifstream in(path, std::ios::binary);
  char head[8];
  for (std::streamoff at = 0; at <= (1 << 20); at = at == 0 ? 512 : 2 * at) {
    if (!in.seekg(at) || !in.read(head, sizeof head)) return false;
    if (std::equal(head, head + sizeof head, kSignature)) return true;
  }
  return false;
}

// True when `line` holds a byte no path in a text file has (a control character but tab and carriage return).
bool has_control_bytes(std::string_view line) {
  return std::any_of(line.begin(), line.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t' && c != '\r') || u == 0x7f;
  });
}

std::vector<std::string> read_list_file(const std::string& list) {
  std::ifstream in(list);
  if (!in) throw DatasetError(str_cat(list, ": cannot open list file: ", std::strerror(errno)), list, "");
  const fs::path base = fs::path(list).parent_path();
  std::vector<std::string> files;
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    // A binary file given as the only file is no list: say so, rather than print its bytes as a path.
    if (has_control_bytes(line)) {
      throw DatasetError(
          str_cat(list, ": not a list file (line ", number,
                  " holds control bytes): give sample files as *.h5 or *.hdf5, a folder of them, "
                  "or a text file naming one per line"),
          list, "");
    }
    const std::string_view entry = trim(line);
    if (entry.empty() || entry.front() == '#') continue;
    fs::path p(entry);
    files.push_back((p.is_relative() && !base.empty() ? base / p : p).string());
  }
  if (files.empty()) throw DatasetError(str_cat(list, ": list file names no sample files"), list, "");
  return files;
}

}  // namespace

std::vector<std::string> resolve_sample_files(const std::vector<std::string>& files) {
  if (files.empty()) throw DatasetError("dataset spec lists no files", "", "");
  if (files.size() == 1) {
    const std::string& only = files.front();
    std::error_code ec;
    const auto status = fs::status(only, ec);
    if (!fs::exists(status)) {
      throw DatasetError(str_cat(only, ": cannot open: No such file or directory"), only, "");
    }
    if (fs::is_directory(status)) return list_directory(only);
    // A single file is a list of sample files unless it is HDF5 itself (an extension, or its signature).
    if (!has_hdf5_extension(only) && !has_hdf5_signature(only)) return read_list_file(only);
  }
  return files;
}

}  // namespace ferry::storage
