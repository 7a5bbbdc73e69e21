// The architecture of an autoencoder, as plain data: encoder and decoder widths (the decoder
// mirrors the encoder unless it is given), activations, tied weights, dropout and initialization.
// Everything that builds, saves or checks a model starts from this; it knows nothing of oneDNN or
// HDF5.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aeflow::model {

enum class Activation { kSigmoid, kRelu, kElu, kTanh, kSilu, kGelu, kLinear };
Activation parse_activation(std::string_view name);  // throws InputError naming the choices
std::string to_string(Activation activation);

enum class InitKind { kGlorotUniform, kTruncatedNormal };
struct InitSpec {
  InitKind kind = InitKind::kGlorotUniform;
  float stddev = 0.1f;  // truncated normal only: cut at two standard deviations
  float bias = 0.0f;    // constant bias for every layer
  bool operator==(const InitSpec&) const = default;
};
InitSpec parse_init(std::string_view name, float stddev, float bias);
std::string to_string(InitKind kind);

// One fully connected layer y = act(x W^T + b), W stored [out, in] row-major.
struct LayerSpec {
  int in = 0;
  int out = 0;
  Activation activation = Activation::kSigmoid;
  bool dropout = false;      // dropout is applied to this layer's output while training
  int tied_to = -1;          // >= 0: uses the transpose of that encoder layer's weight
  size_t weight_offset = 0;  // into the flat parameter buffer (the tied layer's source for tied)
  size_t bias_offset = 0;
};

struct ModelSpec {
  std::vector<int> encoder{784, 512, 128, 10};  // input width first, code width last
  // The decoder's hidden widths, code side first (its output is as wide as the input); unset:
  // the encoder's hidden widths reversed. Tied weights need the mirror.
  std::optional<std::vector<int>> decoder;
  Activation hidden = Activation::kSigmoid;  // every layer but the code and the output
  Activation code = Activation::kSigmoid;    // the bottleneck layer
  Activation output = Activation::kSigmoid;  // the reconstruction
  bool tied = false;
  float dropout = 0.0f;  // rate on hidden-layer outputs (not on the code, not on the output)
  InitSpec init;

  int input_width() const { return encoder.front(); }
  int code_width() const { return encoder.back(); }
  int encoder_layers() const { return int(encoder.size()) - 1; }
  // Code width first, input width last: 10,128,512,784 for the default.
  std::vector<int> decoder_widths() const;
  bool decoder_mirrors() const;
  int layer_count() const { return encoder_layers() + int(decoder_widths().size()) - 1; }

  // Encoder layers then decoder layers, with their offsets in the flat parameter buffer:
  // for each layer in order, its weight (unless tied) then its bias.
  std::vector<LayerSpec> layers() const;
  size_t parameter_count() const;

  // Throws InputError with a message that says what would be right.
  void validate() const;
  std::string describe() const;  // "784-512-128-10-128-512-784 sigmoid/sigmoid/sigmoid tied"

  // Every field as given: a decoder given as the mirror differs from one left unset.
  bool operator==(const ModelSpec&) const = default;
  // The same layers, activations and weights (what a checkpoint's parameters mean), whatever
  // the dropout rate and the initialization, which only training uses, and whether the mirror
  // was given or implied.
  bool same_network(const ModelSpec& other) const;
};

std::vector<int> parse_widths(std::string_view text);  // "784,512,128,10"
// --decoder: "mirror" (unset), "none" (no hidden layer) or hidden widths "32,64".
std::optional<std::vector<int>> parse_decoder(std::string_view text);
std::string format_decoder(const std::optional<std::vector<int>>& decoder);
std::string format_widths(const std::vector<int>& widths);

}  // namespace aeflow::model
