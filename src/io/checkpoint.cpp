// Checkpoints in HDF5 (layout: docs/hdf5-schema.md, "Checkpoint"). Writing goes through
// AtomicFile, so PATH is either the old checkpoint or the complete new one; reading checks every
// name, type and shape against the model the file describes, so a damaged or foreign file is
// refused with a message naming the dataset rather than loaded into a wrong-shaped network.
#include "aeflow/io/checkpoint.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <sstream>
#include <tuple>
#include <utility>

#include "aeflow/base/error.hpp"
#include "aeflow/io/atomic_file.hpp"
#include "aeflow/io/file_header.hpp"
#include "aeflow/io/hdf5.hpp"

namespace aeflow::io {

namespace {

constexpr const char* kFormat = "aeflow-checkpoint";
// 2: /model's decoder widths (version 1 files have none: their decoder mirrors the encoder).
constexpr int64_t kFormatVersion = 2;
constexpr int64_t kOldestVersion = 1;

std::string layer_name(size_t index) {
  char name[32];
  std::snprintf(name, sizeof name, "layer_%02zu", index);
  return name;
}

size_t element_count(const std::vector<size_t>& shape) {
  size_t n = 1;
  for (size_t d : shape) n *= d;
  return n;
}

// --- writing -----------------------------------------------------------------------------------

void write_model(h5::File& file, const CheckpointView& checkpoint) {
  const model::ModelSpec& spec = checkpoint.spec;
  if (checkpoint.parameters.size() != spec.parameter_count())
    throw RunError("checkpoint parameters: " + std::to_string(checkpoint.parameters.size()) +
                   " values, but model " + spec.describe() + " has " +
                   std::to_string(spec.parameter_count()));
  h5::Group group = file.create_group("model");
  group.set_int_vector_attribute("encoder",
                                 std::vector<int64_t>(spec.encoder.begin(), spec.encoder.end()));
  const std::vector<int> decoder = spec.decoder_widths();
  group.set_int_vector_attribute("decoder", std::vector<int64_t>(decoder.begin(), decoder.end()));
  group.set_string_attribute("activation", model::to_string(spec.hidden));
  group.set_string_attribute("code_activation", model::to_string(spec.code));
  group.set_string_attribute("output_activation", model::to_string(spec.output));
  group.set_int_attribute("tied", spec.tied ? 1 : 0);
  group.set_double_attribute("dropout", spec.dropout);
  group.set_string_attribute("init", model::to_string(spec.init.kind));
  group.set_double_attribute("init_stddev", spec.init.stddev);
  group.set_double_attribute("init_bias", spec.init.bias);
  group.set_string_attribute("loss", checkpoint.loss);
  group.set_int_attribute("parameter_count", int64_t(spec.parameter_count()));
  const std::vector<model::LayerSpec> layers = spec.layers();
  for (size_t i = 0; i < layers.size(); ++i) {
    const model::LayerSpec& layer = layers[i];
    h5::Group layer_group = group.create_group(layer_name(i));
    layer_group.set_int_attribute("in", layer.in);
    layer_group.set_int_attribute("out", layer.out);
    layer_group.set_string_attribute("activation", model::to_string(layer.activation));
    const size_t out = size_t(layer.out), in = size_t(layer.in);
    if (layer.tied_to >= 0)
      layer_group.set_int_attribute("tied_to", layer.tied_to);
    else
      layer_group.write_dataset<float>(
          "weight", checkpoint.parameters.subspan(layer.weight_offset, out * in), {out, in});
    layer_group.write_dataset<float>("bias", checkpoint.parameters.subspan(layer.bias_offset, out),
                                     {out});
  }
}

void write_optimizer(h5::File& file, const CheckpointView& checkpoint) {
  h5::Group group = file.create_group("optimizer");
  group.set_string_attribute("name", checkpoint.optimizer);
  group.set_int_attribute("step", checkpoint.optimizer_step);
  for (const NamedSpan& array : checkpoint.optimizer_state) {
    if (array.name.empty()) throw RunError("checkpoint optimizer state has an unnamed array");
    group.write_dataset<float>(array.name, array.values, {array.values.size()});
  }
}

void write_state(h5::File& file, const LoopState& state) {
  h5::Group group = file.create_group("state");
  group.set_int_attribute("epoch", state.epoch);
  group.set_int_attribute("step_in_epoch", state.step_in_epoch);
  group.set_int_attribute("global_step", state.global_step);
  group.set_int_attribute("world_size", state.world_size);
  group.set_uint_attribute("seed", state.seed);
  group.set_double_attribute("best_monitor", state.best_monitor);
  group.set_int_attribute("bad_epochs", state.bad_epochs);
  group.set_double_attribute("best_val_loss", state.best_val_loss);
  group.set_double_attribute("train_loss_total", state.train_loss_total);
  group.set_int_attribute("train_loss_images", state.train_loss_images);
  group.set_int_attribute("finished", state.finished ? 1 : 0);
  for (const auto& [name, value] :
       {std::pair{"batch_size", state.batch_size}, std::pair{"validation", state.validation},
        std::pair{"train_limit", state.train_limit}})
    if (value >= 0) group.set_int_attribute(name, value);
}

// --- reading -----------------------------------------------------------------------------------

// Runs F, prefixing an InputError's message with WHERE (parsers of names do not know the file).
template <class F>
auto with_context(const std::string& where, F f) {
  try {
    return f();
  } catch (const InputError& error) {
    throw InputError(where + ": " + error.what());
  }
}

// The widths in the attribute NAME of GROUP, each a positive int.
std::vector<int> read_widths(const h5::Group& group, const std::string& name,
                             const std::string& where) {
  std::vector<int> widths;
  for (int64_t width : group.int_vector_attribute(name)) {
    if (width <= 0 || width > INT32_MAX)
      throw InputError(where + ": " + name + " width " + std::to_string(width) +
                       " is out of range");
    widths.push_back(int(width));
  }
  return widths;
}

// VERSION: the file's format_version (1 has no decoder attribute: the mirror).
model::ModelSpec read_spec(const h5::Group& group, const std::string& where, int64_t version) {
  model::ModelSpec spec;
  spec.encoder = read_widths(group, "encoder", where);
  if (spec.encoder.size() < 2)
    throw InputError(where + ": encoder has " + std::to_string(spec.encoder.size()) +
                     " widths; a model has at least the input and the code");
  if (version >= 2) {
    const std::vector<int> decoder = read_widths(group, "decoder", where);
    if (decoder.size() < 2 || decoder.front() != spec.code_width() ||
        decoder.back() != spec.input_width())
      throw InputError(where + ": decoder " + model::format_widths(decoder) +
                       " does not lead from the code (" + std::to_string(spec.code_width()) +
                       ") to the input (" + std::to_string(spec.input_width()) + ")");
    spec.decoder = std::vector<int>(decoder.begin() + 1, decoder.end() - 1);
    if (spec.decoder_mirrors()) spec.decoder.reset();  // (as a mirror is given: unset)
  }
  with_context(where, [&] {
    spec.hidden = model::parse_activation(group.string_attribute("activation"));
    spec.code = model::parse_activation(group.string_attribute("code_activation"));
    spec.output = model::parse_activation(group.string_attribute("output_activation"));
    spec.tied = group.int_attribute("tied") != 0;
    spec.dropout = float(group.double_attribute("dropout"));
    spec.init = model::parse_init(group.string_attribute("init"),
                                  float(group.double_attribute("init_stddev")),
                                  float(group.double_attribute("init_bias")));
    spec.validate();
    return 0;
  });
  return spec;
}

// The float32 dataset NAME of GROUP, which must have SHAPE.
NamedArray read_parameter(const h5::Group& group, const std::string& name,
                          const std::vector<size_t>& shape, const std::string& path,
                          const std::string& model) {
  const std::string where = path + ": " + group.path() + "/" + name;
  if (group.kind(name) != h5::ObjectKind::kDataset)
    throw InputError(where + " is missing (model " + model + ")");
  h5::Dataset dataset = group.open_dataset(name);
  const h5::DatasetInfo info = dataset.info();
  if (info.dtype != h5::DType::kFloat32)
    throw InputError(where + " is " + h5::to_string(info.dtype) + ", expected float32");
  if (info.shape != shape)
    throw InputError(where + " has shape " + h5::format_shape(info.shape) + ", expected " +
                     h5::format_shape(shape) + " for model " + model);
  const std::string layer = group.path().substr(group.path().rfind('/') + 1);
  return {layer + "/" + name, shape, dataset.read<float>()};
}

void read_model(const h5::File& file, const std::string& path, int64_t version,
                CheckpointData& checkpoint) {
  if (file.kind("model") != h5::ObjectKind::kGroup)
    throw InputError(path + ": no /model group (damaged checkpoint)");
  h5::Group group = file.open_group("model");
  checkpoint.spec = read_spec(group, path + ": /model", version);
  checkpoint.loss = group.string_attribute("loss");
  const std::string model = checkpoint.spec.describe();
  const std::vector<model::LayerSpec> layers = checkpoint.spec.layers();
  for (const std::string& child : group.children()) {
    bool known = false;
    for (size_t i = 0; i < layers.size() && !known; ++i) known = child == layer_name(i);
    if (!known) throw InputError(path + ": /model/" + child + " does not belong to model " + model);
  }
  for (size_t i = 0; i < layers.size(); ++i) {
    const model::LayerSpec& layer = layers[i];
    const std::string name = layer_name(i);
    if (group.kind(name) != h5::ObjectKind::kGroup)
      throw InputError(path + ": /model/" + name + " is missing (model " + model + ")");
    h5::Group layer_group = group.open_group(name);
    if (layer.tied_to >= 0) {
      if (layer_group.exists("weight"))
        throw InputError(path + ": /model/" + name +
                         "/weight is present, but the model ties it to " +
                         layer_name(size_t(layer.tied_to)));
    } else {
      checkpoint.parameters.push_back(read_parameter(
          layer_group, "weight", {size_t(layer.out), size_t(layer.in)}, path, model));
    }
    checkpoint.parameters.push_back(
        read_parameter(layer_group, "bias", {size_t(layer.out)}, path, model));
  }
}

// Every dataset under GROUP, depth first in creation order, named relative to it.
void read_arrays(const h5::Group& group, const std::string& prefix, std::vector<NamedArray>& out) {
  for (const std::string& child : group.children()) {
    const h5::ObjectKind kind = group.kind(child);
    if (kind == h5::ObjectKind::kGroup) {
      read_arrays(group.open_group(child), prefix + child + "/", out);
    } else if (kind == h5::ObjectKind::kDataset) {
      h5::Dataset dataset = group.open_dataset(child);
      out.push_back({prefix + child, dataset.info().shape, dataset.read<float>()});
    }
  }
}

void read_optimizer(const h5::File& file, const std::string& path, CheckpointData& checkpoint) {
  if (file.kind("optimizer") != h5::ObjectKind::kGroup)
    throw InputError(path + ": no /optimizer group (damaged checkpoint)");
  h5::Group group = file.open_group("optimizer");
  checkpoint.optimizer = group.string_attribute("name");
  checkpoint.optimizer_step = group.int_attribute("step");
  read_arrays(group, "", checkpoint.optimizer_state);
}

// KEY's value in the INI text, -1 if absent or not a number: the run settings of checkpoints
// from before they were attributes of their own.
int64_t ini_integer(const std::string& ini, const std::string& key) {
  std::istringstream lines(ini);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with(key + " = ")) continue;
    const std::string text = line.substr(key.size() + 3);
    int64_t value = 0;
    const auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), value);
    return status == std::errc() && end == text.data() + text.size() && value >= 0 ? value : -1;
  }
  return -1;
}

