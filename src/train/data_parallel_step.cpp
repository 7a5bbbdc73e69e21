#include "aeflow/train/data_parallel_step.hpp"

namespace aeflow::train {

DataParallelStep::DataParallelStep(model::Network& network, const model::Loss& loss,
                                   model::Optimizer& optimizer, const mpi::Communicator& comm,
                                   GradSync mode, double bucket_mb, size_t max_global_rows)
    : exchange_(make_gradient_exchange(mode, network, loss, optimizer, comm, bucket_mb,
                                       max_global_rows, note_)) {}

StepResult DataParallelStep::run(const float* input, const float* target, int rows,
                                 size_t global_rows, const model::DropoutKey& key, float lr,
                                 bool stop_requested) {
  const StepBatch batch{input, target, rows, global_rows, key, stop_requested};
  const StepResult result = exchange_->forward(batch);
  exchange_->backward_and_update(batch, lr);
  return result;
}

}  // namespace aeflow::train
