// Everything `aeflow train` needs, as plain data. The CLI fills it from flags and job files;
// tests fill it directly.
#pragma once

#include <cstdint>
#include <string>

#include "aeflow/data/augmentation.hpp"
#include "aeflow/model/loss.hpp"
#include "aeflow/model/model_spec.hpp"
#include "aeflow/model/network.hpp"
#include "aeflow/model/optimizer.hpp"
#include "aeflow/train/lr_schedule.hpp"

namespace aeflow::train {

enum class Monitor { kNone, kValLoss, kTrainLoss };

// How the ranks combine their work on a step (--grad-sync): one all-reduce of the whole flat
// gradient buffer after backward (fused), or buckets of layer gradients started as MPI_Iallreduce
// as backward produces them and waited on before the optimizer step (overlap), or through memory
// shared by the ranks of a node, each rank summing and updating one slice (shared:
// mpi/node_shared_buffers.hpp; fused where nodes hold different numbers of ranks), or with no sum
// inside a node at all: its ranks split every layer's outputs over the node's batch (split:
// model/split_layers.hpp). auto, the default, takes split or
// shared by which moves less data between a node's cores (DataParallelStep).
enum class GradSync { kFused, kOverlap, kShared, kSplit, kAuto };

struct TrainConfig {
  std::string data;        // directory with MNIST-named IDX files
  std::string out;         // run directory
  std::string config_ini;  // the resolved config, saved with every checkpoint

  model::ModelSpec spec;
  model::LossKind loss = model::LossKind::kMse;
  model::OptimizerConfig optimizer;
  LrSchedule lr;
  int64_t lr_decay_epochs = 0;  // step schedule: decay every this many epochs (to steps)

  int64_t batch_size = 64;  // global, across ranks
  int64_t epochs = 10;
  int64_t steps = 0;                // > 0: stop after this many optimizer steps instead
  int64_t validation = 5000;        // the first N training images
  int64_t train_limit = 0;          // > 0: train on at most this many images (quick runs, tests)
  int64_t test_limit = 0;           // > 0: evaluate on at most this many test images
  float noise = 0;                  // masking noise rate on inputs
  data::Augmentation augmentation;  // random affine distortions of the training images
  uint64_t seed = 1;
  int64_t eval_every = 0;  // > 0: also evaluate on the validation split every N steps

  Monitor monitor = Monitor::kNone;  // early stopping
  int64_t patience = 10;
  double min_delta = 0;

  int64_t checkpoint_every = 1;  // epochs
  int64_t keep_checkpoints = 3;
  std::string resume;  // "", a checkpoint path, or "auto"
  bool force = false;  // start over in a run directory that has checkpoints

  GradSync grad_sync = GradSync::kAuto;
  double bucket_mb = 1.0;      // overlap: start a reduction once this much is ready
  int64_t check_replicas = 0;  // > 0: every N steps, check parameters are identical on all ranks

  int threads = 0;             // OpenMP threads per rank; 0: the rule of mpi/thread_plan.hpp
  bool live_progress = false;  // a progress line rewritten in place (the log is a terminal)
  model::Precision precision = model::Precision::kFp32;  // of the matmuls (network.hpp)
  int64_t fail_at_step = -1;  // fault injection: the rank below throws at this step
  int fail_rank = 0;          // (-1: every rank)
};

}  // namespace aeflow::train
