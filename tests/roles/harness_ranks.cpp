// What the harness shares across ranks (harness.hpp): this rank and the world's size, counters published
// to the other ranks through shared_dir() and waited on, and sums and maxima over every rank.
#include <filesystem>
#include <fstream>

#include "core/check.hpp"
#include "harness.hpp"

namespace ferry::test {

int world_rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

int world_size() {
  int s = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &s);
  return s;
}

namespace {

std::string published_prefix(const std::string& name) {
  return shared_dir() + "/published_" + name + "_";
}

}  // namespace

PublishedCount::PublishedCount(const std::string& name, const std::atomic<std::uint64_t>& count)
    : path_(published_prefix(name) + std::to_string(world_rank())), count_(count) {
  publish(count_.load());
  thread_ = std::thread([this] {
    std::uint64_t shown = count_.load();
    // Polls: the count belongs to code that knows nothing of this. A 1 ms period bounds the lag, which
    // nothing is timed against.
    while (!stop_.load()) {
      if (const std::uint64_t now = count_.load(); now != shown) publish(shown = now);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
}

PublishedCount::~PublishedCount() {
  stop_ = true;
  thread_.join();
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);
}

void PublishedCount::publish(std::uint64_t value) const {
  const std::string tmp = path_ + ".tmp";
  std::ofstream(tmp) << value << "\n";
  std::filesystem::rename(tmp, path_);  // readers see the old value or the new one, never half of it
}

bool wait_for_published(const std::string& name, const std::function<bool(std::uint64_t)>& done,
                        std::chrono::seconds deadline) {
  const std::string prefix = published_prefix(name);
  const auto give_up = std::chrono::steady_clock::now() + deadline;
  while (true) {
    // Each rank's file by its name: a directory listing may show a file twice while it is renamed over.
    std::uint64_t sum = 0;
    for (int rank = 0; rank < world_size(); ++rank) {
      std::uint64_t value = 0;
      if (std::ifstream(prefix + std::to_string(rank)) >> value) sum += value;
    }
    if (done(sum)) return true;
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // polling period, not a wait for the event
  }
}

std::uint64_t sum_all(std::uint64_t value) {
  std::uint64_t total = 0;
  FERRY_CHECK_MPI(MPI_Allreduce(&value, &total, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD));
  return total;
}

double max_all(double value) {
  double top = 0;
  FERRY_CHECK_MPI(MPI_Allreduce(&value, &top, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD));
  return top;
}

}  // namespace ferry::test
