// MPI-3 shared-memory windows in the "unified" model: ranks load and store directly, and
// MPI_Win_sync (a memory barrier) around MPI_Barrier orders those stores for the other ranks.
#include "aeflow/mpi/node_shared_buffers.hpp"

#include <mpi.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <limits>
#include <string>
#include <vector>

#include "aeflow/base/error.hpp"
#include "aeflow/base/vectorized.hpp"
#include "mpi_check.hpp"

namespace aeflow::mpi {
namespace {

constexpr size_t kLineFloats = NodeSharedBuffers::kSliceAlign;  // slices never share a line

// A window of BYTES on this rank, shared with the node; every rank's segment is found with
// MPI_Win_shared_query. alloc_shared_noncontig lets each segment sit in its rank's NUMA memory.
MPI_Win allocate(MPI_Comm node, size_t bytes, float** base) {
  MPI_Info info;
  MPI_Info_create(&info);
  MPI_Info_set(info, "alloc_shared_noncontig", "true");
  MPI_Win window;
  check_mpi(MPI_Win_allocate_shared(MPI_Aint(bytes), sizeof(float), info, node, base, &window),
            "MPI_Win_allocate_shared");
  MPI_Info_free(&info);
  check_mpi(MPI_Win_lock_all(MPI_MODE_NOCHECK, window), "MPI_Win_lock_all");
  return window;
}

float* segment_of(MPI_Win window, int rank) {
  MPI_Aint size = 0;
  int unit = 0;
  float* base = nullptr;
  check_mpi(MPI_Win_shared_query(window, rank, &size, &unit, &base), "MPI_Win_shared_query");
  return base;
}

// sum[k - begin] = a[0][k] + a[1][k] + ... in rank order (the same order on every run).
AEFLOW_VECTORIZED void sum_segments(float* const* segments, int count, size_t begin, size_t end,
                                    float* sum) {
  const size_t n = end - begin;
  const float* first = segments[0] + begin;
#pragma omp simd
  for (size_t k = 0; k < n; ++k) sum[k] = first[k];
  for (int r = 1; r < count; ++r) {
    const float* next = segments[r] + begin;
#pragma omp simd
    for (size_t k = 0; k < n; ++k) sum[k] += next[k];
  }
}

// Free bytes where OpenMPI puts shared windows (osc_sm_backing_directory, /dev/shm by default
// on Linux; containers often give /dev/shm only 64 MB). -1 when it cannot be told.
double free_shared_bytes() {
  const char* configured = std::getenv("OMPI_MCA_osc_sm_backing_directory");
  const std::string directory = configured && *configured ? configured : "/dev/shm";
  struct statvfs info {};
  if (statvfs(directory.c_str(), &info) != 0) return -1;
  return double(info.f_bavail) * double(info.f_frsize);
}

}  // namespace

std::unique_ptr<NodeSharedBuffers> NodeSharedBuffers::create(const Communicator& world,
                                                             size_t count, std::string& why_not,
                                                             NodeSharedLayout layout) {
  if (count > size_t(std::numeric_limits<int>::max()))
    throw RunError("NodeSharedBuffers: more than 2^31 parameters");
  const MPI_Comm comm = MPI_Comm_f2c(world.mpi_handle());
  MPI_Comm node;
  check_mpi(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, world.rank(), MPI_INFO_NULL, &node),
            "MPI_Comm_split_type");
  int node_rank = 0, node_size = 1;
  MPI_Comm_rank(node, &node_rank);
  MPI_Comm_size(node, &node_size);
  // Room for the node's windows: one parameter copy, every rank's gradients, the extra region
  // and the bf16 copy (10% spare).
  const double segments = layout.gradient_segments ? double(node_size) : 0.0;
  const size_t extra_floats = layout.extra_floats ? layout.extra_floats(node_size) : 0;
  const double bf16_floats = layout.bf16_parameters ? double(count) / 2 : 0.0;
  const double needed =
      1.1 * sizeof(float) * (double(count) * (segments + 1) + double(extra_floats) + bf16_floats);
  const double free = free_shared_bytes();
  int enough = node_rank != 0 || free < 0 || free >= needed ? 1 : 0;
  int sizes[3] = {node_size, -node_size, enough};  // min, -max and min in one call
  check_mpi(MPI_Allreduce(MPI_IN_PLACE, sizes, 3, MPI_INT, MPI_MIN, comm), "MPI_Allreduce");
  if (sizes[0] != -sizes[1] || sizes[2] == 0) {
    why_not = sizes[0] != -sizes[1]
                  ? "node shared memory needs the same number of ranks on every node"
                  : "node shared memory needs " + std::to_string(int64_t(needed / 1e6)) +
                        " MB of shared memory on each node (/dev/shm, or "
                        "OMPI_MCA_osc_sm_backing_directory) and a node has less";
    MPI_Comm_free(&node);
    return nullptr;
  }
  auto buffers = std::unique_ptr<NodeSharedBuffers>(new NodeSharedBuffers());
  buffers->count_ = count;
  buffers->node_rank_ = node_rank;
  buffers->node_size_ = node_size;
  buffers->nodes_ = world.size() / node_size;
  // The ranks holding the same slice on every node sum it across nodes.
  MPI_Comm cross;
  check_mpi(MPI_Comm_split(comm, node_rank, world.rank(), &cross), "MPI_Comm_split");
  buffers->node_comm_ = MPI_Comm_c2f(node);
  buffers->cross_comm_ = MPI_Comm_c2f(cross);

