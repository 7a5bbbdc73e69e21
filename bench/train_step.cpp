// The training-step benchmark: times aeflow's DataParallelStep (the step `aeflow train` runs)
// on MNIST after a warm-up, on one rank or, under mpirun, data-parallel over several, and counts
// the FLOPs of the matmuls really done (forward, backward-weights, and backward-data for every
// layer but the first). Prints one line that bench/compare.sh parses:
//   aeflow_step encoder=784,512,128,10 tied=0 activation=sigmoid loss=mse batch=64 ranks=1
//     augment=0,0,0 threads=1 steps=400 samples_per_s=24733 gflops=119.1 mflop_per_sample=4.816
//     forward=31.0% ...
// Usage: aeflow_train_bench [--encoder W,..] [--activation A] [--loss L] [--batch N]
//          [--steps N] [--warmup N] [--data DIR] [--grad-sync
//          auto|split|shared|fused|overlap]
//          [--precision fp32|bf16] [--tied false|true] [--augment DEGREES,SCALE,SHIFT]
// With --augment, distorting the batch counts in samples_per_s but in none of the phases.
// A measuring tool, not a test: it checks nothing but that training runs.
#include <mpi.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "aeflow/base/denormals.hpp"
#include "aeflow/base/error.hpp"
#include "aeflow/data/augmentation.hpp"
#include "aeflow/data/batch.hpp"
#include "aeflow/data/dataset.hpp"
#include "aeflow/data/sharder.hpp"
#include "aeflow/train/data_parallel_step.hpp"

namespace {

using namespace aeflow;

struct Options {
  std::string encoder = "784,512,128,10";
  std::string activation = "sigmoid";  // hidden and code layers; the output is sigmoid
  std::string loss = "mse";
  std::string grad_sync = "auto";  // aeflow train's default
  std::string data = "data/mnist";
  std::string precision = "fp32";
  bool tied = false;           // the decoder's weights are the encoder's, transposed
  data::Augmentation augment;  // as aeflow train's --augment-rotate, -scale, -shift
  int batch = 64;              // global
  int steps = 400;
  int warmup = 30;
};

data::Augmentation parse_augment(const std::string& value) {
  data::Augmentation a;
  char end = 0;
  if (std::sscanf(value.c_str(), "%f,%f,%f%c", &a.rotate_degrees, &a.scale, &a.shift, &end) != 3)
    throw InputError("--augment " + value + ": expected DEGREES,SCALE,SHIFT");
  return a;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], value = argv[i + 1];
    if (key == "--encoder")
      o.encoder = value;
    else if (key == "--activation")
      o.activation = value;
    else if (key == "--loss")
      o.loss = value;
    else if (key == "--grad-sync" || key == "--allreduce")
      o.grad_sync = value;
    else if (key == "--data")
      o.data = value;
    else if (key == "--precision")
      o.precision = value;
    else if (key == "--batch")
      o.batch = std::atoi(value.c_str());
    else if (key == "--steps")
      o.steps = std::atoi(value.c_str());
    else if (key == "--warmup")
      o.warmup = std::atoi(value.c_str());
    else if (key == "--tied" && (value == "true" || value == "false"))
      o.tied = value == "true";
    else if (key == "--augment")
      o.augment = parse_augment(value);
    else
      throw InputError("unknown option " + key + " (see the comment atop bench/train_step.cpp)");
  }
  if (argc % 2 == 0) throw InputError(std::string(argv[argc - 1]) + " needs a value");
  if (o.batch <= 0 || o.steps <= 0 || o.warmup < 0) throw InputError("nonsense batch or steps");
  return o;
}

// Multiply-adds of the matmuls one training sample costs, times two.
double flops_per_sample(const model::ModelSpec& spec) {
  double flops = 0;
  const auto layers = spec.layers();
  for (size_t i = 0; i < layers.size(); ++i) {
    const double mac = double(layers[i].in) * double(layers[i].out);
    flops += 2 * mac * (i == 0 ? 2 : 3);  // forward, backward-weights, backward-data but first
  }
  return flops;
}

