// Reconstruction metrics of a model on one split, in HDF5 (format "aeflow-metrics", layout:
// docs/hdf5-schema.md, "Metrics"): the summary beside the PCA baseline at the same code width
// and the kNN accuracy of the codes, a per-class table, per-sample errors, a fixed set of inputs
// with their reconstructions for plots, and the run's per-epoch history. Plain data in, so io
// needs no train types; eval::measure_reconstruction fills it. Written atomically.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "aeflow/io/history.hpp"

namespace aeflow::io {

// Means over every pixel of every image of the split (rmse: the square root of that mse), and
// per-image psnr and ssim averaged over images.
struct MetricsSummary {
  int64_t count = 0;  // images
  double mse = 0, rmse = 0, bce = 0, mae = 0, psnr = 0, ssim = 0;
  double pca_mse = 0, pca_rmse = 0;  // the PCA baseline at the same k on the same images
  double knn_accuracy = 0;           // of the codes, see KnnResult
};

struct ClassMetrics {
  int64_t label = 0;
  int64_t count = 0;
  double mse = 0, rmse = 0, bce = 0, mae = 0, psnr = 0, ssim = 0, pca_mse = 0, knn_accuracy = 0;
};

// The optimal linear code of width k: PCA fitted on the training images.
struct PcaBaseline {
  int64_t k = 0;
  int64_t fit_count = 0;            // images it was fitted on
  double fit_mse = 0;               // its mse on those: the discarded eigenvalues' sum / width
  double explained_variance = 0;    // share of the total variance in the first k components
  std::vector<double> eigenvalues;  // [width], descending (covariance with 1/n)
  std::vector<double> mean;         // [width], pixels in [0, 1]
  std::vector<float> components;    // [k, width], unit rows, in eigenvalue order
};

struct KnnResult {
  int64_t neighbours = 0;       // k of k-NN
  int64_t reference_count = 0;  // labelled training codes searched
  std::string reference;        // which images those are, in words
  bool exclude_self = false;    // an image's own code was left out (evaluating training images)
  double accuracy = 0;
};

// Selected inputs with their reconstructions and codes, for plots.
struct SampleImages {
  std::string selection;              // how they were chosen, in words
  std::vector<int64_t> index;         // [n] positions in the split
  std::vector<uint8_t> label;         // [n]
  std::vector<float> input;           // [n, rows, cols] in [0, 1]
  std::vector<float> reconstruction;  // [n, rows, cols]
  std::vector<float> code;            // [n, k]
};

struct MetricsData {
  std::string config_ini;  // root attribute `config`
  std::string checkpoint;  // the checkpoint evaluated ("" when written by train from memory)
  std::string data;        // the images file of the split
  std::string split;       // "test" or "train"
  int64_t world_size = 1;
  double seconds = 0;  // wall time of the evaluation
  int64_t rows = 0, cols = 0, code_width = 0;

  MetricsSummary summary;
  PcaBaseline pca;
  KnnResult knn;
  std::vector<ClassMetrics> per_class;  // by label, ascending; labels that occur only

  // Per image of the split, in split order ([N]).
  std::vector<uint8_t> sample_label;
  std::vector<float> sample_mse, sample_ssim, sample_pca_mse;

  SampleImages samples;
  std::vector<HistoryRow> history;  // of the run that trained the model
  Snapshots snapshots;              // its training animation's frames (none: not kept)
};

// Writes PATH.tmp, fsyncs, renames. Throws InputError when PATH exists and !OVERWRITE, RunError
// when it cannot write (PATH stays as it was).
void write_metrics(const std::string& path, const MetricsData& metrics, bool overwrite);

}  // namespace aeflow::io
