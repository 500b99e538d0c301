// The harness's datasets and configs (harness.hpp): the directory every rank shares, the synthetic datasets
// written once per job, and the pipelines and job configs the tests start from.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "harness.hpp"
#include "storage/synthetic.hpp"

namespace ferry::test {

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

}  // namespace ferry::test
