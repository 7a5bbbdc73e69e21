#include "aeflow/eval/evaluator.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "aeflow/data/batch.hpp"

namespace aeflow::eval {

Evaluation evaluate(model::Network& network, const model::Loss& loss, const data::Dataset& dataset,
                    const mpi::Communicator& comm) {
  constexpr size_t kChunk = 500;
  const size_t width = dataset.width();
  const size_t begin = dataset.count * size_t(comm.rank()) / size_t(comm.size());
  const size_t end = dataset.count * size_t(comm.rank() + 1) / size_t(comm.size());
  std::vector<float> input(kChunk * width), reconstruction(kChunk * width);
  // sums[0]: loss terms, sums[1]: squared error of the reconstruction.
  std::vector<double> sums(2, 0.0);
  const model::Loss squared(model::LossKind::kMse);
  for (size_t first = begin; first < end; first += kChunk) {
    const size_t rows = std::min(kChunk, end - first);
    data::fill_range(dataset, first, rows, input.data());
    const float* out = network.forward(input.data(), int(rows), false);
    sums[0] += loss.sum(out, input.data(), rows * width);
    std::copy_n(out, rows * width, reconstruction.data());
    network.reconstruct(reconstruction.data(), rows * width);
    sums[1] += squared.sum(reconstruction.data(), input.data(), rows * width);
  }
  comm.allreduce_sum(std::span<double>(sums));
  const double elements = double(dataset.count) * double(width);
  Evaluation result;
  result.count = double(dataset.count);
  result.loss = loss.value(sums[0], elements);
  result.mse = elements > 0 ? sums[1] / elements : 0;
  result.rmse = std::sqrt(result.mse);
  return result;
}

}  // namespace aeflow::eval
