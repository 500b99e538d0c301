// The job list: its round trip, lookups by op and stage, refusal of what this version cannot read, and how
// route() spreads an op's accelerator share over the batches.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <utility>

#include "ferry/error.hpp"
#include "monitor/job_list.hpp"

namespace ferry::monitor {
namespace {

TEST(JobList, RoundTripsAndFinds) {
  JobList jobs;
  jobs.window = 12;
  jobs.ops = {
      {0, 0, kShareUnits, Reason::offload}, {0, 1, 0, Reason::not_capable}, {2, 0, 300, Reason::hold}};
  const JobList back = decode_job_list(encode(jobs));
  EXPECT_EQ(back, jobs);
  EXPECT_EQ(back.find(2, 0)->accelerator_units, 300u);
  EXPECT_EQ(back.find(1, 0), nullptr);
  EXPECT_EQ(back.find(0, 0)->target(), Target::accelerator);
  EXPECT_EQ(back.find(0, 1)->target(), Target::cpu);
  EXPECT_DOUBLE_EQ(back.find(0, 0)->shares()[static_cast<int>(Target::cpu)], 0.0);

  auto bad = encode(JobList{0, {{0, 0, kShareUnits + 1, Reason::hold}}});
  EXPECT_THROW(decode_job_list(bad), Error);
}

TEST(JobList, StagesAreApart) {
  // Op 0 of pipeline 1 exists in both stages with different shares; find() tells them apart.
  JobList jobs;
  jobs.ops = {{1, 0, 100, Reason::hold, Stage::prepare},
              {1, 0, 900, Reason::offload, Stage::augment},
              {1, 1, 0, Reason::not_capable, Stage::augment},
              {1, 0, 512, Reason::fixed, Stage::head}};
  const JobList back = decode_job_list(encode(jobs));
  EXPECT_EQ(back, jobs);
  EXPECT_EQ(back.find(1, 0)->accelerator_units, 100u);  // prepare by default
  EXPECT_EQ(back.find(1, 0, Stage::augment)->accelerator_units, 900u);
  EXPECT_EQ(back.find(1, 1, Stage::augment)->reason, Reason::not_capable);
  EXPECT_EQ(back.find(1, 1), nullptr);
  EXPECT_EQ(to_string(Stage::augment), "augment");
  EXPECT_EQ(back.find(1, 0, Stage::head)->accelerator_units, 512u);  // the augment head's transformer share
  EXPECT_EQ(to_string(Stage::head), "head");
  // A list out of order (a policy of one's own) finds nothing until sorted.
  JobList shuffled = jobs;
  std::swap(shuffled.ops[0], shuffled.ops[3]);
  shuffled.sort();
  EXPECT_EQ(shuffled, jobs);
  // A stage this version does not know is refused, not misread: find the stage's byte (the one byte in
  // which a prepare and an augment placement differ) and write a fourth stage there.
  auto bytes = encode(JobList{0, {{0, 0, 1, Reason::hold, Stage::prepare}}});
  const auto other = encode(JobList{0, {{0, 0, 1, Reason::hold, Stage::augment}}});
  ASSERT_EQ(bytes.size(), other.size());
  std::size_t at = 0;
  while (at < bytes.size() && bytes[at] == other[at]) ++at;
  ASSERT_LT(at, bytes.size());
  bytes[at] = std::byte{2};  // the head: known
  EXPECT_EQ(decode_job_list(bytes).ops.at(0).stage, Stage::head);
  bytes[at] = std::byte{3};
  EXPECT_THROW(decode_job_list(bytes), Error);
}

TEST(JobList, RouteSpreadsTheShareEvenly) {
  for (const double share : {0.0, 0.25, 0.3, 0.5, 0.75, 1.0}) {
    OpPlacement p;
    p.accelerator_units = share_to_units(share);
    std::uint64_t on_accel = 0;
    std::uint64_t longest_run = 0, run = 0;
    for (std::uint64_t b = 0; b < kShareUnits; ++b) {
      const bool accel = route(p, b) == Target::accelerator;
      on_accel += accel;
      run = accel ? run + 1 : 0;
      longest_run = std::max(longest_run, run);
    }
    EXPECT_EQ(on_accel, p.accelerator_units) << share;  // exact per 1024 batches
    if (share <= 0.5) {
      EXPECT_LE(longest_run, 1u) << share;  // never two device batches in a row
    }
  }
}

}  // namespace
}  // namespace ferry::monitor
