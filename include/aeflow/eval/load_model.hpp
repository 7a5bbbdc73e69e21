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

// Copies the checkpoint's parameters, in layer order, into a flat parameter buffer of the same
// model. Throws InputError (naming PATH) if the sizes differ.
void load_parameters(const io::CheckpointData& checkpoint, std::span<float> parameters,
                     const std::string& path);

// Reads PATH (InputError if it is not a checkpoint) and loads its parameters into a Network.
LoadedModel load_model(const std::string& path);

}  // namespace aeflow::eval
