#include "aeflow/eval/load_model.hpp"

#include <algorithm>

#include "aeflow/base/error.hpp"

namespace aeflow::eval {

void load_parameters(const io::CheckpointData& checkpoint, std::span<float> params,
                     const std::string& path) {
  size_t offset = 0;
  for (const auto& array : checkpoint.parameters) {
    if (offset + array.values.size() > params.size())
      throw InputError(path + ": more parameter values than the model has");
    std::copy(array.values.begin(), array.values.end(), params.begin() + long(offset));
    offset += array.values.size();
  }
  if (offset != params.size())
    throw InputError(path + ": parameter count does not match the model");
}

LoadedModel load_model(const std::string& path) {
  LoadedModel loaded;
  loaded.checkpoint = io::read_checkpoint(path);
  loaded.loss = model::parse_loss(loaded.checkpoint.loss);
  loaded.network = std::make_unique<model::Network>(loaded.checkpoint.spec,
                                                    model::Loss(loaded.loss).takes_logits());
  load_parameters(loaded.checkpoint, loaded.network->parameters(), path);
  return loaded;
}

}  // namespace aeflow::eval
