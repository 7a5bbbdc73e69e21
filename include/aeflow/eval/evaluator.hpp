// Reconstruction quality of a network on a data set, computed across the ranks of a job: each
// rank takes a contiguous slice, the sums are reduced, so every rank gets the same numbers.
#pragma once

#include "aeflow/data/dataset.hpp"
#include "aeflow/model/loss.hpp"
#include "aeflow/model/network.hpp"
#include "aeflow/mpi/communicator.hpp"

namespace aeflow::eval {

struct Evaluation {
  double loss = 0;  // in the training loss
  double mse = 0;   // of the reconstruction (after the output activation)
  double rmse = 0;
  double count = 0;  // images evaluated
};

Evaluation evaluate(model::Network& network, const model::Loss& loss, const data::Dataset& dataset,
                    const mpi::Communicator& comm);

}  // namespace aeflow::eval