// INPUT_WIDTH (pixels an image) and LOSS: to read what checkpoints before train_loss_total kept;
// CONFIG_INI: the run settings of checkpoints from before batch_size.
void read_state(const h5::File& file, const std::string& path, size_t input_width,
                const std::string& loss, const std::string& config_ini, LoopState& state) {
  if (file.kind("state") != h5::ObjectKind::kGroup)
    throw InputError(path + ": no /state group (damaged checkpoint)");
  h5::Group group = file.open_group("state");
  state.epoch = group.int_attribute("epoch");
  state.step_in_epoch = group.int_attribute("step_in_epoch");
  state.global_step = group.int_attribute("global_step");
  state.world_size = group.int_attribute("world_size");
  state.seed = group.uint_attribute("seed");
  state.best_monitor = group.double_attribute("best_monitor");
  state.bad_epochs = group.int_attribute("bad_epochs");
  state.best_val_loss = group.double_attribute("best_val_loss");
  if (group.has_attribute("train_loss_total")) {
    state.train_loss_total = group.double_attribute("train_loss_total");
    state.train_loss_images = group.int_attribute("train_loss_images");
  } else {
    // Older checkpoints: the sum of batch losses times batch sizes. For MSE, BCE and L1 that
    // times the width is the total; for RMSE (batch roots) the mean root squared is the estimate.
    state.train_loss_images = group.int_attribute("train_loss_batches");
    const double sum = group.double_attribute("train_loss_sum");
    const double images = double(state.train_loss_images);
    if (loss == "rmse" && images > 0)
      state.train_loss_total = (sum / images) * (sum / images) * images * double(input_width);
    else
      state.train_loss_total = sum * double(input_width);
  }
  state.finished = group.int_attribute("finished") != 0;
  for (const auto& [name, key, value] :
       {std::tuple{"batch_size", "batch-size", &state.batch_size},
        std::tuple{"validation", "validation", &state.validation},
        std::tuple{"train_limit", "train-limit", &state.train_limit}})
    *value = group.has_attribute(name) ? group.int_attribute(name) : ini_integer(config_ini, key);
}

