// Metrics files in HDF5 (layout: docs/hdf5-schema.md, "Metrics"). Only writing lives here:
// analyses read these files with h5py; `aeflow inspect` prints them generically.
#include "aeflow/io/metrics.hpp"

#include "aeflow/base/error.hpp"
#include "aeflow/io/atomic_file.hpp"
#include "aeflow/io/file_header.hpp"
#include "aeflow/io/hdf5.hpp"
#include "columns.hpp"

namespace aeflow::io {

namespace {

constexpr const char* kFormat = "aeflow-metrics";
constexpr int64_t kFormatVersion = 1;

constexpr const char* kDefinitions =
    "mse, mae: means over every pixel of every image; rmse = sqrt(mse)\n"
    "bce: mean binary cross-entropy of the reconstruction as probabilities, clamped to "
    "[1e-7, 1 - 1e-7]\n"
    "psnr: mean over images of 10 log10(1 / mse_i) dB, mse_i floored at 1e-10 (100 dB)\n"
    "ssim: mean over images of SSIM (Wang et al. 2004): 11x11 Gaussian window, sigma 1.5, valid "
    "positions only, C1 = 0.01^2, C2 = 0.03^2, data range 1\n"
    "pca_mse, pca_rmse: the same images through PCA at the code width, fitted on the training "
    "images (linear, unclamped)\n"
    "knn_accuracy: see /knn";

void check_size(size_t actual, size_t expected, const char* what) {
  if (actual != expected)
    throw RunError(std::string("metrics: ") + what + " holds " + std::to_string(actual) +
                   " values, expected " + std::to_string(expected));
}

void write_summary(h5::File& file, const MetricsSummary& s) {
  h5::Group group = file.create_group("summary");
  group.set_int_attribute("count", s.count);
  group.set_double_attribute("mse", s.mse);
  group.set_double_attribute("rmse", s.rmse);
  group.set_double_attribute("bce", s.bce);
  group.set_double_attribute("mae", s.mae);
  group.set_double_attribute("psnr", s.psnr);
  group.set_double_attribute("ssim", s.ssim);
  group.set_double_attribute("pca_mse", s.pca_mse);
  group.set_double_attribute("pca_rmse", s.pca_rmse);
  group.set_double_attribute("knn_accuracy", s.knn_accuracy);
  group.set_string_attribute("definitions", kDefinitions);
}

void write_pca(h5::File& file, const PcaBaseline& pca, size_t width) {
  check_size(pca.eigenvalues.size(), width, "pca eigenvalues");
  check_size(pca.mean.size(), width, "pca mean");
  check_size(pca.components.size(), size_t(pca.k) * width, "pca components");
  h5::Group group = file.create_group("pca");
  group.set_int_attribute("k", pca.k);
  group.set_int_attribute("fit_count", pca.fit_count);
  group.set_double_attribute("fit_mse", pca.fit_mse);
  group.set_double_attribute("explained_variance", pca.explained_variance);
  group.write_dataset("eigenvalues", pca.eigenvalues);
  group.write_dataset("mean", pca.mean);
  group.write_dataset<float>("components", pca.components, {size_t(pca.k), width});
}

void write_knn(h5::File& file, const KnnResult& knn) {
  h5::Group group = file.create_group("knn");
  group.set_string_attribute("method", "k-nearest neighbours, majority vote");
  group.set_int_attribute("neighbours", knn.neighbours);
  group.set_string_attribute("metric", "euclidean");
  group.set_string_attribute("space", "code");
  group.set_int_attribute("reference_count", knn.reference_count);
  group.set_string_attribute("reference", knn.reference);
  group.set_int_attribute("exclude_self", knn.exclude_self ? 1 : 0);
  group.set_double_attribute("accuracy", knn.accuracy);
}

void write_per_class(h5::File& file, const std::vector<ClassMetrics>& rows) {
  h5::Group group = file.create_group("per_class");
  group.write_dataset("label", column(rows, &ClassMetrics::label));
  group.write_dataset("count", column(rows, &ClassMetrics::count));
  group.write_dataset("mse", column(rows, &ClassMetrics::mse));
  group.write_dataset("rmse", column(rows, &ClassMetrics::rmse));
  group.write_dataset("bce", column(rows, &ClassMetrics::bce));
  group.write_dataset("mae", column(rows, &ClassMetrics::mae));
  group.write_dataset("psnr", column(rows, &ClassMetrics::psnr));
  group.write_dataset("ssim", column(rows, &ClassMetrics::ssim));
  group.write_dataset("pca_mse", column(rows, &ClassMetrics::pca_mse));
  group.write_dataset("knn_accuracy", column(rows, &ClassMetrics::knn_accuracy));
}

void write_per_sample(h5::File& file, const MetricsData& m) {
  const size_t n = size_t(m.summary.count);
  check_size(m.sample_label.size(), n, "per-sample labels");
  check_size(m.sample_mse.size(), n, "per-sample mse");
  check_size(m.sample_ssim.size(), n, "per-sample ssim");
  check_size(m.sample_pca_mse.size(), n, "per-sample pca_mse");
  h5::Group group = file.create_group("per_sample");
  group.write_dataset("label", m.sample_label);
  group.write_dataset("mse", m.sample_mse);
  group.write_dataset("ssim", m.sample_ssim);
  group.write_dataset("pca_mse", m.sample_pca_mse);
}

void write_samples(h5::File& file, const MetricsData& m) {
  const SampleImages& s = m.samples;
  const size_t n = s.index.size(), rows = size_t(m.rows), cols = size_t(m.cols);
  const size_t k = size_t(m.code_width);
  check_size(s.label.size(), n, "sample labels");
  check_size(s.input.size(), n * rows * cols, "sample inputs");
  check_size(s.reconstruction.size(), n * rows * cols, "sample reconstructions");
  check_size(s.code.size(), n * k, "sample codes");
  h5::Group group = file.create_group("samples");
  group.set_string_attribute("selection", s.selection);
  group.write_dataset("index", s.index);
  group.write_dataset("label", s.label);
  group.write_dataset<float>("input", s.input, {n, rows, cols});
  group.write_dataset<float>("reconstruction", s.reconstruction, {n, rows, cols});
  group.write_dataset<float>("code", s.code, {n, k});
}

}  // namespace

void write_metrics(const std::string& path, const MetricsData& metrics, bool overwrite) {
  AtomicFile atomic(path, overwrite);  // InputError when PATH exists and !overwrite
  try {
    {
      h5::File file = h5::File::create(atomic.temp_path(), h5::CreateMode::kTruncate);
      write_file_header(file, kFormat, kFormatVersion, metrics.config_ini);
      file.set_string_attribute("split", metrics.split);
      file.set_string_attribute("checkpoint", metrics.checkpoint);
      file.set_string_attribute("data", metrics.data);
      file.set_int_attribute("world_size", metrics.world_size);
      file.set_double_attribute("seconds", metrics.seconds);
      write_summary(file, metrics.summary);
      write_pca(file, metrics.pca, size_t(metrics.rows * metrics.cols));
      write_knn(file, metrics.knn);
      write_per_class(file, metrics.per_class);
      write_per_sample(file, metrics);
      write_samples(file, metrics);
      {  // (closed before the file, as h5::File::close wants)
        h5::Group history = file.create_group("history");
        write_history(history, metrics.history, metrics.snapshots);
      }
      file.close();
    }
    atomic.commit();
  } catch (const std::exception& error) {
    // AtomicFile's destructor removes the temporary; PATH is as it was.
    throw RunError(path + ": cannot write metrics: " + error.what());
  }
}

}  // namespace aeflow::io
