// Reconstruction metrics (see reconstruction_metrics.hpp). Each rank runs its blocks of the
// split through the network, the PCA baseline and the kNN classifier, and writes one record
// per image into a zeroed [N, kFields] buffer; a sum across ranks then assembles the whole
// buffer exactly (every element has one non-zero contributor), and every rank reduces it in
// split order. Reference codes and the sample images are assembled the same way.
#include "aeflow/eval/reconstruction_metrics.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>

#include "aeflow/base/error.hpp"
#include "aeflow/data/batch.hpp"
#include "aeflow/eval/image_quality.hpp"
#include "aeflow/eval/knn.hpp"
#include "aeflow/eval/pca.hpp"

namespace aeflow::eval {

namespace {

constexpr size_t kBlock = 256;  // images per forward pass; block boundaries fixed in the split

// Per-image record fields.
enum Field : size_t {
  kSquaredError,  // sum over pixels
  kAbsoluteError,
  kCrossEntropy,
  kPsnr,
  kSsim,
  kPcaSquaredError,
  kPredicted,  // kNN label
  kFields
};

constexpr double kBceClamp = 1e-7;

// The images [begin, end) of N that this rank computes: whole blocks, contiguous.
std::pair<size_t, size_t> rank_range(size_t n, const mpi::Communicator& comm) {
  const size_t blocks = (n + kBlock - 1) / kBlock;
  const size_t first = blocks * size_t(comm.rank()) / size_t(comm.size());
  const size_t last = blocks * size_t(comm.rank() + 1) / size_t(comm.size());
  return {std::min(n, first * kBlock), std::min(n, last * kBlock)};
}

// Codes [count, k] of the first COUNT images of DATASET, on every rank.
std::vector<float> encode_all(model::Network& network, const data::Dataset& dataset, size_t count,
                              const mpi::Communicator& comm) {
  const size_t width = dataset.width(), k = size_t(network.spec().code_width());
  std::vector<float> codes(count * k, 0.0f), input(kBlock * width);
  const auto [begin, end] = rank_range(count, comm);
  for (size_t first = begin; first < end; first += kBlock) {
    const size_t rows = std::min(kBlock, end - first);
    data::fill_range(dataset, first, rows, input.data());
    network.encode(input.data(), int(rows), codes.data() + first * k);
  }
  comm.allreduce_sum(std::span<float>(codes));
  return codes;
}

// The first SAMPLES_PER_LABEL images of each label, labels ascending, in index order.
std::vector<size_t> select_samples(const data::Dataset& split, size_t per_label) {
  std::map<uint8_t, std::vector<size_t>> by_label;
  for (size_t i = 0; i < split.count; ++i) {
    auto& list = by_label[split.labels[i]];
    if (list.size() < per_label) list.push_back(i);
  }
  std::vector<size_t> selected;
  for (const auto& [label, list] : by_label)
    selected.insert(selected.end(), list.begin(), list.end());
  return selected;
}

io::PcaBaseline baseline_of(const Pca& pca) {
  io::PcaBaseline out;
  out.k = int64_t(pca.k);
  out.fit_count = int64_t(pca.fit_count);
  out.fit_mse = pca.fit_mse();
  out.explained_variance = pca.explained_variance();
  out.eigenvalues = pca.eigenvalues;
  out.mean = pca.mean;
  out.components.assign(pca.components.begin(), pca.components.end());
  return out;
}

// Means of per-image records over the images in INDICES (all of a split, or one class).
struct Totals {
  double count = 0, squared = 0, absolute = 0, entropy = 0, psnr = 0, ssim = 0, pca = 0,
         correct = 0;
  void add(const double* record, uint8_t label) {
    count += 1;
    squared += record[kSquaredError];
    absolute += record[kAbsoluteError];
    entropy += record[kCrossEntropy];
    psnr += record[kPsnr];
    ssim += record[kSsim];
    pca += record[kPcaSquaredError];
    correct += record[kPredicted] == double(label) ? 1 : 0;
  }
};

std::string fixed(double value, int digits) {
  char text[48];
  std::snprintf(text, sizeof text, "%.*f", digits, value);
  return text;
}

}  // namespace

io::MetricsData measure_reconstruction(model::Network& network, const data::Dataset& split,
                                       const data::Dataset& reference,
                                       const mpi::Communicator& comm,
                                       const MetricsOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const size_t n = split.count, width = split.width();
  const size_t k = size_t(network.spec().code_width());
  if (width != size_t(network.spec().input_width()))
    throw InputError("the model reads " + std::to_string(network.spec().input_width()) +
                     " pixels, but the images in " + split.source + " have " +
                     std::to_string(width) + " (" + std::to_string(split.rows) + "x" +
                     std::to_string(split.cols) + ")");
  if (reference.width() != width)
    throw InputError(reference.source + ": training images are " + std::to_string(reference.rows) +
                     "x" + std::to_string(reference.cols) + ", the evaluated ones " +
                     std::to_string(split.rows) + "x" + std::to_string(split.cols));
  if (n == 0) throw InputError(split.source + ": no images to evaluate");

  size_t reference_count = reference.count;
  if (options.knn_reference > 0) reference_count = std::min(reference_count, options.knn_reference);
  // (k above the reference count means all of them: said so in the report, never an error at the
  // end of a training run on a small subset)
  const size_t neighbours = std::min(options.knn_neighbours, reference_count);

  if (options.pca && (options.pca->k < k || options.pca->fit_count != reference.count))
    throw RunError(
        "the PCA given to the metrics was fitted on other images or with fewer "
        "components than the code width");
  const Pca pca = options.pca ? options.pca->truncated(k) : fit_pca(reference, k, comm);
  const KnnClassifier knn(encode_all(network, reference, reference_count, comm),
                          std::vector<uint8_t>(reference.labels.begin(),
                                               reference.labels.begin() + long(reference_count)),
                          k, std::max<size_t>(1, neighbours));

  const std::vector<size_t> selected = select_samples(split, options.samples_per_label);
  std::vector<size_t> slot_of(n, SIZE_MAX);
  for (size_t s = 0; s < selected.size(); ++s) slot_of[selected[s]] = s;
  // Per sample slot: input [width], reconstruction [width], code [k].
  const size_t sample_size = 2 * width + k;
  std::vector<float> samples(selected.size() * sample_size, 0.0f);

  std::vector<double> records(n * kFields, 0.0);
  std::vector<float> input(kBlock * width), output(kBlock * width), codes(kBlock * k);
  std::vector<double> pca_errors(kBlock);
  std::vector<size_t> exclude(kBlock);
  std::vector<uint8_t> predicted(kBlock);
  const auto [begin, end] = rank_range(n, comm);
  for (size_t first = begin; first < end; first += kBlock) {
    const size_t rows = std::min(kBlock, end - first);
    data::fill_range(split, first, rows, input.data());
    const float* out = network.forward(input.data(), int(rows), false);
    std::copy_n(out, rows * width, output.data());
    std::copy_n(network.code(), rows * k, codes.data());
    network.reconstruct(output.data(), rows * width);
    pca.squared_errors(split.image(first), rows, pca_errors.data());
    for (size_t r = 0; r < rows; ++r)
      exclude[r] = options.exclude_self ? first + r : reference_count;  // >= count: none
    knn.predict(codes.data(), rows, exclude.data(), predicted.data());

    for (size_t r = 0; r < rows; ++r) {
      const float* x = input.data() + r * width;
      const float* y = output.data() + r * width;
      double squared = 0, absolute = 0, entropy = 0;
      for (size_t j = 0; j < width; ++j) {
        const double e = double(y[j]) - double(x[j]);
        squared += e * e;
        absolute += std::abs(e);
        const double p = std::clamp(double(y[j]), kBceClamp, 1.0 - kBceClamp);
        entropy -= double(x[j]) * std::log(p) + (1.0 - double(x[j])) * std::log1p(-p);
      }
      double* record = records.data() + (first + r) * kFields;
      record[kSquaredError] = squared;
      record[kAbsoluteError] = absolute;
      record[kCrossEntropy] = entropy;
      record[kPsnr] = psnr_db(squared / double(width));
      record[kSsim] = ssim(x, y, split.rows, split.cols);
      record[kPcaSquaredError] = pca_errors[r];
      record[kPredicted] = double(predicted[r]);
      if (slot_of[first + r] != SIZE_MAX) {
        float* slot = samples.data() + slot_of[first + r] * sample_size;
        std::copy_n(x, width, slot);
        std::copy_n(y, width, slot + width);
        std::copy_n(codes.data() + r * k, k, slot + 2 * width);
      }
    }
  }
  comm.allreduce_sum(std::span<double>(records));
  comm.allreduce_sum(std::span<float>(samples));

  // Everything below runs alike on every rank, in split order.
  io::MetricsData m;
  m.data = split.source;
  m.world_size = comm.size();
  m.rows = int64_t(split.rows);
  m.cols = int64_t(split.cols);
  m.code_width = int64_t(k);
  Totals all;
  std::map<uint8_t, Totals> classes;
  m.sample_label = split.labels;
  m.sample_mse.resize(n);
  m.sample_ssim.resize(n);
  m.sample_pca_mse.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const double* record = records.data() + i * kFields;
    all.add(record, split.labels[i]);
    classes[split.labels[i]].add(record, split.labels[i]);
    m.sample_mse[i] = float(record[kSquaredError] / double(width));
    m.sample_ssim[i] = float(record[kSsim]);
    m.sample_pca_mse[i] = float(record[kPcaSquaredError] / double(width));
  }
  auto fill = [&](const Totals& t, auto& out) {
    const double elements = t.count * double(width);
    out.count = int64_t(t.count);
    out.mse = t.squared / elements;
    out.rmse = std::sqrt(out.mse);
    out.bce = t.entropy / elements;
    out.mae = t.absolute / elements;
    out.psnr = t.psnr / t.count;
    out.ssim = t.ssim / t.count;
    out.pca_mse = t.pca / elements;
    out.knn_accuracy = t.correct / t.count;
  };
  fill(all, m.summary);
  m.summary.pca_rmse = std::sqrt(m.summary.pca_mse);
  for (const auto& [label, totals] : classes) {
    io::ClassMetrics row;
    row.label = label;
    fill(totals, row);
    m.per_class.push_back(row);
  }

