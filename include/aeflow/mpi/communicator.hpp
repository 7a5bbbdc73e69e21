// The only place in aeflow that calls MPI. A Communicator is a communicator with the few
// collectives training needs; without MPI_Init (unit tests, tools) it behaves as a world of one.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace aeflow::mpi {

class Communicator {
 public:
  // MPI_COMM_WORLD when MPI is initialized, else a single-process communicator.
  static Communicator world();
  // This process alone (MPI_COMM_SELF), e.g. to compute a single-rank reference inside an MPI job.
  static Communicator self();

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool is_root() const { return rank_ == 0; }

  // In-place sums across ranks.
  void allreduce_sum(std::span<float> values) const;
  void allreduce_sum(std::span<double> values) const;
  double allreduce_sum(double value) const;
  double allreduce_max(double value) const;
  // True on every rank if it is true on any.
  bool any(bool flag) const;

  // Starts a non-blocking in-place sum (MPI_Iallreduce); the span must stay alive and untouched
  // until wait_all(). Lets backward overlap with communication.
  void start_allreduce_sum(std::span<float> values);
  // Drives progress on the started reductions without blocking (MPI only progresses inside
  // MPI calls unless it has a progress thread).
  void progress();
  void wait_all();

  // True on every rank if VALUE is the same on all ranks.
  bool same_everywhere(uint64_t value) const;

  void broadcast(std::span<float> values, int root = 0) const;
  void broadcast(std::span<double> values, int root = 0) const;
  void broadcast(std::string& text, int root = 0) const;
  void barrier() const;

  // The MPI communicator as a Fortran handle (MPI_Comm_c2f), or -1 without MPI: for the one
  // other library that needs it, parallel HDF5 (io opens files with MPI-IO on it).
  int mpi_handle() const { return handle_; }

  // Ends every rank of the job with CODE (a failed rank must never leave others hanging).
  [[noreturn]] void abort(int code) const;

 private:
  Communicator(int handle, int rank, int size) : handle_(handle), rank_(rank), size_(size) {}
  bool mpi() const { return handle_ >= 0; }
  int handle_ = -1;           // MPI_Comm_c2f handle; -1 without MPI
  std::vector<int> pending_;  // MPI_Request_c2f handles of started reductions
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace aeflow::mpi
