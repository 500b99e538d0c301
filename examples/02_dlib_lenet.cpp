// A real training client: dlib trains LeNet-5 on Fashion-MNIST, data-parallel over the consumer ranks of a
// ferry::Runtime, and reports loss, time per step and test accuracy.
//
// clang-format off
//   ferry-import idx --images .../train-images-idx3-ubyte.gz --labels .../train-labels-idx1-ubyte.gz --out fm_train.h5
//   ferry-import idx --images .../t10k-images-idx3-ubyte.gz --labels .../t10k-labels-idx1-ubyte.gz --out fm_test.h5
//   mpirun -n 5 02_dlib_lenet --train fm_train.h5 --test fm_test.h5 --epochs 3           # through Ferry
//   mpirun -n 2 02_dlib_lenet --train fm_train.h5 --test fm_test.h5 --epochs 3 --local   # baseline
// clang-format on
//
// Ranks. Through Ferry, rank 0 is the randomizer, rank 1 the cache server, rank 2 the transformer (they only
// call rt.serve()) and every further rank trains: -n 5 gives 2 consumers. With --local there is no Runtime:
// every rank trains and reads HDF5 itself with ferry::LocalLoader (the same batches, consumer c of C), which
// is the baseline for time per step.
//
// Data parallelism: synchronous SGD by averaging gradients, not parameters. Each consumer runs forward and
// backward on its own batch (add_loss_layer::compute_parameter_gradients), the parameter gradients of all
// layers are packed into one buffer together with the batch loss, summed with one MPI_Allreduce on
// rt.consumer_comm() and divided by the number of consumers, and every consumer applies the same dlib::sgd
// step (update_parameters). Consumer 0's initial weights are broadcast once. Every consumer thus holds the
// same parameters after every step, exactly one SGD run on a global batch of consumers * batch_size samples.
// We did not use dnn_trainer::train_one_step() and then average the parameters: the trainer runs the step
// on a thread of its own (the call returns before the step is done, so averaging needs a get_net() to wait),
// keeps a momentum per rank that averaging would not touch, and lowers its learning rate when its own rank's
// loss stalls, so the ranks would drift apart between averagings.
//
// Options: --train FILE (required), --test FILE (accuracy on it at the end, consumer 0), --epochs N (3),
// --steps N (stop after N steps; 0: all epochs), --batch N (per consumer, 64), --lr X (0.05), --seed N,
// --print-every N (50), --transport ucx|mpi, --local, --check (exit 1 unless the mean loss of the last
// steps is below that of the first). Other data than Fashion-MNIST: --images DSET, --labels DSET (default
// /images, /labels; integer labels in 0..9), --prepare CHAIN (the images' prepare stage, giving float32
// images of one channel, H x W or H x W x 1, at least 12x12; default Fashion-MNIST's scaling).
#include <dlib/dnn.h>
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "ferry/ferry.hpp"

