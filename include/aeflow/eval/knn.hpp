// k-nearest-neighbour classification in code space: how much of the label a code keeps.
// Euclidean distance, majority vote of the k nearest reference codes; a tie in votes goes to
// the tied label whose member is nearest, a tie in distance to the lower reference index.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace aeflow::eval {

class KnnClassifier {
 public:
  // REFERENCE is [count, width] codes with LABELS [count]; NEIGHBOURS >= 1.
  KnnClassifier(std::vector<float> reference, std::vector<uint8_t> labels, size_t width,
                size_t neighbours);

  size_t reference_count() const { return labels_.size(); }
  size_t neighbours() const { return neighbours_; }

  // Predicts the labels of COUNT codes [count, width] into OUT[count]. With EXCLUDE, query i
  // ignores reference index exclude[i] (its own code when it is in the reference; pass an index
  // >= reference_count() to exclude nothing).
  void predict(const float* codes, size_t count, const size_t* exclude, uint8_t* out) const;

 private:
  std::vector<float> reference_;
  std::vector<uint8_t> labels_;
  std::vector<float> norms_;  // |r|^2 per reference code
  size_t width_;
  size_t neighbours_;
};

}  // namespace aeflow::eval
