// Layouts that cannot work (the RuntimeRanks suite, runtime_ranks.hpp): too many service ranks, unknown
// consumers, a missing file, a cache too small for one entry, a resume position past the end, and jobs whose
// consumers would get no batch fail at set-up on every rank, with one line that names the problem.
#include <gtest/gtest.h>

#include <string>

#include "ferry/error.hpp"
#include "harness.hpp"
#include "runtime_ranks.hpp"

namespace ferry::test {
namespace {

// Each rank must throw E containing `expect`; checked on every rank.
template <typename E = ConfigError>
void expect_fails_everywhere(const Config& config, const std::string& expect) {
  int ok = 0;
  try {
    ferry::Runtime rt(MPI_COMM_WORLD, config);
  } catch (const E& e) {
    const std::string msg = e.what();
    ok = msg.find(expect) != std::string::npos;
    EXPECT_TRUE(ok) << "message: " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
  int all = 0;
  MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  EXPECT_EQ(all, 1) << "some rank did not fail with '" << expect << "'";
}

TEST_P(RuntimeRanks, LayoutsThatCannotWorkFailOnEveryRank) {
  Config config = base(1, world_size());
  config.pipelines.push_back(image_pipeline("images", 240, 1));
  expect_fails_everywhere(config, "cannot hold");
  config = base(world_size() - 2, 1);
  config.pipelines.push_back(image_pipeline("images", 240, 1));
  expect_fails_everywhere(config, "leave no consumer");
  config = base();
  config.pipelines.push_back(image_pipeline("images", 240, 1));
  config.pipelines[0].consumers = {0, 99};
  expect_fails_everywhere(config, "consumers names consumer 99");
  config = base();
  config.pipelines.push_back(image_pipeline("images", 240, 1));
  config.pipelines[0].dataset.files = {shared_dir() + "/missing.h5"};
  expect_fails_everywhere<DatasetError>(config, "missing.h5");
  config = base();
  config.runtime.cache_bytes = 256;  // smaller than one entry
  config.pipelines.push_back(image_pipeline("images", 240, 1));
  expect_fails_everywhere(config, "does not fit a cache server");
  config = base();
  config.pipelines.push_back(image_pipeline("images", 240, 1));
  config.pipelines[0].start_epoch = 9;  // a resume position past the end
  expect_fails_everywhere(config, "start_epoch = 9 lies past");
  config.pipelines[0].start_epoch = 2;  // a state saved after the last batch of its 2 epochs
  expect_fails_everywhere(config,
                          "pipeline 'images': the resume position (start_epoch = 2, start_batch = 0) "
                          "is the end of its 2 epoch(s): nothing is left to deliver");
  // Jobs whose consumers get no batch: under UCX these crashed in uct_rkey_release or ended with exit 0.
  config = base();
  config.pipelines.push_back(image_pipeline("images", 240, 1));
  config.pipelines[0].batch_size = 241;
  expect_fails_everywhere(config, "pipeline 'images': batch_size = 241 is larger than each consumer's share");
  config = base();
  config.pipelines.push_back(image_pipeline("one", 1, 1));  // a 1-sample dataset (shares of 0 or 1)
  expect_fails_everywhere(config, "pipeline 'one': batch_size = 8 is larger than each consumer's share of " +
                                      std::to_string(1 / consumers(config)) + " sample(s)");
}

}  // namespace
}  // namespace ferry::test