  m.pca = baseline_of(pca);
  m.knn.neighbours = int64_t(knn.neighbours());
  m.knn.reference_count = int64_t(reference_count);
  m.knn.reference = "the first " + std::to_string(reference_count) + " of the " +
                    std::to_string(reference.count) +
                    " training images after the validation split (" + reference.source + ")";
  m.knn.exclude_self = options.exclude_self;
  m.knn.accuracy = m.summary.knn_accuracy;

  io::SampleImages& s = m.samples;
  s.selection = "the first " + std::to_string(options.samples_per_label) +
                " images of each label in the split, labels ascending, in index order";
  for (size_t slot = 0; slot < selected.size(); ++slot) {
    const float* values = samples.data() + slot * sample_size;
    s.index.push_back(int64_t(selected[slot]));
    s.label.push_back(split.labels[selected[slot]]);
    s.input.insert(s.input.end(), values, values + width);
    s.reconstruction.insert(s.reconstruction.end(), values + width, values + 2 * width);
    s.code.insert(s.code.end(), values + 2 * width, values + sample_size);
  }
  m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  m.seconds = comm.allreduce_max(m.seconds);
  return m;
}

io::MetricsData write_reconstruction_metrics(model::Network& network, const data::Dataset& split,
                                             const data::Dataset& reference,
                                             const MetricsTarget& target,
                                             const mpi::Communicator& comm, std::ostream& log,
                                             bool per_class, const MetricsOptions& options) {
  // Refuse before the work, alike on every rank (AtomicFile checks again when writing).
  if (comm.any(comm.is_root() && !target.overwrite && std::filesystem::exists(target.path)))
    throw InputError(target.path + " exists; pass --force to overwrite");
  io::MetricsData metrics = measure_reconstruction(network, split, reference, comm, options);
  metrics.config_ini = target.config_ini;
  metrics.checkpoint = target.checkpoint;
  metrics.split = target.split;
  metrics.history = target.history;
  metrics.snapshots = target.snapshots;
  if (comm.is_root()) {
    io::write_metrics(target.path, metrics, target.overwrite);
    log << format_metrics(metrics, per_class) << "wrote " << target.path << " ("
        << fixed(metrics.seconds, 1) << " s)" << std::endl;
  }
  comm.barrier();
  return metrics;
}

