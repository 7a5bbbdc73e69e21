#include "aeflow/eval/load_model.hpp"

#include <algorithm>

#include "aeflow/base/error.hpp"

namespace aeflow::eval {

LoadedModel load_model(const std::string& path) {
  LoadedModel loaded;
  loaded.checkpoint = io::read_checkpoint(path);
  loaded.loss = model::parse_loss(loaded.checkpoint.loss);
  loaded.network = std::make_unique<model::Network>(loaded.checkpoint.spec,
                                                    model::Loss(loaded.loss).takes_logits());
  const std::vector<float> parameters = io::flat_parameters(loaded.checkpoint, path);
  std::copy(parameters.begin(), parameters.end(), loaded.network->parameters().begin());
  return loaded;
}

}  // namespace aeflow::eval