// A NaN or infinity in the model or the optimizer's state is damage (training stops before it
// writes one): say so here, not later as a diverging loss or as NaN codes and images.
void check_finite(const std::vector<NamedArray>& arrays, const std::string& path,
                  const std::string& group) {
  for (const NamedArray& array : arrays) {
    const auto bad = std::find_if(array.values.begin(), array.values.end(),
                                  [](float value) { return !std::isfinite(value); });
    if (bad != array.values.end())
      throw InputError(path + ": /" + group + "/" + array.name + " holds " +
                       (std::isnan(*bad) ? "NaN" : "an infinity") + " at index " +
                       std::to_string(bad - array.values.begin()) + " (damaged checkpoint)");
  }
}

CheckpointData read_contents(const std::string& path) {
  const h5::File file = h5::File::open(path);
  const int64_t version =
      check_file_header(file, path, kFormat, kFormatVersion, "a checkpoint", kOldestVersion);
  CheckpointData checkpoint;
  checkpoint.config_ini = file.string_attribute("config");
  read_model(file, path, version, checkpoint);
  read_optimizer(file, path, checkpoint);
  check_finite(checkpoint.parameters, path, "model");
  check_finite(checkpoint.optimizer_state, path, "optimizer");
  read_state(file, path, size_t(checkpoint.spec.input_width()), checkpoint.loss,
             checkpoint.config_ini, checkpoint.state);
  if (file.kind("history") != h5::ObjectKind::kGroup)
    throw InputError(path + ": no /history group (damaged checkpoint)");
  checkpoint.history = read_history(file.open_group("history"), path, &checkpoint.snapshots);
  return checkpoint;
}

}  // namespace

