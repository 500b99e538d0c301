// A rank that fails with an exception that is not a ferry::Error (a std::out_of_range from .at(), a
// std::runtime_error from a library) must still fail the whole job: every rank throws, naming the failing
// rank, its role and the exception's text (docs/errors.md). The faults come from test-only prepare ops,
// registered by name like the built-in ones.
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "ferry/error.hpp"
#include "harness.hpp"
#include "transform/op.hpp"

namespace ferry::test {
namespace {

// The transformation rank of the job's layout: 1 randomizer (rank 0), 1 cache server (rank 1), then it.
constexpr int kTransformer = 2;

// Passes nothing through: its run() throws, on whichever transformation worker runs it.
class ThrowingOp final : public transform::Op {
 public:
  using transform::Op::Op;
  void run(const transform::OpRun&) override {
    throw std::runtime_error("injected std::runtime_error from op test_throw_in_run");
  }
};

void register_fault_ops() {
  static const bool registered = [] {
    auto& registry = transform::OpRegistry::global();
    registry.add("test_throw_in_run", {[](const transform::OpArgs& a) -> std::unique_ptr<transform::Op> {
                                         return std::make_unique<ThrowingOp>("test_throw_in_run", a.input());
                                       },
                                       {},
                                       false});
    // Building the chain throws on the transformation rank only: the other ranks reach the set-up's
    // agreement and would wait there for it.
    registry.add("test_throw_in_setup", {[](const transform::OpArgs& a) -> std::unique_ptr<transform::Op> {
                                           if (world_rank() == kTransformer)
                                             throw std::out_of_range(
                                                 "injected std::out_of_range from op "
                                                 "test_throw_in_setup");
                                           return std::make_unique<ThrowingOp>("test_throw_in_setup",
                                                                               a.input());
                                         },
                                         {},
                                         false});
    return true;
  }();
  (void)registered;
}

class Faults : public ::testing::TestWithParam<std::string> {
 protected:
  Config job(const std::string& op) const {
    register_fault_ops();
    Config c;
    c.log_level = "off";
    c.runtime.transport = GetParam();
    c.runtime.accelerator = "none";
    c.runtime.cache_servers = 1;
    c.runtime.transformers = 1;
    c.runtime.cache_bytes = 1 << 20;
    PipelineConfig p = image_pipeline("images", 240, 5);
    p.prepare.at(0).ops.push_back(OpSpec{op, {}});  // after cast | hwc_to_chw: the augment chain still fits
    c.pipelines.push_back(p);
    return c;
  }
};

// Runs `fn` on every rank; every rank must throw E with a one-line message containing each of `expect`.
template <typename E, typename Fn>
void expect_every_rank_fails(Fn fn, const std::vector<std::string>& expect) {
  int ok = 0;
  std::string msg = "(nothing thrown)";
  try {
    fn();
  } catch (const E& e) {
    msg = e.what();
    ok = 1;
  } catch (const std::exception& e) {
    msg = std::string("wrong exception type: ") + e.what();
  }
  for (const auto& part : expect) ok = ok && msg.find(part) != std::string::npos;
  ok = ok && msg.find('\n') == std::string::npos;
  EXPECT_TRUE(ok) << "rank " << world_rank() << ": " << msg;
  int all = 0;
  MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  EXPECT_EQ(all, 1) << "some rank did not fail with the injected exception";
}

TEST_P(Faults, StdExceptionInSetupFailsEveryRank) {
  const Config config = job("test_throw_in_setup");
  expect_every_rank_fails<InternalError>(
      [&] { ferry::Runtime rt(MPI_COMM_WORLD, config); },
      {"rank 2: transformer set-up: ", "injected std::out_of_range from op test_throw_in_setup"});
}

TEST_P(Faults, StdExceptionInARoleLoopFailsEveryRank) {
  const Config config = job("test_throw_in_run");
  expect_every_rank_fails<Error>(
      [&] { run_job(config); },
      {"rank 2 (transformer): ", "injected std::runtime_error from op test_throw_in_run"});
}

INSTANTIATE_TEST_SUITE_P(Transports, Faults, ::testing::Values("ucx", "mpi"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace ferry::test