namespace {

// LeNet-5: conv 6@5x5 (padded, as LeNet's 32x32 input) -> relu -> pool -> conv 16@5x5 (valid) -> relu ->
// pool -> fc 120 -> relu -> fc 84 -> relu -> fc 10. dlib's con<> pads stride-1 convolutions by default, so
// the padding is spelled out here: 28x28 -> 28x28 -> 14x14 -> 10x10 -> 5x5 (400 features into fc 120).
template <long kFilters, int kPad, typename Subnet>
using conv5 = dlib::add_layer<dlib::con_<kFilters, 5, 5, 1, 1, kPad, kPad>, Subnet>;
template <typename Subnet>
using pool2 = dlib::max_pool<2, 2, 2, 2, Subnet>;

// One layer a line, read bottom-up from the input.
// clang-format off
using LeNet = dlib::loss_multiclass_log<
    dlib::fc<10,
    dlib::relu<dlib::fc<84,
    dlib::relu<dlib::fc<120,
    pool2<dlib::relu<conv5<16, 0,
    pool2<dlib::relu<conv5<6, 2,
    dlib::input<dlib::matrix<float>>>>>>>>>>>>>>;
// clang-format on

constexpr int kWarmupSteps = 10;  // left out of the time per step (first batches, allocations)

struct Options {
  std::string train, test, transport = "ucx";
  std::string images = "/images", labels = "/labels";
  std::string prepare = "cast(scale=0.00392157) | normalize(mean=[0.286], std=[0.353])";
  long height = 28, width = 28;  // of the prepared images (measure_images): Fashion-MNIST's 28x28
  int epochs = 3, batch = 64, print_every = 50;
  long steps = 0;
  double lr = 0.05;
  std::uint64_t seed = 1;
  bool local = false, check = false;
};

// Parses argv; returns nothing and prints why on rank 0 when it cannot.
std::optional<Options> parse_options(int argc, char** argv, bool loud) {
  Options o;
  auto fail = [&](const std::string& why) -> std::optional<Options> {
    if (loud)
      std::fprintf(
          stderr,
          "02_dlib_lenet: %s\nusage: %s --train FILE [--test FILE] [--epochs N] [--steps N] [--batch N]"
          " [--lr X] [--seed N] [--print-every N] [--transport ucx|mpi] [--local] [--check]"
          " [--images DSET] [--labels DSET] [--prepare CHAIN]\n",
          why.c_str(), argv[0]);
    return std::nullopt;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--local") {
      o.local = true;
      continue;
    }
    if (arg == "--check") {
      o.check = true;
      continue;
    }
    if (i + 1 >= argc) return fail(arg + " needs a value or is unknown");
    const char* value = argv[++i];
    try {
      if (arg == "--train")
        o.train = value;
      else if (arg == "--test")
        o.test = value;
      else if (arg == "--transport")
        o.transport = value;
      else if (arg == "--images")
        o.images = value;
      else if (arg == "--labels")
        o.labels = value;
      else if (arg == "--prepare")
        o.prepare = value;
      else if (arg == "--epochs")
        o.epochs = std::stoi(value);
      else if (arg == "--steps")
        o.steps = std::stol(value);
      else if (arg == "--batch")
        o.batch = std::stoi(value);
      else if (arg == "--print-every")
        o.print_every = std::stoi(value);
      else if (arg == "--lr")
        o.lr = std::stod(value);
      else if (arg == "--seed")
        o.seed = std::stoull(value);
      else
        return fail("unknown option " + arg);
    } catch (const std::exception&) {
      return fail("bad value '" + std::string(value) + "' for " + arg);
    }
  }
  if (o.train.empty()) return fail("--train is required");
  if (o.epochs < 1 || o.batch < 1 || o.print_every < 1 || o.steps < 0 || !(o.lr > 0))
    return fail("--epochs, --batch, --print-every and --lr must be positive");
  return o;
}

// The pipeline both modes read: by default images cast to float in [0, 1] and normalised with Fashion-MNIST's
// mean and standard deviation (prepare stage: computed once per sample, then served from Ferry's cache);
// labels of any integer type cast to float.
ferry::PipelineConfig make_pipeline(const Options& o, const std::string& file, std::uint64_t seed, int epochs,
                                    int batch) {
  ferry::PipelineConfig p;
  p.name = "fmnist";
  p.seed = seed;
  p.epochs = epochs;
  p.batch_size = static_cast<std::size_t>(batch);
  p.dataset.files = {file};
  p.dataset.fields = {{"image", o.images}, {"label", o.labels}};
  p.prepare = {{"image", ferry::parse_op_chain(o.prepare, "prepare.image")},
               {"label", ferry::parse_op_chain("cast", "prepare.label")}};
  return p;
}

// The prepared images' height and width, from the first sample of --train.
void measure_images(Options& o) {
  ferry::LocalLoader probe(make_pipeline(o, o.train, o.seed, 1, 1));
  const ferry::Batch* batch = probe.next_batch();
  if (!batch) throw ferry::Error(o.train + " holds no sample");
  const auto& shape = batch->field("image").shape;  // [1, H, W] or [1, H, W, 1]
  if (!(shape.size() == 3 || (shape.size() == 4 && shape[3] == 1)) || shape[1] < 12 || shape[2] < 12)
    throw ferry::Error(
        "02_dlib_lenet needs float32 images of one channel (H x W or H x W x 1), at least 12x12, "
        "after --prepare");
  o.height = static_cast<long>(shape[1]);
  o.width = static_cast<long>(shape[2]);
}

// Copies a batch into dlib's layout: a [B, 1, H, W] float tensor and one label per sample.
void to_dlib(const ferry::Batch& batch, const Options& o, dlib::resizable_tensor& x,
             std::vector<unsigned long>& labels) {
  const ferry::BatchField& image = batch.field("image");
  auto pixels = image.as<float>();
  auto classes = batch.field("label").as<float>();
  const std::size_t n = batch.size();
  if (pixels.size() != n * static_cast<std::size_t>(o.height * o.width) || classes.size() != n)
    throw ferry::Error("02_dlib_lenet expects images of one shape with one label each");
  x.set_size(static_cast<long long>(n), 1, o.height, o.width);
  std::copy(pixels.begin(), pixels.end(), x.host());
  labels.clear();
  for (const float c : classes) {
    if (!(c >= 0 && c < 10)) throw ferry::Error("02_dlib_lenet expects labels in 0..9");
    labels.push_back(static_cast<unsigned long>(c));
  }
}