void write_checkpoint(const std::string& path, const CheckpointView& checkpoint) {
  try {
    checkpoint.spec.validate();
    AtomicFile atomic(path, /*overwrite=*/true);  // checkpoints are replaced by design
    {
      h5::File file = h5::File::create(atomic.temp_path(), h5::CreateMode::kTruncate);
      write_file_header(file, kFormat, kFormatVersion, checkpoint.config_ini);
      write_model(file, checkpoint);
      write_optimizer(file, checkpoint);
      write_state(file, checkpoint.state);
      {  // (closed before the file, as h5::File::close wants)
        h5::Group history = file.create_group("history");
        write_history(history, checkpoint.history,
                      checkpoint.snapshots ? *checkpoint.snapshots : Snapshots{});
      }
      file.close();
    }
    atomic.commit();
  } catch (const std::exception& error) {
    // AtomicFile's destructor has removed the temporary; PATH is as it was.
    throw RunError(path + ": cannot write checkpoint: " + error.what());
  }
}

void write_checkpoint(const std::string& path, const CheckpointData& checkpoint) {
  std::vector<float> parameters;
  try {
    parameters = flat_parameters(checkpoint, "checkpoint parameters");
  } catch (const InputError& error) {
    throw RunError(path + ": cannot write checkpoint: " + error.what());
  }
  CheckpointView view{checkpoint.config_ini,     checkpoint.spec,
                      checkpoint.loss,           parameters,
                      checkpoint.optimizer,      {},
                      checkpoint.optimizer_step, checkpoint.state,
                      checkpoint.history,        &checkpoint.snapshots};
  for (const NamedArray& array : checkpoint.optimizer_state) {
    if (!array.shape.empty() && element_count(array.shape) != array.values.size())
      throw RunError(path + ": cannot write checkpoint: optimizer state '" + array.name +
                     "' holds " + std::to_string(array.values.size()) + " values for shape " +
                     h5::format_shape(array.shape));
    view.optimizer_state.push_back({array.name, array.values});
  }
  write_checkpoint(path, view);
}

