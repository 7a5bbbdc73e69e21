// kNN in code space (see knn.hpp). Distances are ranked by |r|^2 - 2 q.r (|q|^2 is the same for
// every reference of a query), the dot products one GEMM per block of queries.
#include "aeflow/eval/knn.hpp"

#include <algorithm>
#include <array>
#include <limits>

#include "aeflow/base/error.hpp"
#include "aeflow/model/gemm.hpp"

namespace aeflow::eval {

namespace {
constexpr size_t kQueryBlock = 256;
constexpr size_t kReferenceTile = 4096;
}  // namespace

KnnClassifier::KnnClassifier(std::vector<float> reference, std::vector<uint8_t> labels,
                             size_t width, size_t neighbours)
    : reference_(std::move(reference)),
      labels_(std::move(labels)),
      width_(width),
      neighbours_(neighbours) {
  if (neighbours_ == 0) throw InputError("kNN: the number of neighbours must be at least 1");
  if (reference_.size() != labels_.size() * width_)
    throw RunError("kNN: " + std::to_string(reference_.size()) + " reference values for " +
                   std::to_string(labels_.size()) + " labels of width " + std::to_string(width_));
  norms_.resize(labels_.size());
  for (size_t j = 0; j < labels_.size(); ++j) {
    double sum = 0;
    for (size_t d = 0; d < width_; ++d)
      sum += double(reference_[j * width_ + d]) * reference_[j * width_ + d];
    norms_[j] = float(sum);
  }
}

void KnnClassifier::predict(const float* codes, size_t count, const size_t* exclude,
                            uint8_t* out) const {
  const size_t refs = labels_.size();
  if (refs == 0) throw InputError("kNN: no reference codes");
  const size_t k = std::min(neighbours_, refs);
  // Distances of a block of queries to a tile of references at a time (a few MB).
  std::vector<float> dots(kQueryBlock * kReferenceTile);
  std::vector<float> best_distance(kQueryBlock * k);
  std::vector<size_t> best_index(kQueryBlock * k), found(kQueryBlock);
  for (size_t first = 0; first < count; first += kQueryBlock) {
    const size_t block = std::min(kQueryBlock, count - first);
    std::fill(found.begin(), found.end(), 0);
    for (size_t tile = 0; tile < refs; tile += kReferenceTile) {
      const size_t tile_size = std::min(kReferenceTile, refs - tile);
      model::gemm(false, true, block, tile_size, width_, 1.0f, codes + first * width_, width_,
                  reference_.data() + tile * width_, width_, 0.0f, dots.data(), tile_size);
      for (size_t q = 0; q < block; ++q) {
        const float* dot = dots.data() + q * tile_size;
        const size_t skip = exclude ? exclude[first + q] : refs;
        float* distances = best_distance.data() + q * k;  // kept sorted, ascending
        size_t* indices = best_index.data() + q * k;
        size_t& n = found[q];
        for (size_t t = 0; t < tile_size; ++t) {
          const size_t j = tile + t;
          const float distance = norms_[j] - 2.0f * dot[t];
          if ((n == k && !(distance < distances[k - 1])) || j == skip) continue;
          size_t at = n < k ? n++ : k - 1;
          for (; at > 0 && distance < distances[at - 1]; --at) {
            distances[at] = distances[at - 1];
            indices[at] = indices[at - 1];
          }
          distances[at] = distance;
          indices[at] = j;
        }
      }
    }
    for (size_t q = 0; q < block; ++q) {
      const size_t* indices = best_index.data() + q * k;
      std::array<int, 256> votes{};
      int top = 0;
      for (size_t i = 0; i < found[q]; ++i) top = std::max(top, ++votes[labels_[indices[i]]]);
      uint8_t label = 0;
      for (size_t i = 0; i < found[q]; ++i)  // nearest first: the first label with top votes
        if (votes[labels_[indices[i]]] == top) {
          label = labels_[indices[i]];
          break;
        }
      out[first + q] = label;
    }
  }
}

}  // namespace aeflow::eval
