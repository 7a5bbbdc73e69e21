// PCA baseline (see pca.hpp): exact covariance sums over ranks, Eigen's symmetric solver.
#include "aeflow/eval/pca.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <numeric>

#include "aeflow/base/error.hpp"
#include "aeflow/model/gemm.hpp"

namespace aeflow::eval {

namespace {

// 256 * 255^2 = 16,646,400 < 2^24: a float sum over this many pixel products is exact.
constexpr size_t kExactRows = 256;

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

}  // namespace

Pca Pca::truncated(size_t new_k) const {
  Pca out = *this;
  out.k = std::min(new_k, k);
  out.components.resize(out.k * width);
  return out;
}

double Pca::fit_mse() const {
  if (width == 0) return 0;
  double discarded = 0;
  for (size_t i = k; i < eigenvalues.size(); ++i) discarded += eigenvalues[i];
  return discarded / double(width);
}

double Pca::explained_variance() const {
  const double total = std::accumulate(eigenvalues.begin(), eigenvalues.end(), 0.0);
  if (!(total > 0)) return 1.0;
  return std::accumulate(eigenvalues.begin(), eigenvalues.begin() + long(k), 0.0) / total;
}

void Pca::squared_errors(const uint8_t* pixels, size_t count, double* out) const {
  if (count == 0) return;
  RowMatrix x(static_cast<Eigen::Index>(count), static_cast<Eigen::Index>(width));
  for (size_t i = 0; i < count; ++i)
    for (size_t j = 0; j < width; ++j)
      x(long(i), long(j)) = double(pixels[i * width + j]) / 255.0 - mean[j];
  const Eigen::Map<const RowMatrix> v(components.data(), long(k), long(width));
  const RowMatrix code = x * v.transpose();  // [count, k]
  x.noalias() -= code * v;                   // the residual
  for (size_t i = 0; i < count; ++i) out[i] = x.row(long(i)).squaredNorm();
}

Pca fit_pca(const data::Dataset& dataset, size_t k, const mpi::Communicator& comm) {
  const size_t n = dataset.count, width = dataset.width();
  if (n == 0) throw InputError("PCA baseline: no training images to fit it on");
  Pca pca;
  pca.width = width;
  pca.k = std::min(k, width);
  pca.fit_count = n;

  // sums[0, width^2): sum of x x^T over the rank's images (raw pixels); then sum of x.
  std::vector<double> sums(width * width + width, 0.0);
  const size_t begin = n * size_t(comm.rank()) / size_t(comm.size());
  const size_t end = n * size_t(comm.rank() + 1) / size_t(comm.size());
  std::vector<float> block(kExactRows * width), gram(width * width);
  for (size_t first = begin; first < end; first += kExactRows) {
    const size_t rows = std::min(kExactRows, end - first);
    const uint8_t* pixels = dataset.image(first);
    for (size_t i = 0; i < rows * width; ++i) block[i] = float(pixels[i]);
    model::gemm(true, false, width, width, rows, 1.0f, block.data(), width, block.data(), width,
                0.0f, gram.data(), width);
    for (size_t i = 0; i < width * width; ++i) sums[i] += double(gram[i]);
    for (size_t i = 0; i < rows; ++i)
      for (size_t j = 0; j < width; ++j) sums[width * width + j] += double(block[i * width + j]);
  }
  comm.allreduce_sum(std::span<double>(sums));

  // eigenvalues [width], then components [k, width]: computed on rank 0, broadcast.
  std::vector<double> result(width + pca.k * width, 0.0);
  if (comm.is_root()) {
    const double count = double(n), scale = 1.0 / (255.0 * 255.0);
    const double* s = sums.data() + width * width;
    Eigen::MatrixXd covariance(static_cast<Eigen::Index>(width), static_cast<Eigen::Index>(width));
    for (size_t i = 0; i < width; ++i)
      for (size_t j = 0; j <= i; ++j) {
        const double c = (sums[i * width + j] - s[i] * s[j] / count) / count * scale;
        covariance(long(i), long(j)) = covariance(long(j), long(i)) = c;
      }
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(covariance);
    if (solver.info() != Eigen::Success)
      throw RunError("PCA baseline: the eigen-decomposition of the covariance did not converge");
    // Eigen sorts ascending; the largest come first here. Rounding can leave the smallest
    // eigenvalues of a positive semi-definite matrix a hair below zero.
    for (size_t i = 0; i < width; ++i)
      result[i] = std::max(0.0, solver.eigenvalues()(long(width - 1 - i)));
    for (size_t c = 0; c < pca.k; ++c)
      for (size_t j = 0; j < width; ++j)
        result[width + c * width + j] = solver.eigenvectors()(long(j), long(width - 1 - c));
  }
  comm.broadcast(std::span<double>(result));
  pca.eigenvalues.assign(result.begin(), result.begin() + long(width));
  pca.components.assign(result.begin() + long(width), result.end());
  pca.mean.resize(width);
  for (size_t j = 0; j < width; ++j) pca.mean[j] = sums[width * width + j] / double(n) / 255.0;
  return pca;
}

}  // namespace aeflow::eval
