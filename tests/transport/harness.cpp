#include "harness.hpp"

namespace ferry::transport::testing {

std::vector<Message> receive(Fabric& fabric, std::size_t count) {
  std::vector<Message> messages;
  messages.reserve(count);
  const auto deadline = std::chrono::steady_clock::now() + kPeerTimeout;
  while (messages.size() < count) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      ADD_FAILURE() << "rank " << fabric.rank() << " received " << messages.size() << " of " << count
                    << " messages within " << kPeerTimeout.count() << " s";
      break;
    }
    if (auto message = fabric.wait(std::chrono::duration_cast<std::chrono::microseconds>(deadline - now))) {
      messages.push_back(std::move(*message));
    }
  }
  return messages;
}

std::byte pattern(int source, int destination, std::uint64_t seq, std::size_t position) {
  std::uint64_t x = position * 0x9e3779b97f4a7c15ULL;
  x ^= (static_cast<std::uint64_t>(source) << 40) ^ (static_cast<std::uint64_t>(destination) << 24) ^
       (seq << 4);
  x ^= x >> 29;
  x *= 0xbf58476d1ce4e5b9ULL;
  return static_cast<std::byte>(x >> 56);
}

void fill_pattern(std::span<std::byte> bytes, int source, int destination, std::uint64_t seq) {
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = pattern(source, destination, seq, i);
}

std::size_t first_mismatch(std::span<const std::byte> bytes, int source, int destination, std::uint64_t seq,
                           std::size_t start_position) {
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] != pattern(source, destination, seq, start_position + i)) return i;
  }
  return bytes.size();
}

INSTANTIATE_TEST_SUITE_P(Backends, FabricTest, ::testing::Values("ucx", "mpi"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace ferry::transport::testing
