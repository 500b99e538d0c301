// The dataset a job reads is the one it started with: a file rewritten or removed under a running job ends
// it at the next epoch boundary on every rank with the file named, and a resume state saved for other data
// is refused at set-up. Driven through the library API (the consumers change the file between epochs
// themselves, between two barriers), so nothing depends on timing.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <functional>

#include "ferry/error.hpp"
#include "harness.hpp"

namespace ferry::test {
namespace {

class DatasetChecks : public ::testing::TestWithParam<std::string> {
 protected:
  // A 2-epoch job over `file` (240 images, batches of 8, prefetch 3): every consumer has more batches per
  // epoch than its prefetch window at every rank count this binary runs at.
  Config job(const std::string& file) const {
    Config c;
    c.log_level = "error";
    c.runtime.transport = GetParam();
    c.runtime.prefetch = 3;
    c.runtime.cache_bytes = 1 << 20;
    c.pipelines.push_back(image_pipeline("images", 240, 5));
    c.pipelines[0].dataset.files = {file};
    return c;
  }
};

// A copy of the 240-image dataset that only this test changes (rank 0 copies, every rank waits).
std::string private_copy(const std::string& name) {
  const std::string path = shared_dir() + "/" + name + ".h5";
  const std::string original = image_dataset(240);  // collective
  if (world_rank() == 0)
    std::filesystem::copy_file(original, path, std::filesystem::copy_options::overwrite_existing);
  MPI_Barrier(MPI_COMM_WORLD);
  return path;
}

// Moves the file's modification time a second on: a rewrite in place, as the job sees it.
void rewrite_in_place(const std::string& path) {
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  const timespec times[2] = {st.st_atim, {st.st_mtim.tv_sec + 1, st.st_mtim.tv_nsec}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
}

// Consumers take epoch 0, consumer 0 applies `change` to `file` between two barriers, then every consumer
// asks for more: every rank must end with an error whose message has `expect` and names the file.
void expect_change_ends_the_job(const Config& config, const std::string& file,
                                const std::function<void(const std::string&)>& change,
                                const std::string& expect) {
  std::string message;
  {
    ferry::Runtime rt(MPI_COMM_WORLD, config);
    if (!rt.is_consumer()) {
      try {
        rt.serve();
      } catch (const Error& e) {
        message = e.what();
      }
    } else {
      Loader& loader = rt.loader();
      std::uint64_t taken = 0;
      while (taken < loader.batches_per_epoch() && loader.next_batch() != nullptr) ++taken;
      EXPECT_EQ(taken, loader.batches_per_epoch());
      MPI_Barrier(rt.consumer_comm());
      if (rt.consumer_index() == 0) change(file);
      MPI_Barrier(rt.consumer_comm());
      try {
        while (loader.next_batch() != nullptr) {
        }
      } catch (const Error& e) {
        message = e.what();
      }
    }
  }
  EXPECT_NE(message.find(expect), std::string::npos) << "rank " << world_rank() << ": '" << message << "'";
  EXPECT_NE(message.find(std::filesystem::path(file).filename().string()), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

TEST_P(DatasetChecks, FileRewrittenBetweenEpochsEndsTheJobNamingIt) {
  const std::string file = private_copy("rewritten_" + GetParam());
  expect_change_ends_the_job(job(file), file, rewrite_in_place,
                             "(rewritten: modified after the job opened it) changed under the running job "
                             "(found at the start of epoch 1)");
}

TEST_P(DatasetChecks, FileRemovedBetweenEpochsEndsTheJobNamingIt) {
  const std::string file = private_copy("removed_" + GetParam());
  expect_change_ends_the_job(
      job(file), file, [](const std::string& path) { ASSERT_EQ(::unlink(path.c_str()), 0); },
      "(gone: No such file or directory) changed under the running job");
}

TEST_P(DatasetChecks, StateSavedForOtherDataIsRefusedAtSetUp) {
  const std::string file = private_copy("resumed_" + GetParam());
  Config config = job(file);
  std::string state;
  {
    ferry::Runtime rt(MPI_COMM_WORLD, config);
    if (!rt.is_consumer()) {
      rt.serve();
    } else {
      Loader& loader = rt.loader();
      for (int k = 0; k < 2; ++k) ASSERT_NE(loader.next_batch(), nullptr);
      state = loader.state();
      while (loader.next_batch() != nullptr) {
      }
    }
  }
  // Consumer 0's state, on every rank (a checkpoint every rank reads back).
  char text[256] = {};
  int consumer0 = world_size() - 1;  // the lowest consumer rank, found below
  int mine = state.empty() ? world_size() : world_rank();
  MPI_Allreduce(&mine, &consumer0, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (world_rank() == consumer0) state.copy(text, sizeof text - 1);
  MPI_Bcast(text, sizeof text, MPI_CHAR, consumer0, MPI_COMM_WORLD);
  EXPECT_NE(std::string(text).find(" dataset="), std::string::npos) << text;

  if (world_rank() == 0) rewrite_in_place(file);
  MPI_Barrier(MPI_COMM_WORLD);
  apply_state(config, text);
  std::string message;
  try {
    ferry::Runtime rt(MPI_COMM_WORLD, config);
  } catch (const DatasetError& e) {
    message = e.what();
  }
  EXPECT_NE(message.find("the resume state was saved for another dataset than " + file), std::string::npos)
      << "rank " << world_rank() << ": '" << message << "'";
}

INSTANTIATE_TEST_SUITE_P(Transports, DatasetChecks, ::testing::Values("ucx", "mpi"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace ferry::test
