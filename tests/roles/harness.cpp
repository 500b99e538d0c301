#include "harness.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/check.hpp"
#include "ferry/local_loader.hpp"
#include "storage/synthetic.hpp"

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

const std::string& shared_dir() {
  static const std::string dir = [] {
    char name[256] = {};
    if (world_rank() == 0) {
      std::string base =
          std::filesystem::temp_directory_path() / ("ferry_roles_" + std::to_string(::getpid()));
      std::filesystem::create_directories(base);
      base.copy(name, sizeof name - 1);
    }
    MPI_Bcast(name, sizeof name, MPI_CHAR, 0, MPI_COMM_WORLD);
    if (world_rank() == 0) {
      static std::string keep = name;
      std::atexit([] { std::filesystem::remove_all(keep); });
    }
    return std::string(name);
  }();
  return dir;
}

namespace {
std::string generate_once(synthetic::Kind kind, const std::string& name, std::uint64_t samples) {
  const std::string path = shared_dir() + "/" + name + "_" + std::to_string(samples) + ".h5";
  if (world_rank() == 0 && !std::filesystem::exists(path)) {
    synthetic::GenOptions g;
    g.kind = kind;
    g.out = path;
    g.samples = samples;
    g.seed = 17;
    g.height = 6;
    g.width = 5;
    g.channels = 3;
    g.chunk = 16;
    g.deflate = kind == synthetic::Kind::image ? 1 : 0;
    synthetic::generate(g);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  return path;
}
}  // namespace

std::string image_dataset(std::uint64_t samples) {
  return generate_once(synthetic::Kind::image, "images", samples);
}
std::string vlen_dataset(std::uint64_t samples) {
  return generate_once(synthetic::Kind::vlen, "vlen", samples);
}

PipelineConfig image_pipeline(const std::string& name, std::uint64_t samples, std::uint64_t seed) {
  PipelineConfig p;
  p.name = name;
  p.seed = seed;
  p.epochs = 2;
  p.batch_size = 8;
  p.dataset.files = {image_dataset(samples)};
  p.dataset.fields = {{"image", "/images"}, {"label", "/labels"}};
  p.prepare = {{"image", parse_op_chain("cast(scale=0.0039215686) | hwc_to_chw", "test")}};
  p.augment = {{"image", parse_op_chain("random_flip | noise(std=0.05)", "test")}};
  return p;
}

PipelineConfig vlen_pipeline(const std::string& name, std::uint64_t samples, std::uint64_t seed) {
  PipelineConfig p;
  p.name = name;
  p.seed = seed;
  p.batch_size = 4;
  p.dataset.layout = Layout::vlen;
  p.dataset.files = {vlen_dataset(samples)};
  p.dataset.fields = {{"bytes", "/bytes"}, {"label", "/labels"}};
  return p;
}

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

Config device_job_config(const std::string& transport, double static_share) {
  Config c;
  c.log_level = "warn";
  c.runtime.transport = transport;
  c.runtime.cache_servers = 1;
  c.runtime.transformers = 1;
  c.runtime.prefetch = 3;
  c.runtime.transform_workers = 2;
  c.runtime.cache_bytes = 240 * 384;
  c.monitor.window_ms = 20;
  c.monitor.window_batches = 4;
  c.monitor.policy = "static";
  c.monitor.static_share = static_share;
  PipelineConfig p = image_pipeline("dev", 480, 11);
  p.epochs = 3;
  c.pipelines = {p};
  return c;
}

void expect_local_loader_job(const Config& config, const JobResult& result) {
  if (!result.consumer) return;
  std::vector<const SeenBatch*> seen;
  for (const auto& b : result.batches) seen.push_back(&b);
  expect_local_loader_batches(config.pipelines[0], seen, static_cast<std::uint32_t>(result.consumer_index),
                              2);
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
