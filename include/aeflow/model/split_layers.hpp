// The network's training pass computed by the ranks of one node together (`--grad-sync split`).
// Each rank owns a slice of every layer's outputs - those rows of W and entries of b - and
// computes them over the NODE's whole batch, which sits in memory all the node's ranks map:
//
//   forward   y[:, own] = act(x W[own]^T + b[own])     x: the previous layer's whole y (shared)
//   backward  dz[:, own] = act'(y[:, own]) * dy[:, own]        (act'(z[:, own]) for SiLU, GELU)
//             dW[own] = dz[:, own]^T x,  db[own] = sum_rows dz[:, own]     (complete: no sum)
//             part_r = dz[:, own] W[own]       dy of the layer below = the sum of all parts
//
// Every gradient a rank computes is already summed over the node's batch, so nothing is
// all-reduced inside a node, and a rank reads and updates only its own rows of the parameters
// (tied weights aside, below): what crosses between the cores per step is the layers'
// activations and the parts of dx
// (~0.9 MB at batch 128 for 784-512-128-10), not the parameters and gradients (7.4 MB) as in
// data parallelism. The matmuls keep the node's full batch as their M, so small batches split
// better too. The cost: a barrier after every layer, forward and backward.
//
// A tied decoder layer d reads its encoder layer e's W_e [out_e, in_e] transposed, so its own
// output columns are columns of W_e, whose rows other ranks own. Its forward and its part of dx
// read those columns of the node's one copy. W_e's gradient has two terms,
//   dW_e[own_e] = dz_e[:, own_e]^T x_e  +  x_d[:, own_e]^T dz_d        (dz_d: every column)
// so each rank shares its dz_d[:, own_d] as it shares its outputs, and layer e adds the second
// term when backward reaches it (a barrier later). So tied weights do cross between the cores,
// as reads of rows other ranks updated; their gradients still do not.
//
// The loss, gradients and the optimizer see what the data-parallel modes see (every element is
// summed in a different order, so trajectories agree up to rounding). Dropout masks are keyed
// by global row and column, as in Network. SiLU and GELU, whose backward reads the
// pre-activation z, keep z[:, own] per rank. Under bf16 the shared activations are bf16 (what
// the next layer's matmuls read, rounded once by the rank that computed them), dz[:, own] is
// rounded per rank (and shared rounded, for a tied layer), and the weights are read from the
// network's bf16 copy, as in Network; the parts of dx stay f32.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "aeflow/model/loss.hpp"
#include "aeflow/model/network.hpp"

namespace aeflow::model {

// The ranks that share memory, and this rank's place among them.
struct SplitGroup {
  int rank = 0;
  int size = 1;
  std::function<void()> sync;  // a barrier that also makes every rank's stores visible
  std::span<float> shared;     // mapped by every rank of the group: shared_floats() of it
};

// Some rank's rows of the node's batch, in the order they sit in the node's batch.
struct RowBlock {
  size_t rows = 0;
  uint64_t first_global_row = 0;  // the first's DropoutKey::first_global_row (dropout masks)
};

class SplitLayers {
 public:
  // The shared floats a group of GROUP_SIZE ranks needs for batches of up to MAX_ROWS rows.
  static size_t shared_floats(const ModelSpec& spec, size_t max_rows, int group_size,
                              Precision precision);

  // NETWORK's parameters() must be the node's one copy (shared); its gradients() receive this
  // rank's slices. Under bf16 the matmuls read network.bf16_copy(), which must not move after
  // construction; the caller keeps this rank's rows of it current. Every rank of the group
  // constructs one.
  SplitLayers(Network& network, SplitGroup group, size_t max_rows);
  ~SplitLayers();
  SplitLayers(const SplitLayers&) = delete;
  SplitLayers& operator=(const SplitLayers&) = delete;

  // Row ROW of the node's batch, in shared memory: each rank writes its own rows there (and its
  // target rows, unless the target is the input) before forward().
  float* input_row(size_t row);
  float* target_row(size_t row);

  // Collective over the group (it syncs first, so every rank's rows are in). The node's batch
  // is BLOCKS, one per rank in group order. Returns the loss's sum over this rank's output
  // columns of every row (the group's ranks together cover the node's batch once).
  double forward(std::span<const RowBlock> blocks, const DropoutKey& key, const Loss& loss,
                 bool separate_target);
  // d loss / d output of this rank's columns, from the global sum and element count.
  void loss_gradient(const Loss& loss, double global_sum, double global_count);
  // Collective. Writes this rank's slices of network.gradients() (summed over the node's
  // batch), calling ON_OWNED(begin, end) for each as soon as it is final and no later part of
  // this pass reads those parameters (so it may update them): a layer's weight rows (none for a
  // tied layer: its encoder layer's, with both terms), then its bias entries, last layer first.
  void backward(const Network::GradientsReady& on_owned);

  // The ranges of the flat parameter buffer this rank owns, as backward reports them (two per
  // layer, last layer first; a tied layer's weight range is empty).
  const std::vector<std::pair<size_t, size_t>>& owned() const { return owned_; }
  size_t max_rows() const { return max_rows_; }

 private:
  struct Plan;
  struct Engine;
  // Where the shared floats go: the batch's input and target, each layer's output as the next
  // layer reads it (bf16 values, two to a float, under bf16), the group's parts of each layer's
  // dx (layer 0 has none), and a tied layer's dz (bf16 under bf16); total: the end.
  struct SharedLayout {
    size_t input = 0, target = 0, total = 0;
    std::vector<size_t> output, parts, dz;
    std::vector<size_t> part_stride;  // floats from one rank's part of dx to the next rank's
  };
  static SharedLayout shared_layout(const ModelSpec& spec, size_t max_rows, int group_size,
                                    bool bf16);
  Plan& plan_for(size_t rows);
  float* shared_at(size_t offset) { return group_.shared.data() + offset; }
  uint16_t* shared16_at(size_t offset) { return reinterpret_cast<uint16_t*>(shared_at(offset)); }

  Network& network_;
  SplitGroup group_;
  size_t max_rows_;
  bool bf16_;  // bf16 matmuls
  std::vector<LayerSpec> layers_;
  std::vector<int> tied_from_;  // layer e: the decoder layer tied to it, or -1
  // Each layer's columns per rank: rank q owns [columns_[i][q], columns_[i][q + 1]).
  std::vector<std::vector<int>> columns_;
  std::vector<std::vector<const float*>> parts_of_;  // layer i: what its dy sums (shared)
  SharedLayout at_;                                  // offsets into group_.shared
  std::vector<std::pair<size_t, size_t>> owned_;
  std::unique_ptr<Engine> engine_;
  std::map<size_t, std::unique_ptr<Plan>> plans_;
  Plan* last_plan_ = nullptr;
  std::vector<float> target_;  // this rank's columns of the target, [rows, own]
};

}  // namespace aeflow::model
