// ferry_bench permute: the sampler's rate of producing sample ids, against the baseline a PyTorch sampler
// stands for. Its own file because it measures another layer (src/sampler) than the system subcommands
// (ferry_bench_system.cpp) and the transport ones (ferry_bench_transport.cpp), and shares nothing with
// either.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <random>
#include <vector>

#include "ferry_bench_common.hpp"
#include "sampler/epoch_plan.hpp"
#include "sampler/permutation.hpp"

namespace ferry::perf {

// The randomizer's permutation (a keyed bijection evaluated per position, O(1) memory) against what a
// PyTorch sampler does (materialize the order: std::iota + std::shuffle), and EpochPlan::batch_ids, the call
// the randomizer makes per batch.
int cmd_permute(const Options& o) {
  const std::uint64_t n = parse_size(o.flag("n", "1M"));
  std::uint64_t sink = 0;
  const auto t0 = Clock::now();
  const ferry::sampler::Permutation perm(n, 0x5eed);
  for (std::uint64_t i = 0; i < n; ++i) sink += perm(i);
  const double perm_s = seconds_since(t0);

  const auto t1 = Clock::now();
  std::vector<std::uint64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 gen(0x5eed);
  std::shuffle(order.begin(), order.end(), gen);
  for (std::uint64_t i = 0; i < n; ++i) sink += order[i];
  const double shuffle_s = seconds_since(t1);

  ferry::sampler::ShareSpec spec;
  spec.samples = n;
  spec.consumers = 4;
  spec.batch_size = 64;
  spec.seed = 7;
  const ferry::sampler::EpochPlan plan(spec, 3);
  std::vector<std::uint64_t> ids;
  const auto t2 = Clock::now();
  std::uint64_t described = 0;
  for (std::uint64_t k = 0; k < plan.batches_per_consumer(); ++k)
    for (std::uint32_t c = 0; c < spec.consumers; ++c) {
      plan.batch_ids(c, k, ids);
      described += ids.size();
      sink += ids.empty() ? 0 : ids[0];
    }
  const double plan_s = seconds_since(t2);
  FILE* f = std::fopen(o.out.c_str(), "a");
  if (!f) return 1;
  std::fprintf(f, "%s\n",
               Json()
                   .str("kind", "permute")
                   .u64("n", n)
                   .num("permutation_ids_per_s", n / perm_s)
                   .num("shuffle_ids_per_s", n / shuffle_s)
                   .num("plan_ids_per_s", static_cast<double>(described) / plan_s)
                   .u64("checksum", sink)
                   .done()
                   .c_str());
  std::fclose(f);
  return 0;
}

}  // namespace ferry::perf
