// The gradient sum of `--grad-sync shared`: the ranks of a node keep ONE copy of the parameters
// in memory they all map (MPI_Win_allocate_shared), and each rank's gradients in a segment the
// others can read. After backward, each rank sums one slice of the gradients over the node's
// ranks (and, with several nodes, over the ranks of the same slice on other nodes with an
// all-reduce of that slice alone), and updates that slice of the shared parameters. Nothing is
// copied into or out of MPI buffers, no rank reads more than its slice of the others'
// gradients, and no rank runs the optimizer on more than its slice: on one node the all-reduce
// and the all-gather of the parameters cost two barriers.
//
// `--grad-sync split` uses the same memory differently: no gradient segments, and a further
// shared region for the node's batch and activations (model::SplitLayers lays it out).
//
// Needs the same number of ranks on every node (create() returns null otherwise).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "aeflow/mpi/communicator.hpp"

namespace aeflow::mpi {

// What create() allocates besides the one parameter copy.
struct NodeSharedLayout {
  bool gradient_segments = true;  // one segment of COUNT floats per rank
  bool bf16_parameters = false;   // a bf16 copy of the parameters, one per node too
  // The floats of one region the whole node shares (extra()), for a node of so many ranks.
  std::function<size_t(int node_size)> extra_floats;
};

class NodeSharedBuffers {
 public:
  // Collective over WORLD. COUNT floats of parameters (one copy per node), and what LAYOUT asks
  // for besides. Null, with the reason in WHY_NOT (the same on every rank), when the nodes hold
  // different numbers of ranks or a node's shared-memory directory lacks the room: the caller
  // falls back to another mode.
  static std::unique_ptr<NodeSharedBuffers> create(const Communicator& world, size_t count,
                                                   std::string& why_not,
                                                   NodeSharedLayout layout = {});
  // The number of ranks on the node with the fewest (the same answer on every rank).
  // Collective over WORLD.
  static int ranks_per_node(const Communicator& world);
  ~NodeSharedBuffers();
  NodeSharedBuffers(const NodeSharedBuffers&) = delete;
  NodeSharedBuffers& operator=(const NodeSharedBuffers&) = delete;

  // Slices start at multiples of this many floats (a 64-byte cache line).
  static constexpr size_t kSliceAlign = 16;

  int node_rank() const { return node_rank_; }
  int node_size() const { return node_size_; }
  int nodes() const { return nodes_; }

  std::span<float> parameters() { return {parameters_, count_}; }  // the node's one copy
  std::span<float> gradients() {  // this rank's segment (empty without segments)
    return segments_ ? std::span<float>(segments_[size_t(node_rank_)], count_) : std::span<float>();
  }
  std::span<float> extra() { return {extra_, extra_floats_}; }
  // The node's bf16 copy of the parameters (empty unless the layout asked for it).
  std::span<uint16_t> parameters16() {
    return parameters16_ ? std::span<uint16_t>(parameters16_, count_) : std::span<uint16_t>();
  }

  // This rank's slice [begin, end) of the flat buffers: contiguous, cache-line aligned.
  size_t slice_begin() const { return slice_begin(node_rank_); }
  size_t slice_end() const { return slice_begin(node_rank_ + 1); }

  // Waits until every rank of the node has reached this point, with everything each wrote to
  // the shared memory before visible to all after.
  void sync() const;

  // OUT[0, end - begin) = gradients [begin, end) summed over the node's ranks, in rank order.
  // Call between two sync(), on a range of this rank's slice.
  void sum_over_node(size_t begin, size_t end, float* out) const;
  // Sums VALUES (a piece of this rank's slice, already summed over its node) over the nodes:
  // an all-reduce among the ranks that hold the same slice. Nothing to do on one node.
  void sum_over_nodes(std::span<float> values) const;

  // Makes VALUES whole on every rank of the node when each rank holds only its slice current
  // (optimizer state). VALUES holds ARRAYS floats per parameter by cache-line blocks
  // (Optimizer::stored_state()): slice [b, e) is at [ARRAYS b, ARRAYS e), the last slice runs
  // to the end. Collective over the node.
  void gather_slices(std::span<float> values, size_t arrays) const;
  // Makes VALUES whole on every rank of the node when each rank holds its own parts of it and
  // zero bits everywhere else: a bitwise OR over the node's ranks, so every value arrives
  // exactly (-0.0 and NaN payloads included). Collective over the node.
  void merge_over_node(std::span<float> values) const;
  // ALL = MINE of every node rank in rank order (ALL holds node_size() * MINE.size() values).
  // Collective over the node.
  void gather_over_node(std::span<const int64_t> mine, std::span<int64_t> all) const;

 private:
  NodeSharedBuffers() = default;
  size_t slice_begin(int rank) const;

  size_t count_ = 0;
  int node_rank_ = 0, node_size_ = 1, nodes_ = 1;
  int node_comm_ = -1, cross_comm_ = -1;  // Fortran handles (MPI stays out of this header)
  int parameter_window_ = -1, gradient_window_ = -1, extra_window_ = -1, bf16_window_ = -1;
  float* parameters_ = nullptr;
  uint16_t* parameters16_ = nullptr;
  float* extra_ = nullptr;
  size_t extra_floats_ = 0;
  std::unique_ptr<float*[]> segments_;  // every node rank's gradients
};

}  // namespace aeflow::mpi
