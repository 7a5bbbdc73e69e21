// The optimal linear autoencoder of code width k, as the baseline a trained model is compared
// with: PCA fitted exactly (784 x 784 covariance in double, all eigenpairs by Eigen's
// SelfAdjointEigenSolver), across the ranks of a job. Pixels are in [0, 1] (uint8 / 255).
//
// The covariance is exact: each rank sums products of raw uint8 pixels in float blocks of 256
// images (every partial sum an integer below 2^24, so oneDNN's GEMM makes no rounding error),
// accumulates the blocks in double (integers below 2^53) and the ranks' sums are added
// exactly; so the fit does not depend on the number of ranks at all.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "aeflow/data/dataset.hpp"
#include "aeflow/mpi/communicator.hpp"

namespace aeflow::eval {

struct Pca {
  size_t k = 0;      // components kept
  size_t width = 0;  // pixels per image
  size_t fit_count = 0;
  std::vector<double> mean;         // [width]
  std::vector<double> eigenvalues;  // [width], descending, the covariance taken with 1/n
  std::vector<double> components;   // [k, width], unit-length principal axes, eigenvalue order

  // The same fit keeping only the first K components (at most those kept here): a fit with every
  // component serves every code width.
  Pca truncated(size_t k) const;

  // Reconstruction MSE on the fitting set: the discarded eigenvalues' sum / width.
  double fit_mse() const;
  // Share of the total variance in the first k components (1 when there is no variance).
  double explained_variance() const;

  // For each of COUNT images (uint8, [count, width]), the sum over pixels of the squared error
  // of its reconstruction mean + V^T V (x - mean), V the components: out[count].
  void squared_errors(const uint8_t* pixels, size_t count, double* out) const;
};

// Fits PCA with K components (at most the width) on all images of DATASET; every rank passes
// the same dataset and computes its contiguous share of the sums. The eigen-decomposition runs
// on rank 0 and is broadcast. Throws InputError when DATASET is empty.
Pca fit_pca(const data::Dataset& dataset, size_t k, const mpi::Communicator& comm);

}  // namespace aeflow::eval
