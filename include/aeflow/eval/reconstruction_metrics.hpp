// The reconstruction metrics of `aeflow eval` and of the end of `aeflow train`: a model's
// errors on a split (mse, rmse, bce, mae, psnr, ssim; overall, per class, per image), the PCA
// baseline at the same code width, and the kNN accuracy of its codes, spread over the ranks of
// a job and written to metrics.h5 by rank 0 (io::write_metrics).
//
// Every image is computed in a fixed block of the split (blocks of 256 from its start, whatever
// the number of ranks; rank r takes a contiguous run of blocks), and per-image results are
// gathered and summed in split order on every rank, so the numbers do not depend on the
// number of ranks, not even in the last bit (given the same oneDNN kernels on every rank).
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

#include "aeflow/data/dataset.hpp"
#include "aeflow/eval/pca.hpp"
#include "aeflow/io/metrics.hpp"
#include "aeflow/model/network.hpp"
#include "aeflow/mpi/communicator.hpp"

namespace aeflow::eval {

struct MetricsOptions {
  size_t knn_neighbours = 5;
  // The first this many reference images are searched (0: all): all of an MNIST-sized set, and a
  // bound on the cost (queries x references) for larger ones.
  size_t knn_reference = 60000;
  // The split is the reference itself (evaluating the training images): image i leaves its own
  // code out of its neighbours.
  bool exclude_self = false;
  size_t samples_per_label = 10;  // kept with their reconstructions: the first of each label
  // PCA already fitted on the reference with at least the code width's components (a sweep fits
  // one with all of them for all its runs); null: fitted here.
  const Pca* pca = nullptr;
};

// Measures NETWORK on SPLIT. REFERENCE (the training images after the validation split) fits
// the PCA baseline (all of it) and gives the labelled codes kNN searches. Collective over COMM;
// every rank returns the same result, with provenance (config, checkpoint, history) left empty.
io::MetricsData measure_reconstruction(model::Network& network, const data::Dataset& split,
                                       const data::Dataset& reference,
                                       const mpi::Communicator& comm,
                                       const MetricsOptions& options = {});

// Where measured metrics go and what they describe.
struct MetricsTarget {
  std::string path;        // metrics.h5
  bool overwrite = false;  // replace an existing file (else InputError, before any work)
  std::string config_ini;  // the training run's config
  std::string checkpoint;  // the checkpoint evaluated
  std::string split;       // "test" or "train"
  std::vector<io::HistoryRow> history;
  io::Snapshots snapshots = {};  // the training animation's frames
};

// measure_reconstruction, then rank 0 writes TARGET.path and prints the summary to LOG (with
// the per-class table when PER_CLASS). Collective; returns the metrics on every rank.
io::MetricsData write_reconstruction_metrics(model::Network& network, const data::Dataset& split,
                                             const data::Dataset& reference,
                                             const MetricsTarget& target,
                                             const mpi::Communicator& comm, std::ostream& log,
                                             bool per_class = false,
                                             const MetricsOptions& options = {});

// The summary as text: model beside PCA, kNN accuracy, and optionally the per-class table.
std::string format_metrics(const io::MetricsData& metrics, bool per_class);

}  // namespace aeflow::eval