int run(int argc, char** argv) {
  const Options options = parse(argc, argv);
  const mpi::Communicator comm = mpi::Communicator::world();

  model::ModelSpec spec;
  spec.encoder = model::parse_widths(options.encoder);
  spec.tied = options.tied;
  spec.validate();
  spec.hidden = spec.code = model::parse_activation(options.activation);
  spec.output = model::Activation::kSigmoid;
  const model::Loss loss(model::parse_loss(options.loss));
  model::Network network(spec, loss.takes_logits());
  network.set_precision(model::parse_precision(options.precision));
  model::OptimizerConfig adam;  // Adam, lr 1e-3: the peers' settings
  model::Optimizer optimizer(adam, spec.parameter_count());
  if (comm.is_root()) network.initialize(1);
  comm.broadcast(network.parameters());
  train::DataParallelStep step(network, loss, optimizer, comm,
                               options.grad_sync == "overlap"  ? train::GradSync::kOverlap
                               : options.grad_sync == "shared" ? train::GradSync::kShared
                               : options.grad_sync == "split"  ? train::GradSync::kSplit
                               : options.grad_sync == "auto"   ? train::GradSync::kAuto
                                                               : train::GradSync::kFused,
                               1.0, size_t(options.batch));

  const data::Dataset images = data::load_split(options.data, data::Split::kTrain);
  data::check_augmentation(options.augment, images.rows, images.cols);
  const data::Sharder sharder(images.count, size_t(options.batch), 1, comm.rank(), comm.size());
  const size_t width = images.width();
  const size_t max_rows = size_t(options.batch + comm.size() - 1) / size_t(comm.size());
  std::vector<float> batch(max_rows * width), augmented(max_rows * width);

  using Clock = std::chrono::steady_clock;
  Clock::time_point start;
  train::StepTimes at_start;
  std::vector<uint32_t> permutation;
  uint64_t epoch = 0;
  // Full batches only: an epoch's smaller tail batch would build a second set of primitives
  // inside the timed steps.
  const size_t full_batches = images.count / size_t(options.batch);
  size_t step_in_epoch = full_batches;
  int64_t samples = 0;
  for (int s = 0; s < options.warmup + options.steps; ++s) {
    if (s == options.warmup) {
      comm.barrier();
      start = Clock::now();
      at_start = step.times();
    }
    if (step_in_epoch == full_batches) {
      permutation = sharder.permutation(epoch++);
      step_in_epoch = 0;
    }
    const data::Shard shard = sharder.shard(step_in_epoch++);
    const uint32_t* indices = permutation.data() + shard.local_begin;
    data::fill_batch(images, indices, shard.local_size, batch.data());
    if (options.augment.enabled()) {
      data::apply_augmentation(batch.data(), augmented.data(), images.rows, images.cols, indices,
                               shard.local_size, options.augment, 1, epoch - 1);
      std::swap(batch, augmented);
    }
    step.run(batch.data(), batch.data(), int(shard.local_size), shard.global_size,
             {1, uint64_t(s), shard.local_begin}, 1e-3f);
    if (s >= options.warmup) samples += int64_t(shard.global_size);
  }
  comm.barrier();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  const train::StepTimes& end = step.times();
  const double phases[4] = {end.forward - at_start.forward, end.backward - at_start.backward,
                            end.reduce - at_start.reduce, end.update - at_start.update};
  // Imbalance among a node's ranks: the least and most any rank spent waiting at node barriers.
  const double wait_share = 100 * (end.node_wait - at_start.node_wait) / seconds;
  const double wait_min = -comm.allreduce_max(-wait_share);
  const double wait_max = comm.allreduce_max(wait_share);
  const double rate = double(samples) / seconds;
  const double flops = flops_per_sample(spec);
  if (comm.is_root())
    std::printf(
        "aeflow_step encoder=%s tied=%d activation=%s loss=%s precision=%s batch=%d ranks=%d "
        "augment=%g,%g,%g threads=%d steps=%d samples_per_s=%.0f gflops=%.1f mflop_per_sample=%.3f "
        "forward=%.1f%% backward=%.1f%% allreduce=%.1f%% optimizer=%.1f%% "
        "node_wait=%.1f%%..%.1f%%\n",
        options.encoder.c_str(), int(options.tied), options.activation.c_str(),
        options.loss.c_str(), options.precision.c_str(), options.batch, comm.size(),
        double(options.augment.rotate_degrees), double(options.augment.scale),
        double(options.augment.shift), omp_get_max_threads(), options.steps, rate,
        rate * flops / 1e9, flops / 1e6, 100 * phases[0] / seconds, 100 * phases[1] / seconds,
        100 * phases[2] / seconds, 100 * phases[3] / seconds, wait_min, wait_max);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  aeflow::flush_denormals();  // first: the threads started later inherit it
  int provided = 0;           // as aeflow asks: only this thread calls MPI
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  int code = 0;
  try {
    code = run(argc, argv);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "aeflow_train_bench: %s\n", error.what());
    int size = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size > 1) MPI_Abort(MPI_COMM_WORLD, 2);  // the other ranks may wait in a collective
    code = 2;
  }
  MPI_Finalize();
  return code;
}
