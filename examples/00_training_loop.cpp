// The smallest training loop that uses Ferry: softmax regression on Fashion-MNIST, batches from LocalLoader.
//
//   ferry-import idx --images .../train-images-idx3-ubyte.gz --labels .../train-labels-idx1-ubyte.gz --out
//   fm.h5 00_training_loop fm.h5 [steps] [--check]
//
// Your own data: --images DSET and --labels DSET name the HDF5 datasets (default /images, /labels; labels of
// any integer type, cast to float), --prepare CHAIN turns the images into float32 (default: Fashion-MNIST's
// scaling and statistics), --classes N (default 10). Any image shape works: one weight per element.
// Prints the mean loss of each 50 steps; with --check it exits 1 unless the loss fell.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ferry/ferry.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: %s DATA.h5 [steps] [--check] [--images DSET] [--labels DSET] [--prepare CHAIN] "
                 "[--classes N]\n",
                 argv[0]);
    return 2;
  }
  int steps = 300, classes = 10;
  bool check = false;
  std::string images = "/images", labels_path = "/labels";
  std::string prepare = "cast(scale=0.00392157) | normalize(mean=[0.286], std=[0.353])";
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool valued = arg == "--images" || arg == "--labels" || arg == "--prepare" || arg == "--classes";
    if (valued && i + 1 == argc) {
      std::fprintf(stderr, "00_training_loop: %s needs a value\n", arg.c_str());
      return 2;
    }
    if (arg == "--check")
      check = true;
    else if (arg == "--images")
      images = argv[++i];
    else if (arg == "--labels")
      labels_path = argv[++i];
    else if (arg == "--prepare")
      prepare = argv[++i];
    else if (arg == "--classes")
      classes = std::atoi(argv[++i]);
    else if (i == 2 && arg[0] != '-')
      steps = std::atoi(argv[i]);
    else {
      std::fprintf(stderr, "00_training_loop: unknown argument %s\n", arg.c_str());
      return 2;
    }
  }

  ferry::PipelineConfig pipeline;
  pipeline.name = "fmnist";
  pipeline.seed = 1;
  pipeline.epochs = 1000;  // the loop stops after `steps`
  pipeline.batch_size = 64;
  pipeline.dataset.files = {argv[1]};
  pipeline.dataset.fields = {{"image", images}, {"label", labels_path}};
  // Labels of any integer type arrive as float32 (exact up to 2^24).
  pipeline.prepare = {{"image", ferry::parse_op_chain(prepare, "prepare.image")},
                      {"label", ferry::parse_op_chain("cast", "prepare.label")}};
  pipeline.augment = {{"image", ferry::parse_op_chain("random_flip(p=0.5)", "augment.image")}};

  try {
    ferry::LocalLoader loader(pipeline);
    const int kClasses = classes;
    int kPixels = 0;  // elements of one prepared image: the model's inputs, known from the first batch
    std::vector<float> w, b(kClasses, 0.0f), grad_w, grad_b(kClasses);
    const float lr = 0.05f;
    double window_loss = 0, first_window = -1, last_window = 0;
    for (int step = 1; step <= steps; ++step) {
      const ferry::Batch* batch = loader.next_batch();
      if (!batch) break;
      auto pixels = batch->field("image").as<float>();
      auto labels = batch->field("label").as<float>();
      const std::size_t n = batch->size();
      if (n == 0) continue;
      if (kPixels == 0) {
        kPixels = static_cast<int>(pixels.size() / n);
        w.assign(static_cast<std::size_t>(kClasses * kPixels), 0.0f);
        grad_w.resize(w.size());
      }
      std::fill(grad_w.begin(), grad_w.end(), 0.0f);
      std::fill(grad_b.begin(), grad_b.end(), 0.0f);
      double loss = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const float* x = pixels.data() + i * kPixels;
        const long label = std::lround(labels[i]);
        if (label < 0 || label >= kClasses)
          throw ferry::Error("label " + std::to_string(label) + " is not in 0.." +
                             std::to_string(kClasses - 1) + " (use --classes)");
        std::vector<float> logits(static_cast<std::size_t>(kClasses));
        float peak = -1e30f, sum = 0;
        for (int k = 0; k < kClasses; ++k) {
          float z = b[k];
          for (int p = 0; p < kPixels; ++p) z += w[k * kPixels + p] * x[p];
          logits[k] = z;
          peak = std::max(peak, z);
        }
        for (float& z : logits) sum += (z = std::exp(z - peak));
        for (int k = 0; k < kClasses; ++k) {
          const float prob = logits[k] / sum;
          const float delta = prob - (k == label ? 1.0f : 0.0f);
          grad_b[k] += delta;
          for (int p = 0; p < kPixels; ++p) grad_w[k * kPixels + p] += delta * x[p];
        }
        loss -= std::log(std::max(logits[static_cast<std::size_t>(label)] / sum, 1e-12f));
      }
      for (std::size_t j = 0; j < w.size(); ++j) w[j] -= lr * grad_w[j] / n;
      for (int k = 0; k < kClasses; ++k) b[k] -= lr * grad_b[k] / n;
      window_loss += loss / n;
      if (step % 50 == 0) {
        std::printf("step %4d  epoch %llu  loss %.4f\n", step, static_cast<unsigned long long>(batch->epoch),
                    window_loss / 50);
        if (first_window < 0) first_window = window_loss / 50;
        last_window = window_loss / 50;
        window_loss = 0;
      }
    }
    const auto& c = loader.counters();
    std::printf("%llu samples, %.1f MiB read from HDF5 in %llu reads\n",
                static_cast<unsigned long long>(c.samples), c.hdf5_bytes / 1048576.0,
                static_cast<unsigned long long>(c.hdf5_reads));
    if (check && !(last_window < 0.8 * first_window)) {
      std::fprintf(stderr, "loss did not fall: first %.4f, last %.4f\n", first_window, last_window);
      return 1;
    }
  } catch (const ferry::Error& e) {
    std::fprintf(stderr, "00_training_loop: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
