// Shared pieces of the multi-rank transport tests: the fixture every backend test is written against (one
// Fabric over MPI_COMM_WORLD per test, closed collectively in TearDown), receive-with-deadline, and the byte
// pattern messages and regions are filled with.
#pragma once

#include <gtest/gtest.h>
#include <mpi.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "transport/registry.hpp"

namespace ferry::transport::testing {

// How long a rank waits for a peer's traffic. A rank that failed and left its test body early makes its
// peers fail here, with a message, instead of hanging until the watchdog.
inline constexpr auto kPeerTimeout = std::chrono::seconds(30);

// Longer than the test watchdog (tests/common/mpi_gtest_main.cpp): a wait that only an event (a wake, a
// peer's loss) may end. When the event does not end it, the watchdog fails the test there, with its name,
// instead of the wait returning empty on a timeout that would pass for the event.
inline constexpr auto kForever = std::chrono::hours(1);

class FabricTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { fabric_ = make_fabric(GetParam(), MPI_COMM_WORLD); }
  void TearDown() override {
    if (fabric_) fabric_->close();
  }

  std::unique_ptr<Fabric> fabric_;
};

// Receives exactly count messages within kPeerTimeout; records a test failure (and returns what arrived)
// when they do not all come.
std::vector<Message> receive(Fabric& fabric, std::size_t count);

// Content is a pure function of (source, destination, sequence, position), so any misplaced, truncated or
// reordered byte shows up.
std::byte pattern(int source, int destination, std::uint64_t seq, std::size_t position);
void fill_pattern(std::span<std::byte> bytes, int source, int destination, std::uint64_t seq);
// Index of the first byte that differs from the pattern, or bytes.size() when none does.
std::size_t first_mismatch(std::span<const std::byte> bytes, int source, int destination, std::uint64_t seq,
                           std::size_t start_position = 0);

}  // namespace ferry::transport::testing
