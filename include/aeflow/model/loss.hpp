// Reconstruction losses over a batch of outputs and clean targets. A loss is a mean over every
// element of the global batch (rows x pixels); RMSE is the square root of that mean. The loss
// value and its gradient take the GLOBAL sum and element count, so that ranks holding shards of
// one batch produce gradients that add up to the gradient of the whole batch.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace aeflow::model {

enum class LossKind { kMse, kRmse, kBce, kL1 };
LossKind parse_loss(std::string_view name);  // throws InputError naming the choices
std::string to_string(LossKind kind);

class Loss {
 public:
  explicit Loss(LossKind kind) : kind_(kind) {}
  LossKind kind() const { return kind_; }
  // BCE is computed from logits: the network's output layer then has no activation.
  bool takes_logits() const { return kind_ == LossKind::kBce; }

  // Sum over `count` elements of the per-element term: squared error (mse, rmse), |error| (l1)
  // or the binary cross-entropy of sigmoid(output) against the target (bce).
  double sum(const float* output, const float* target, size_t count) const;

  // The loss of a batch from the global sum of terms and the global element count.
  double value(double global_sum, double global_count) const;

  // d loss / d output for `count` local elements; global_sum and global_count describe the
  // whole batch across ranks (RMSE's gradient depends on the batch's mean).
  void gradient(const float* output, const float* target, size_t count, double global_sum,
                double global_count, float* diff) const;

 private:
  LossKind kind_;
};

}  // namespace aeflow::model
