// The harness's job runner and its check against LocalLoader (harness.hpp): run_job drains every pipeline a
// consumer is in and keeps what it saw; expect_local_loader_* compare that with LocalLoader's batches.
#include <gtest/gtest.h>

#include <cstring>
#include <set>

#include "ferry/local_loader.hpp"
#include "harness.hpp"

namespace ferry::test {

JobResult run_job(const Config& config, const std::function<void(Runtime&, const Batch&)>& on_batch) {
  JobResult result;
  Runtime rt(MPI_COMM_WORLD, config);
  if (!rt.is_consumer()) {
    result.report = rt.serve();
    return result;
  }
  result.consumer = true;
  result.consumer_index = rt.consumer_index();
  std::vector<std::pair<std::size_t, Loader*>> loaders;
  for (const auto& name : rt.pipelines()) {
    std::size_t index = 0;
    while (config.pipelines[index].name != name) ++index;
    loaders.emplace_back(index, &rt.loader(name));
  }
  std::set<std::size_t> active;
  for (std::size_t i = 0; i < loaders.size(); ++i) active.insert(i);
  std::map<std::size_t, LoaderCounters> last;
  while (!active.empty()) {
    for (auto it = active.begin(); it != active.end();) {
      auto [index, loader] = loaders[*it];
      const Batch* b = loader->next_batch();
      if (!b) {
        it = active.erase(it);
        continue;
      }
      SeenBatch seen{index, b->epoch, b->index, b->ids, {}};
      for (const auto& f : b->fields) {
        // Device batches in tests: the stand-in link's "device memory" is host memory.
        const std::byte* bytes = f.on_device() ? f.device_data : f.data;
        seen.fields.emplace_back(bytes, bytes + f.bytes);
      }
      result.batches.push_back(std::move(seen));
      if (on_batch) on_batch(rt, *b);
      if (b->index + 1 == loader->batches_per_epoch()) {
        LoaderCounters now = loader->counters(), delta = now;
        const LoaderCounters& before = last[index];
        delta.batches -= before.batches;
        delta.samples -= before.samples;
        delta.hits -= before.hits;
        delta.misses -= before.misses;
        delta.bytes -= before.bytes;
        delta.wait_seconds -= before.wait_seconds;
        result.epoch_counters[index].push_back(delta);
        last[index] = now;
      }
      ++it;
    }
  }
  return result;
}

void expect_local_loader_batches(const PipelineConfig& p, const std::vector<const SeenBatch*>& seen,
                                 std::uint32_t me, std::uint32_t consumers) {
  LocalLoader local(p, me, consumers);
  std::size_t k = 0;
  while (const Batch* b = local.next_batch()) {
    ASSERT_LT(k, seen.size()) << "pipeline " << p.name << ": fewer batches than LocalLoader";
    ASSERT_EQ(seen[k]->ids, b->ids) << p.name << " batch " << k << " (epoch " << b->epoch << ")";
    ASSERT_EQ(seen[k]->fields.size(), b->fields.size());
    for (std::size_t f = 0; f < b->fields.size(); ++f) {
      const auto& want = b->fields[f];
      ASSERT_EQ(seen[k]->fields[f].size(), want.bytes) << p.name << " batch " << k << " field " << want.name;
      ASSERT_EQ(std::memcmp(seen[k]->fields[f].data(), want.data, want.bytes), 0)
          << p.name << " batch " << k << " field " << want.name << " differs from LocalLoader";
    }
    ++k;
  }
  EXPECT_EQ(k, seen.size()) << "pipeline " << p.name << ": more batches than LocalLoader";
}

void expect_local_loader_job(const Config& config, const JobResult& result) {
  if (!result.consumer) return;
  std::vector<const SeenBatch*> seen;
  for (const auto& b : result.batches) seen.push_back(&b);
  expect_local_loader_batches(config.pipelines[0], seen, static_cast<std::uint32_t>(result.consumer_index),
                              2);
}

}  // namespace ferry::test