// Sends consumer 0's parameters to every consumer. dlib allocates parameters in the first forward pass,
// and the net accepts tensors we fill ourselves only after one to_tensor() call (which records the input
// layer's sample expansion factor), so this first converts and forwards a blank image.
void broadcast_parameters(LeNet& net, const Options& o, MPI_Comm comm) {
  const dlib::matrix<float> blank = dlib::zeros_matrix<float>(o.height, o.width);
  dlib::resizable_tensor x;
  net.to_tensor(&blank, &blank + 1, x);
  net.subnet().forward(x);
  dlib::visit_layer_parameters(net, [&](dlib::tensor& t) {
    if (t.size() != 0) MPI_Bcast(t.host(), static_cast<int>(t.size()), MPI_FLOAT, 0, comm);
  });
}

// Averages the gradients of all layers and the batch loss over the consumers with one MPI_Allreduce.
// Returns the mean loss. `buffer` is reused from step to step.
double average_gradients(LeNet& net, double loss, std::vector<float>& buffer, MPI_Comm comm, int consumers) {
  buffer.clear();
  dlib::visit_layer_parameter_gradients(
      net, [&](dlib::tensor& g) { buffer.insert(buffer.end(), g.host(), g.host() + g.size()); });
  buffer.push_back(static_cast<float>(loss));
  MPI_Allreduce(MPI_IN_PLACE, buffer.data(), static_cast<int>(buffer.size()), MPI_FLOAT, MPI_SUM, comm);
  const float scale = 1.0f / static_cast<float>(consumers);
  const float* next = buffer.data();
  dlib::visit_layer_parameter_gradients(net, [&](dlib::tensor& g) {
    float* out = g.host();
    for (std::size_t i = 0; i < g.size(); ++i) out[i] = next[i] * scale;
    next += g.size();
  });
  return static_cast<double>(*next) * scale;
}

// The test file in file order, each sample once (one consumer; the last batch may be short).
ferry::LocalLoader open_test_set(const Options& o) {
  ferry::PipelineConfig p = make_pipeline(o, o.test, 0, 1, 500);
  p.shuffle = false;
  p.drop_last = false;
  return ferry::LocalLoader(p);
}

