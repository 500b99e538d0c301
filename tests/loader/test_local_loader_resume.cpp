// LocalLoader resume: seek and a saved state take up the same sequence, a state for other data or another
// pipeline is refused, and a dataset file rewritten or removed between epochs is named.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "ferry/error.hpp"
#include "ferry/local_loader.hpp"
#include "local_loader_fixture.hpp"

namespace fs = std::filesystem;
using ferry::loader::test::drain;
using ferry::loader::test::image_pipeline;
using ferry::loader::test::LoaderData;

TEST(LocalLoader, SeekResumesTheSameSequence) {
  const auto p = image_pipeline();
  const auto all = drain(p);
  ferry::LocalLoader loader(p);
  loader.seek(1, 3);
  std::size_t k = all.size() - (loader.batches_per_epoch() - 3);
  while (const ferry::Batch* b = loader.next_batch()) {
    ASSERT_LT(k, all.size());
    EXPECT_EQ(b->ids, all[k].ids);
    EXPECT_EQ(b->epoch, 1u);
    ++k;
  }
  EXPECT_EQ(k, all.size());
}

TEST(LocalLoader, StateResumesTheSameSequence) {
  auto p = image_pipeline();
  p.prepare = {{"image", ferry::parse_op_chain("cast", "test")}};
  p.augment = {{"image", ferry::parse_op_chain("random_flip | noise(std=0.1)", "test")}};
  const auto all = drain(p, 1, 2);
  std::string state;
  {
    ferry::LocalLoader loader(p, 1, 2);
    for (int k = 0; k < 17; ++k) ASSERT_NE(loader.next_batch(), nullptr);
    state = loader.state();
  }
  EXPECT_EQ(state.substr(0, state.rfind(' ')), "ferry-state 1 pipeline=img seed=99 epoch=1 batch=5");
  EXPECT_EQ(state.substr(state.rfind(' ')).size(), std::string(" dataset=0123456789abcdef").size()) << state;
  ferry::Config config;
  config.pipelines = {p};
  ferry::apply_state(config, state);
  const auto rest = drain(config.pipelines[0], 1, 2);
  ASSERT_EQ(rest.size(), all.size() - 17);
  for (std::size_t k = 0; k < rest.size(); ++k) {
    EXPECT_EQ(rest[k].ids, all[17 + k].ids);
    EXPECT_EQ(rest[k].fields, all[17 + k].fields) << "batch " << 17 + k;
  }
  ferry::Config other = config;
  other.pipelines[0].seed = 1;
  EXPECT_THROW(ferry::apply_state(other, state), ferry::ConfigError);
  EXPECT_THROW(ferry::apply_state(config, "ferry-state 1 pipeline=nope seed=99 epoch=0 batch=0"),
               ferry::ConfigError);
  EXPECT_THROW(ferry::apply_state(config, "garbage"), ferry::ConfigError);
  config.pipelines[0].start_epoch = 5;
  EXPECT_THROW(ferry::LocalLoader(config.pipelines[0]), ferry::ConfigError);
}

namespace {

// A copy of images.h5 (or of the cosmo folder) that one test may change.
std::string copy_of(const std::string& name, const std::string& as) {
  const std::string to = LoaderData::dir + "/" + as;
  fs::remove_all(to);
  fs::copy(LoaderData::dir + "/" + name, to, fs::copy_options::recursive);
  return to;
}

// Moves a file's modification time a second on: rewritten in place, as a loader sees it.
void rewrite_in_place(const std::string& path) {
  fs::last_write_time(path, fs::last_write_time(path) + std::chrono::seconds(1));
}

// Takes epoch 0 of `loader`, applies `change`, and returns the message of the error the next batch throws.
std::string error_after_epoch0(ferry::LocalLoader& loader, const std::function<void()>& change) {
  for (std::uint64_t k = 0; k < loader.batches_per_epoch(); ++k)
    if (loader.next_batch() == nullptr) return "epoch 0 ended early";
  change();
  try {
    loader.next_batch();
  } catch (const ferry::DatasetError& e) {
    return e.what();
  }
  return "no DatasetError";
}

}  // namespace

TEST(LocalLoader, FileRewrittenBetweenEpochsIsNamed) {
  auto p = image_pipeline();
  p.dataset.files = {copy_of("images.h5", "rewritten.h5")};
  ferry::LocalLoader loader(p);
  const std::string msg = error_after_epoch0(loader, [&] { rewrite_in_place(p.dataset.files[0]); });
  EXPECT_NE(msg.find("pipeline 'img': dataset file " + p.dataset.files[0] +
                     " (rewritten: modified after the job opened it) changed under the running job (found at "
                     "the start of epoch 1)"),
            std::string::npos)
      << msg;
}

TEST(LocalLoader, FileOfAFolderRemovedBetweenEpochsIsNamed) {
  ferry::PipelineConfig p;
  p.name = "cosmo";
  p.epochs = 2;
  p.batch_size = 2;
  p.dataset.layout = ferry::Layout::file_per_sample;
  p.dataset.files = {copy_of("cosmo", "cosmo_removed")};
  p.dataset.fields = {{"full", "full"}};
  ferry::LocalLoader loader(p);
  std::string removed;
  const std::string msg = error_after_epoch0(loader, [&] {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(p.dataset.files[0])) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    removed = files.at(5).string();
    fs::remove(removed);
  });
  EXPECT_NE(msg.find("dataset file " + removed +
                     " (gone: No such file or directory) changed under the running job"),
            std::string::npos)
      << msg;
}

TEST(LocalLoader, StateSavedForOtherDataIsRefused) {
  auto p = image_pipeline();
  p.dataset.files = {copy_of("images.h5", "resumed.h5")};
  std::string state;
  {
    ferry::LocalLoader loader(p);
    for (int k = 0; k < 3; ++k) ASSERT_NE(loader.next_batch(), nullptr);
    state = loader.state();
  }
  ferry::Config config;
  config.pipelines = {p};
  ferry::apply_state(config, state);
  EXPECT_NO_THROW(ferry::LocalLoader(config.pipelines[0]));  // the same data: accepted
  rewrite_in_place(p.dataset.files[0]);
  try {
    ferry::LocalLoader loader(config.pipelines[0]);
    FAIL() << "a state saved for other data was accepted";
  } catch (const ferry::DatasetError& e) {
    EXPECT_NE(
        std::string(e.what()).find("pipeline 'img': the resume state was saved for another dataset than " +
                                   p.dataset.files[0]),
        std::string::npos)
        << e.what();
  }
  EXPECT_THROW(ferry::apply_state(config, "ferry-state 1 pipeline=img seed=99 epoch=0 batch=0 dataset=xyz"),
               ferry::ConfigError);
}