  const size_t bytes = count * sizeof(float);
  float* base = nullptr;
  MPI_Win parameters = allocate(node, node_rank == 0 ? bytes : 0, &base);
  buffers->parameter_window_ = MPI_Win_c2f(parameters);
  buffers->parameters_ = segment_of(parameters, 0);
  if (layout.gradient_segments) {
    MPI_Win gradients = allocate(node, bytes, &base);
    buffers->gradient_window_ = MPI_Win_c2f(gradients);
    buffers->segments_ = std::make_unique<float*[]>(size_t(node_size));
    for (int r = 0; r < node_size; ++r) buffers->segments_[size_t(r)] = segment_of(gradients, r);
  }
  if (extra_floats > 0) {
    MPI_Win extra = allocate(node, node_rank == 0 ? extra_floats * sizeof(float) : 0, &base);
    buffers->extra_window_ = MPI_Win_c2f(extra);
    buffers->extra_ = segment_of(extra, 0);
    buffers->extra_floats_ = extra_floats;
  }
  if (layout.bf16_parameters) {
    MPI_Win bf16 = allocate(node, node_rank == 0 ? count * sizeof(uint16_t) : 0, &base);
    buffers->bf16_window_ = MPI_Win_c2f(bf16);
    buffers->parameters16_ = reinterpret_cast<uint16_t*>(segment_of(bf16, 0));
  }
  return buffers;
}

int NodeSharedBuffers::ranks_per_node(const Communicator& world) {
  const MPI_Comm comm = MPI_Comm_f2c(world.mpi_handle());
  MPI_Comm node;
  check_mpi(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, world.rank(), MPI_INFO_NULL, &node),
            "MPI_Comm_split_type");
  int size = 1;
  MPI_Comm_size(node, &size);
  MPI_Comm_free(&node);
  check_mpi(MPI_Allreduce(MPI_IN_PLACE, &size, 1, MPI_INT, MPI_MIN, comm), "MPI_Allreduce");
  return size;
}

NodeSharedBuffers::~NodeSharedBuffers() {
  // Freeing is collective: a rank unwinding from an error must not wait in it for ranks that
  // will never come (the job is being aborted), so it leaves the memory to the end of the job.
  if (std::uncaught_exceptions() > 0) return;
  for (int handle : {bf16_window_, extra_window_, gradient_window_, parameter_window_}) {
    if (handle < 0) continue;
    MPI_Win window = MPI_Win_f2c(handle);
    MPI_Win_unlock_all(window);
    MPI_Win_free(&window);
  }
  for (int handle : {cross_comm_, node_comm_}) {
    MPI_Comm comm = MPI_Comm_f2c(handle);
    MPI_Comm_free(&comm);
  }
}

