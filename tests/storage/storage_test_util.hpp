// Shared helpers for the storage tests: a temporary directory per test and error-message capture.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "ferry/dataset.hpp"
#include "ferry/error.hpp"

namespace ferry::testing {

// A fresh directory under gtest's temp dir, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "ferry_storage_XXXXXX";
    if (!mkdtemp(pattern.data())) ADD_FAILURE() << "mkdtemp failed for " << pattern;
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Runs fn, expecting a DatasetError; returns its what() ("" and a test failure otherwise).
inline std::string dataset_error(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const DatasetError& e) {
    const std::string msg = e.what();
    if (std::getenv("FERRY_TEST_PRINT_ERRORS")) std::fprintf(stderr, "  error: %s\n", msg.c_str());
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "message is not one line: " << msg;
    return msg;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected DatasetError, got: " << e.what();
    return {};
  }
  ADD_FAILURE() << "expected DatasetError, nothing was thrown";
  return {};
}

inline std::string open_error(const DatasetSpec& spec) {
  return dataset_error([&] { Dataset::open(spec); });
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// EXPECT that `msg` names every one of `parts` (file names, dataset paths, IDs).
#define FERRY_EXPECT_NAMES(msg, ...)                                               \
  do {                                                                             \
    for (const std::string& ferry_part_ : std::vector<std::string>{__VA_ARGS__}) { \
      EXPECT_TRUE(::ferry::testing::contains((msg), ferry_part_))                  \
          << "message does not name '" << ferry_part_ << "': " << (msg);           \
    }                                                                              \
  } while (0)

inline DatasetSpec stacked_spec(std::vector<std::string> files, std::vector<FieldSpec> fields,
                                Layout layout = Layout::stacked) {
  DatasetSpec spec;
  spec.layout = layout;
  spec.files = std::move(files);
  spec.fields = std::move(fields);
  return spec;
}

inline std::vector<std::byte> read_field(Dataset& ds, std::size_t field,
                                         const std::vector<std::uint64_t>& ids) {
  std::vector<std::byte> out(ids.size() * ds.fields()[field].sample_bytes());
  ds.read(field, ids, out.data());
  return out;
}

}  // namespace ferry::testing
