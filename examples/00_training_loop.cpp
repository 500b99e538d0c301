// The smallest training loop that uses Ferry: softmax regression on Fashion-MNIST, batches from LocalLoader.
//
//   ferry-import idx --images .../train-images-idx3-ubyte.gz --labels .../train-labels-idx1-ubyte.gz --out
//   fm.h5 00_training_loop fm.h5 [steps] [--check]
//
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
    std::fprintf(stderr, "usage: %s FASHION_MNIST.h5 [steps] [--check]\n", argv[0]);
    return 2;
  }
  const int steps = argc > 2 && argv[2][0] != '-' ? std::atoi(argv[2]) : 300;
  const bool check = std::strcmp(argv[argc - 1], "--check") == 0;

  ferry::PipelineConfig pipeline;
  pipeline.name = "fmnist";
  pipeline.seed = 1;
  pipeline.epochs = 1000;  // the loop stops after `steps`
  pipeline.batch_size = 64;
  pipeline.dataset.files = {argv[1]};
  pipeline.dataset.fields = {{"image", "/images"}, {"label", "/labels"}};
  pipeline.prepare = {
      {"image", ferry::parse_op_chain("cast(scale=0.00392157) | normalize(mean=[0.286], std=[0.353])",
                                      "prepare.image")}};
  pipeline.augment = {{"image", ferry::parse_op_chain("random_flip(p=0.5)", "augment.image")}};

  try {
    ferry::LocalLoader loader(pipeline);
    constexpr int kClasses = 10, kPixels = 28 * 28;
    std::vector<float> w(kClasses * kPixels, 0.0f), b(kClasses, 0.0f), grad_w(w.size()), grad_b(kClasses);
    const float lr = 0.05f;
    double window_loss = 0, first_window = -1, last_window = 0;
    for (int step = 1; step <= steps; ++step) {
      const ferry::Batch* batch = loader.next_batch();
      if (!batch) break;
      auto images = batch->field("image").as<float>();
      auto labels = batch->field("label").as<std::uint8_t>();
      const std::size_t n = batch->size();
      std::fill(grad_w.begin(), grad_w.end(), 0.0f);
      std::fill(grad_b.begin(), grad_b.end(), 0.0f);
      double loss = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const float* x = images.data() + i * kPixels;
        float logits[kClasses], peak = -1e30f, sum = 0;
        for (int k = 0; k < kClasses; ++k) {
          float z = b[k];
          for (int p = 0; p < kPixels; ++p) z += w[k * kPixels + p] * x[p];
          logits[k] = z;
          peak = std::max(peak, z);
        }
        for (float& z : logits) sum += (z = std::exp(z - peak));
        for (int k = 0; k < kClasses; ++k) {
          const float prob = logits[k] / sum;
          const float delta = prob - (k == labels[i] ? 1.0f : 0.0f);
          grad_b[k] += delta;
          for (int p = 0; p < kPixels; ++p) grad_w[k * kPixels + p] += delta * x[p];
        }
        loss -= std::log(std::max(logits[labels[i]] / sum, 1e-12f));
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