size_t NodeSharedBuffers::slice_begin(int rank) const {
  const size_t lines = (count_ + kLineFloats - 1) / kLineFloats;
  return std::min(count_, lines * size_t(rank) / size_t(node_size_) * kLineFloats);
}

void NodeSharedBuffers::sync() const {
  const int windows[4] = {parameter_window_, gradient_window_, extra_window_, bf16_window_};
  for (int handle : windows)
    if (handle >= 0) MPI_Win_sync(MPI_Win_f2c(handle));
  check_mpi(MPI_Barrier(MPI_Comm_f2c(node_comm_)), "MPI_Barrier");
  for (int handle : windows)
    if (handle >= 0) MPI_Win_sync(MPI_Win_f2c(handle));
}

void NodeSharedBuffers::sum_over_node(size_t begin, size_t end, float* out) const {
  if (!segments_) throw RunError("NodeSharedBuffers::sum_over_node: no gradient segments");
  if (begin < slice_begin() || end > slice_end() || begin > end)
    throw RunError("NodeSharedBuffers::sum_over_node: range outside this rank's slice");
  sum_segments(segments_.get(), node_size_, begin, end, out);
}

void NodeSharedBuffers::sum_over_nodes(std::span<float> values) const {
  if (nodes_ == 1 || values.empty()) return;
  check_mpi(MPI_Allreduce(MPI_IN_PLACE, values.data(), int(values.size()), MPI_FLOAT, MPI_SUM,
                          MPI_Comm_f2c(cross_comm_)),
            "MPI_Allreduce");
}

void NodeSharedBuffers::gather_slices(std::span<float> values, size_t arrays) const {
  const size_t padded = (count_ + kLineFloats - 1) / kLineFloats * kLineFloats;
  if (values.size() != arrays * padded)
    throw RunError("NodeSharedBuffers::gather_slices: wrong size");
  if (values.size() > size_t(std::numeric_limits<int>::max()))
    throw RunError("NodeSharedBuffers::gather_slices: more than 2^31 values");
  const size_t ranks = static_cast<size_t>(node_size_);
  std::vector<int> counts(ranks), offsets(ranks);
  for (int r = 0; r < node_size_; ++r) {
    const size_t begin = arrays * slice_begin(r);
    const size_t end = r + 1 == node_size_ ? values.size() : arrays * slice_begin(r + 1);
    offsets[size_t(r)] = int(begin);
    counts[size_t(r)] = int(end - begin);
  }
  check_mpi(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, values.data(), counts.data(),
                           offsets.data(), MPI_FLOAT, MPI_Comm_f2c(node_comm_)),
            "MPI_Allgatherv");
}

void NodeSharedBuffers::merge_over_node(std::span<float> values) const {
  static_assert(sizeof(float) == sizeof(uint32_t));
  if (values.size() > size_t(std::numeric_limits<int>::max()))
    throw RunError("NodeSharedBuffers::merge_over_node: more than 2^31 values");
  check_mpi(MPI_Allreduce(MPI_IN_PLACE, values.data(), int(values.size()), MPI_UINT32_T, MPI_BOR,
                          MPI_Comm_f2c(node_comm_)),
            "MPI_Allreduce");
}

void NodeSharedBuffers::gather_over_node(std::span<const int64_t> mine,
                                         std::span<int64_t> all) const {
  if (all.size() != size_t(node_size_) * mine.size())
    throw RunError("NodeSharedBuffers::gather_over_node: wrong size");
  check_mpi(MPI_Allgather(mine.data(), int(mine.size()), MPI_INT64_T, all.data(), int(mine.size()),
                          MPI_INT64_T, MPI_Comm_f2c(node_comm_)),
            "MPI_Allgather");
}

}  // namespace aeflow::mpi
