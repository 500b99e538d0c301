// The fixture of the runtime's multi-rank tests (test_runtime.cpp, test_runtime_cache.cpp,
// test_runtime_layouts.cpp: one gtest suite, instantiated over both transports in test_runtime.cpp) and
// their check against LocalLoader.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "harness.hpp"

namespace ferry::test {

class RuntimeRanks : public ::testing::TestWithParam<std::string> {
 protected:
  Config base(int cache_servers = 1, int transformers = 1) const {
    Config c;
    c.log_level = "warn";
    c.runtime.transport = GetParam();
    c.runtime.cache_servers = cache_servers;
    c.runtime.transformers = transformers;
    c.runtime.prefetch = 3;
    c.runtime.cache_bytes = 1 << 20;
    return c;
  }
  static int consumers(const Config& c) {
    return world_size() - c.runtime.randomizers - c.runtime.cache_servers - c.runtime.transformers;
  }
};

// Every batch a consumer saw equals LocalLoader's batch for the same consumer of the same group.
inline void expect_matches_local_loader(const Config& config, const JobResult& r) {
  if (!r.consumer) return;
  std::map<std::size_t, std::vector<const SeenBatch*>> by_pipeline;
  for (const auto& b : r.batches) by_pipeline[b.pipeline].push_back(&b);
  for (const auto& [index, seen] : by_pipeline) {
    const PipelineConfig& p = config.pipelines[index];
    std::vector<int> group = p.consumers;
    if (group.empty())
      for (int c = 0; c < world_size() - 3; ++c) group.push_back(c);
    const auto me =
        static_cast<std::uint32_t>(std::find(group.begin(), group.end(), r.consumer_index) - group.begin());
    expect_local_loader_batches(p, seen, me, static_cast<std::uint32_t>(group.size()));
  }
}

}  // namespace ferry::test
