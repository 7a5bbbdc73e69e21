#include "aeflow/model/model_spec.hpp"

#include <charconv>
#include <sstream>

#include "aeflow/base/error.hpp"

namespace aeflow::model {

Activation parse_activation(std::string_view name) {
  if (name == "sigmoid") return Activation::kSigmoid;
  if (name == "relu") return Activation::kRelu;
  if (name == "elu") return Activation::kElu;
  if (name == "tanh") return Activation::kTanh;
  if (name == "silu") return Activation::kSilu;
  if (name == "gelu") return Activation::kGelu;
  if (name == "linear") return Activation::kLinear;
  throw InputError("unknown activation '" + std::string(name) +
                   "': expected one of sigmoid, relu, elu, tanh, silu, gelu, linear");
}

std::string to_string(Activation activation) {
  switch (activation) {
    case Activation::kSigmoid:
      return "sigmoid";
    case Activation::kRelu:
      return "relu";
    case Activation::kElu:
      return "elu";
    case Activation::kTanh:
      return "tanh";
    case Activation::kSilu:
      return "silu";
    case Activation::kGelu:
      return "gelu";
    case Activation::kLinear:
      return "linear";
  }
  return "?";
}

InitSpec parse_init(std::string_view name, float stddev, float bias) {
  InitSpec init;
  init.stddev = stddev;
  init.bias = bias;
  if (name == "glorot" || name == "glorot_uniform") {
    init.kind = InitKind::kGlorotUniform;
  } else if (name == "truncated_normal" || name == "normal") {
    init.kind = InitKind::kTruncatedNormal;
  } else {
    throw InputError("unknown init '" + std::string(name) +
                     "': expected glorot_uniform or truncated_normal");
  }
  if (!(stddev > 0)) throw InputError("--init-stddev must be positive");
  return init;
}

std::string to_string(InitKind kind) {
  return kind == InitKind::kGlorotUniform ? "glorot_uniform" : "truncated_normal";
}

std::vector<int> ModelSpec::decoder_widths() const {
  if (encoder.size() < 2) return {};  // (no model: validate() says so)
  std::vector<int> widths{code_width()};
  if (decoder)
    widths.insert(widths.end(), decoder->begin(), decoder->end());
  else
    widths.insert(widths.end(), encoder.rbegin() + 1, encoder.rend() - 1);
  widths.push_back(input_width());
  return widths;
}

bool ModelSpec::decoder_mirrors() const {
  return decoder_widths() == std::vector<int>(encoder.rbegin(), encoder.rend());
}

std::vector<LayerSpec> ModelSpec::layers() const {
  const int n = encoder_layers();
  const std::vector<int> decoding = decoder_widths();
  const int count = layer_count();
  std::vector<LayerSpec> result;
  size_t offset = 0;
  for (int i = 0; i < count; ++i) {
    LayerSpec layer;
    const bool decoder_layer = i >= n;
    layer.in = decoder_layer ? decoding[i - n] : encoder[i];
    layer.out = decoder_layer ? decoding[i - n + 1] : encoder[i + 1];
    if (i == n - 1) {
      layer.activation = code;
    } else if (i == count - 1) {
      layer.activation = output;
    } else {
      layer.activation = hidden;
      layer.dropout = dropout > 0;
    }
    if (decoder_layer && tied) {  // (validate() has checked that the decoder mirrors)
      layer.tied_to = count - 1 - i;
      layer.weight_offset = result[layer.tied_to].weight_offset;
    } else {
      layer.weight_offset = offset;
      offset += size_t(layer.in) * layer.out;
    }
    layer.bias_offset = offset;
    offset += layer.out;
    result.push_back(layer);
  }
  return result;
}

size_t ModelSpec::parameter_count() const {
  const auto all = layers();
  return all.empty() ? 0 : all.back().bias_offset + all.back().out;
}

void ModelSpec::validate() const {
  if (encoder.size() < 2)
    throw InputError(
        "--encoder needs at least two widths, the input and the code: e.g. 784,128,10");
  for (int w : encoder)
    if (w <= 0) throw InputError("--encoder widths must be positive: " + format_widths(encoder));
  if (decoder)
    for (int w : *decoder)
      if (w <= 0) throw InputError("--decoder widths must be positive: " + format_widths(*decoder));
  if (tied && !decoder_mirrors()) {
    std::vector<int> mirror(encoder.rbegin() + 1, encoder.rend() - 1);
    throw InputError(
        "--tied uses each encoder weight transposed in the decoder, so the decoder "
        "must mirror the encoder: --decoder " +
        format_decoder(decoder) + " gives " + format_widths(decoder_widths()) +
        ", the mirror is --decoder " + format_decoder(mirror) + " (or leave --decoder out)");
  }
  if (!(dropout >= 0 && dropout < 1))
    throw InputError("--dropout must be in [0, 1), got " + std::to_string(dropout));
}

std::string ModelSpec::describe() const {
  std::ostringstream out;
  std::vector<int> all = encoder;
  const std::vector<int> decoding = decoder_widths();
  all.insert(all.end(), decoding.begin() + 1, decoding.end());
  for (size_t i = 0; i < all.size(); ++i) out << (i ? "-" : "") << all[i];
  out << " " << to_string(hidden) << "/" << to_string(code) << "/" << to_string(output);
  if (tied) out << " tied";
  if (dropout > 0) out << " dropout " << dropout;
  out << ", " << parameter_count() << " parameters";
  return out.str();
}

namespace {

// Comma-separated positive widths; OPTION and EXAMPLE name the option in the message.
std::vector<int> parse_width_list(std::string_view text, const char* option, const char* example) {
  std::vector<int> widths;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(pos, comma - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    int value = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size() || value <= 0)
      throw InputError(std::string(option) + " '" + std::string(text) +
                       "': expected comma-separated positive widths, e.g. " + example);
    widths.push_back(value);
    pos = comma + 1;
  }
  return widths;
}

}  // namespace

std::vector<int> parse_widths(std::string_view text) {
  return parse_width_list(text, "--encoder", "784,512,128,10");
}

std::optional<std::vector<int>> parse_decoder(std::string_view text) {
  if (text == "mirror") return std::nullopt;
  if (text == "none") return std::vector<int>{};
  try {
    return parse_width_list(text, "--decoder", "32,64 (hidden widths, code side first)");
  } catch (const InputError& error) {
    throw InputError(std::string(error.what()) + ", or mirror, or none");
  }
}

std::string format_decoder(const std::optional<std::vector<int>>& decoder) {
  if (!decoder) return "mirror";
  return decoder->empty() ? "none" : format_widths(*decoder);
}

std::string format_widths(const std::vector<int>& widths) {
  std::string out;
  for (size_t i = 0; i < widths.size(); ++i) out += (i ? "," : "") + std::to_string(widths[i]);
  return out;
}

bool ModelSpec::same_network(const ModelSpec& other) const {
  // (A new field that changes what the parameters mean belongs here too.)
  return encoder == other.encoder && decoder_widths() == other.decoder_widths() &&
         hidden == other.hidden && code == other.code && output == other.output &&
         tied == other.tied;
}

}  // namespace aeflow::model
