// ferry-import: converts existing data into a Ferry dataset. Formats: idx (MNIST, Fashion-MNIST) and images
// (a torchvision ImageFolder directory of JPEG/PNG files).
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>

#include "apps/progress.hpp"
#include "apps/tool_main.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "storage/idx.hpp"
#include "storage/image_folder.hpp"

int main(int argc, char** argv) {
  ferry::log::init(-1, "warn");
  CLI::App app{"Converts data into a Ferry dataset", "ferry-import"};
  app.require_subcommand(1);
  std::string images, labels, out, folder;
  ferry::storage::WriteOptions options;
  CLI::App* idx =
      app.add_subcommand("idx", "IDX image + label files (plain or .gz) -> stacked /images, /labels");
  idx->add_option("--images", images, "IDX3 image file (magic 0x00000803)")->required();
  idx->add_option("--labels", labels, "IDX1 label file (magic 0x00000801)")->required();
  idx->add_option("--out,-o", out, "output .h5 file")->required();
  idx->add_option("--chunk", options.chunk_samples, "samples per chunk; 0 = contiguous")
      ->capture_default_str();
  idx->add_option("--deflate", options.deflate, "deflate level 0..9")
      ->check(CLI::Range(0, 9))
      ->capture_default_str();

  CLI::App* image_dir = app.add_subcommand(
      "images",
      "an ImageFolder directory DIR/<class>/*.jpg|png -> vlen /images (file bytes), /labels, /classes");
  image_dir->add_option("dir", folder, "directory with one subdirectory per class")->required();
  image_dir->add_option("--out,-o", out, "output .h5 file")->required();
  image_dir->add_option("--chunk", options.chunk_samples, "samples per chunk; 0 = contiguous")
      ->capture_default_str();

  return ferry::apps::run_tool("ferry-import", app, argc, argv, [&]() -> int {
    const auto start = std::chrono::steady_clock::now();
    std::function<void(std::uint64_t, std::uint64_t)> progress;
    if (ferry::apps::show_progress()) progress = ferry::apps::Progress("ferry-import");
    const ferry::storage::ImportResult result =
        idx->parsed() ? ferry::storage::import_idx(images, labels, out, options, progress)
                      : ferry::storage::import_image_folder(folder, out, options, progress);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("ferry-import: wrote %llu samples (%s on disk) to %s in %.2f s\n",
                static_cast<unsigned long long>(result.samples),
                ferry::format_bytes(static_cast<double>(result.file_bytes)).c_str(), out.c_str(), seconds);
    return 0;
  });
}
