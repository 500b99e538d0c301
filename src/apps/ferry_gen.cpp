// ferry-gen: writes a synthetic dataset shaped like one of the reference workloads. Usage: docs/datasets.md.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "apps/progress.hpp"
#include "apps/tool_main.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "storage/synthetic.hpp"

namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

int main(int argc, char** argv) {
  ferry::log::init(-1, "warn");
  CLI::App app{"Writes a synthetic Ferry dataset (image, cosmoflow, deepcam, vlen or jpeg)", "ferry-gen"};
  ferry::synthetic::GenOptions options;
  std::string kind;
  bool full = false;
  app.add_option("kind", kind, "image | cosmoflow | deepcam | vlen | jpeg")->required();
  app.add_option("--out,-o", options.out,
                 "output .h5 file (image, vlen, jpeg) or directory (cosmoflow, deepcam)")
      ->required();
  app.add_option("--samples,-n", options.samples, "number of samples")->capture_default_str();
  app.add_option("--seed,-s", options.seed, "seed of the value functions")->capture_default_str();
  auto* height = app.add_option("--height", options.height, "image / deepcam height (default 64 / 96)");
  auto* width =
      app.add_option("--width", options.width,
                     "image / deepcam width (default 64 / 144); jpeg: the longer side (default 500)");
  app.add_option("--channels", options.channels, "image channels")->capture_default_str();
  auto* cosmo =
      app.add_option("--cosmo-width", options.cosmo_width, "cosmoflow cube edge")->capture_default_str();
  auto* full_flag =
      app.add_flag("--full", full, "full-size samples: image 224x224, cosmoflow 128^3, deepcam 768x1152");
  full_flag->excludes(cosmo)->excludes(height)->excludes(width);
  app.add_option("--chunk", options.chunk,
                 "samples per chunk (per-sample kinds: rows per chunk); 0 = contiguous")
      ->capture_default_str();
  app.add_option("--quality", options.quality, "jpeg: JPEG quality 1..100 (4:2:0 chroma)")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_option("--truncate-sample", options.truncate_sample,
                 "jpeg: cut these samples' files to half (corrupt samples, to test the bad-input path)");
  app.add_option("--garbage-sample", options.garbage_sample, "jpeg: replace these samples' bytes by noise");
  app.add_option("--empty-sample", options.empty_sample, "jpeg: make these samples zero-length");
  app.add_option("--deflate", options.deflate, "deflate level 0..9")
      ->check(CLI::Range(0, 9))
      ->capture_default_str();

  return ferry::apps::run_tool("ferry-gen", app, argc, argv, [&]() -> int {
    if (!ferry::synthetic::parse_kind(kind, options.kind)) {
      throw ferry::ConfigError(
          ferry::str_cat("unknown kind '", kind, "' (image, cosmoflow, deepcam, vlen or jpeg)"));
    }
    if (full) {
      options.cosmo_width = 128;
      options.height = options.kind == ferry::synthetic::Kind::deepcam ? 768 : 224;
      options.width = options.kind == ferry::synthetic::Kind::deepcam ? 1152 : 224;
    }
    if (ferry::apps::show_progress())
      options.progress = ferry::apps::Progress(ferry::synthetic::kind_name(options.kind));
    const auto start = Clock::now();
    const ferry::synthetic::GenResult result = ferry::synthetic::generate(options);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("ferry-gen: wrote %llu %s samples (%s payload, %s on disk) to %s in %.2f s\n",
                static_cast<unsigned long long>(result.samples), ferry::synthetic::kind_name(options.kind),
                ferry::format_bytes(static_cast<double>(result.payload_bytes)).c_str(),
                ferry::format_bytes(static_cast<double>(result.file_bytes)).c_str(), options.out.c_str(),
                seconds);
    return 0;
  });
}
