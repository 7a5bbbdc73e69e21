// A trained network rebuilt from a checkpoint, for the commands that use a model without
// training it (eval, encode, decode).
#pragma once

#include <memory>
#include <span>
#include <string>

#include "aeflow/io/checkpoint.hpp"
#include "aeflow/model/loss.hpp"
#include "aeflow/model/network.hpp"

namespace aeflow::eval {

struct LoadedModel {
  io::CheckpointData checkpoint;
  std::unique_ptr<model::Network> network;
  model::LossKind loss = model::LossKind::kMse;
};

// Reads PATH (InputError if it is not a checkpoint) and loads its parameters into a Network.
LoadedModel load_model(const std::string& path);

}  // namespace aeflow::eval