std::vector<float> flat_parameters(const CheckpointData& checkpoint, const std::string& path) {
  const model::ModelSpec& spec = checkpoint.spec;
  std::map<std::string, const NamedArray*> by_name;
  for (const NamedArray& array : checkpoint.parameters) by_name[array.name] = &array;
  std::vector<float> flat(spec.parameter_count());
  auto take = [&](const std::string& name, size_t offset, size_t count) {
    auto found = by_name.find(name);
    if (found == by_name.end())
      throw InputError(path + ": no '" + name + "' for model " + spec.describe());
    if (found->second->values.size() != count)
      throw InputError(path + ": '" + name + "' holds " +
                       std::to_string(found->second->values.size()) + " values, expected " +
                       std::to_string(count));
    std::copy(found->second->values.begin(), found->second->values.end(),
              flat.begin() + ptrdiff_t(offset));
    by_name.erase(found);
  };
  const std::vector<model::LayerSpec> layers = spec.layers();
  for (size_t i = 0; i < layers.size(); ++i) {
    const model::LayerSpec& layer = layers[i];
    if (layer.tied_to < 0)
      take(layer_name(i) + "/weight", layer.weight_offset, size_t(layer.out) * size_t(layer.in));
    take(layer_name(i) + "/bias", layer.bias_offset, size_t(layer.out));
  }
  if (!by_name.empty())
    throw InputError(path + ": '" + by_name.begin()->first + "' is not part of model " +
                     spec.describe());
  return flat;
}

CheckpointData read_checkpoint(const std::string& path) {
  try {
    return read_contents(path);
  } catch (const h5::Hdf5Error& error) {
    // A missing attribute or dataset, a wrong type: the file is not what a checkpoint holds.
    throw InputError(std::string(error.what()) + " (not a valid aeflow checkpoint)");
  }
}

}  // namespace aeflow::io
