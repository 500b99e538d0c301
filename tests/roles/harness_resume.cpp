// The harness's stop-and-resume check (harness.hpp, expect_resume_matches_local).
#include <gtest/gtest.h>

#include <cstring>

#include "ferry/local_loader.hpp"
#include "harness.hpp"

namespace ferry::test {

void expect_resume_matches_local(const Config& config, std::uint64_t before) {
  const PipelineConfig& p = config.pipelines.at(0);
  const int service = config.runtime.randomizers + config.runtime.cache_servers + config.runtime.transformers;
  const auto consumers = static_cast<std::uint32_t>(world_size() - service);
  std::string state;
  int consumer_index = -1;
  {
    ferry::Runtime rt(MPI_COMM_WORLD, config);
    if (rt.is_consumer()) {
      consumer_index = rt.consumer_index();
      Loader& loader = rt.loader();
      for (std::uint64_t k = 0; k < before; ++k) ASSERT_NE(loader.next_batch(), nullptr);
      state = loader.state();
    } else {
      rt.serve();
    }
  }  // the job ends here mid-epoch: consumers stop early, every rank shuts down
  // Every consumer saved the same state; a new job resumes from it.
  char buffer[256] = {};
  if (consumer_index == 0) state.copy(buffer, sizeof buffer - 1);
  MPI_Bcast(buffer, sizeof buffer, MPI_CHAR, service, MPI_COMM_WORLD);  // the first consumer rank
  if (consumer_index >= 0) {
    EXPECT_EQ(state, std::string(buffer)) << "consumers disagree on the state";
  }
  Config resumed = config;
  apply_state(resumed, buffer);
  const JobResult r = run_job(resumed);
  if (!r.consumer) return;
  LocalLoader local(p, static_cast<std::uint32_t>(r.consumer_index), consumers);
  for (std::uint64_t k = 0; k < before; ++k) ASSERT_NE(local.next_batch(), nullptr);
  std::size_t k = 0;
  while (const Batch* b = local.next_batch()) {
    ASSERT_LT(k, r.batches.size());
    ASSERT_EQ(r.batches[k].ids, b->ids) << "batch " << before + k;
    for (std::size_t f = 0; f < b->fields.size(); ++f)
      ASSERT_EQ(std::memcmp(r.batches[k].fields[f].data(), b->fields[f].data, b->fields[f].bytes), 0)
          << "batch " << before + k << " field " << f;
    ++k;
  }
  EXPECT_EQ(k, r.batches.size());
}

}  // namespace ferry::test