// Fraction of the test samples the net classifies correctly (run on one rank).
double test_accuracy(LeNet& net, const Options& o, ferry::LocalLoader& loader) {
  dlib::resizable_tensor x;
  std::vector<unsigned long> labels, predicted;
  std::size_t correct = 0, total = 0;
  while (const ferry::Batch* batch = loader.next_batch()) {
    to_dlib(*batch, o, x, labels);
    predicted.resize(labels.size());
    net(x, predicted.begin());
    for (std::size_t i = 0; i < labels.size(); ++i) correct += predicted[i] == labels[i];
    total += labels.size();
  }
  return total ? static_cast<double>(correct) / static_cast<double>(total) : 0.0;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The training loop of one consumer. `next_batch` is Loader::next_batch or LocalLoader::next_batch, which
// give `batches_per_epoch` batches an epoch. Returns the process exit code.
template <typename NextBatch>
int train(const Options& opt, NextBatch next_batch, std::uint64_t batches_per_epoch, MPI_Comm comm,
          const char* mode) {
  int me = 0, consumers = 1;
  MPI_Comm_rank(comm, &me);
  MPI_Comm_size(comm, &consumers);
  const bool loud = me == 0;
  // Opened before training so that a bad --test fails now, not after the last step.
  std::optional<ferry::LocalLoader> test_set;
  if (loud && !opt.test.empty()) test_set.emplace(open_test_set(opt));

  LeNet net;
  dlib::sgd solver(0.0005f, 0.9f);  // weight decay, momentum
  std::vector<dlib::sgd> solvers(LeNet::num_computational_layers, solver);
  broadcast_parameters(net, opt, comm);

  dlib::resizable_tensor x;
  std::vector<unsigned long> labels;
  std::vector<float> buffer;
  std::vector<double> losses;
  double window = 0, wait_s = 0, step_s = 0, comm_s = 0;
  long timed = 0;
  std::uint64_t epoch = 0;
  if (loud)
    std::printf("02_dlib_lenet: %s, %d consumers x %d samples per step, lr %g\n", mode, consumers, opt.batch,
                opt.lr);
  while (opt.steps == 0 || static_cast<long>(losses.size()) < opt.steps) {
    const auto t0 = std::chrono::steady_clock::now();
    const ferry::Batch* batch = next_batch();
    if (!batch) break;  // every consumer gets the same number of batches (drop_last), so all stop here
    const double waited = seconds_since(t0);
    epoch = batch->epoch;
    to_dlib(*batch, opt, x, labels);
    const double loss = net.compute_parameter_gradients(x, labels.begin());
    const auto t1 = std::chrono::steady_clock::now();
    const double mean_loss = average_gradients(net, loss, buffer, comm, consumers);
    const double reduced = seconds_since(t1);
    net.update_parameters(solvers, opt.lr);
    losses.push_back(mean_loss);
    if (static_cast<long>(losses.size()) > kWarmupSteps) {
      step_s += seconds_since(t0);
      wait_s += waited;
      comm_s += reduced;
      ++timed;
    }
    window += mean_loss;
    if (losses.size() % opt.print_every == 0) {
      if (loud)
        std::printf("step %6zu  epoch %llu  loss %.4f\n", losses.size(),
                    static_cast<unsigned long long>(epoch), window / opt.print_every);
      std::fflush(stdout);
      window = 0;
    }
  }

  const std::size_t steps = losses.size();
  if (loud && timed > 0)
    std::printf(
        "time per step: %.2f ms (waiting for data %.2f ms, in MPI_Allreduce %.2f ms), mean of steps "
        "%d..%zu\n",
        1e3 * step_s / timed, 1e3 * wait_s / timed, 1e3 * comm_s / timed, kWarmupSteps + 1, steps);
  if (test_set) {
    const auto t0 = std::chrono::steady_clock::now();
    const double accuracy = test_accuracy(net, opt, *test_set);
    std::printf("test accuracy: %.4f (%s, after %zu steps = %.2f epochs; evaluated in %.1f s)\n", accuracy,
                opt.test.c_str(), steps, static_cast<double>(steps) / static_cast<double>(batches_per_epoch),
                seconds_since(t0));
  }
  std::fflush(stdout);

  if (opt.check) {
    // Every consumer holds the same losses, so every one reaches the same verdict.
    const std::size_t w = std::max<std::size_t>(1, std::min<std::size_t>(opt.print_every, steps / 4));
    if (steps < 2 * w) {
      if (loud) std::fprintf(stderr, "02_dlib_lenet: --check needs more steps than %zu\n", steps);
      return 1;
    }
    double first = 0, last = 0;
    for (std::size_t i = 0; i < w; ++i) first += losses[i], last += losses[steps - w + i];
    first /= w;
    last /= w;
    if (loud)
      std::printf("check: mean loss of the first %zu steps %.4f, of the last %zu %.4f\n", w, first, w, last);
    if (!(last < first)) {
      if (loud) std::fprintf(stderr, "02_dlib_lenet: loss did not fall\n");
      return 1;
    }
  }
  return 0;
}

// Ends the whole job. An error of dlib's or of this file may strike one consumer while the other waits in
// MPI_Allreduce, and ~Runtime() is collective: letting the exception unwind through the Runtime would hang
// every rank, so this is called while the Runtime is still alive.
[[noreturn]] void abort_job(const std::exception& e) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  std::fprintf(stderr, "02_dlib_lenet: rank %d: error: %s\n", rank, e.what());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 1);
  std::abort();  // MPI_Abort does not return
}

int run(Options opt) {
  if (opt.local) {
    measure_images(opt);
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    ferry::LocalLoader loader(make_pipeline(opt, opt.train, opt.seed, opt.epochs, opt.batch),
                              static_cast<std::uint32_t>(rank), static_cast<std::uint32_t>(size));
    return train(
        opt, [&] { return loader.next_batch(); }, loader.batches_per_epoch(), MPI_COMM_WORLD,
        "LocalLoader on every rank");
  }
  ferry::Config config;
  config.runtime.transport = opt.transport;
  config.pipelines = {make_pipeline(opt, opt.train, opt.seed, opt.epochs, opt.batch)};
  ferry::validate(config);
  ferry::Runtime rt(MPI_COMM_WORLD, config);  // collective; logs the layout (which rank has which role)
  try {
    if (!rt.is_consumer()) {
      rt.serve();
      return 0;
    }
    measure_images(opt);
    ferry::Loader& loader = rt.loader();
    return train(
        opt, [&] { return loader.next_batch(); }, loader.batches_per_epoch(), rt.consumer_comm(),
        "ferry::Runtime");
  } catch (const std::exception& e) {
    abort_job(e);
  }
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  int code = 2;  // bad command line
  if (const std::optional<Options> opt = parse_options(argc, argv, rank == 0)) {
    try {
      code = run(*opt);
    } catch (const std::exception& e) {
      abort_job(e);  // before or without a Runtime (a bad file in --local mode, a layout error)
    }
  }
  MPI_Finalize();
  return code;
}