std::string format_metrics(const io::MetricsData& m, bool per_class) {
  const io::MetricsSummary& s = m.summary;
  std::ostringstream out;
  out << m.split << " split, " << s.count << " images: reconstruction vs PCA at k = " << m.pca.k
      << " (fitted on " << m.pca.fit_count << " training images, "
      << fixed(100 * m.pca.explained_variance, 1) << "% of the variance)\n";
  out << "  mse   " << fixed(s.mse, 6) << "   PCA " << fixed(s.pca_mse, 6) << "\n";
  out << "  rmse  " << fixed(s.rmse, 6) << "   PCA " << fixed(s.pca_rmse, 6) << "\n";
  out << "  bce   " << fixed(s.bce, 6) << "   (reconstruction clamped to [1e-7, 1-1e-7])\n";
  out << "  mae   " << fixed(s.mae, 6) << "\n";
  out << "  psnr  " << fixed(s.psnr, 2) << " dB   (mean over images of 10 log10(1/mse_i))\n";
  out << "  ssim  " << fixed(s.ssim, 4)
      << "   (mean over images; 11x11 Gaussian window, sigma 1.5)\n";
  out << "  kNN accuracy " << fixed(100 * s.knn_accuracy, 2) << "%   (" << m.knn.neighbours
      << " nearest codes, Euclidean, among " << m.knn.reference_count << " training images"
      << (m.knn.exclude_self ? ", self excluded" : "") << ")\n";
  if (per_class) {
    out << "  label  count       mse   PCA mse    ssim   psnr    kNN\n";
    for (const io::ClassMetrics& c : m.per_class) {
      char line[128];
      std::snprintf(line, sizeof line, "  %5lld  %5lld  %8.6f  %8.6f  %6.4f  %5.2f  %5.1f%%\n",
                    static_cast<long long>(c.label), static_cast<long long>(c.count), c.mse,
                    c.pca_mse, c.ssim, c.psnr, 100 * c.knn_accuracy);
      out << line;
    }
  }
  return out.str();
}

}  // namespace aeflow::eval
