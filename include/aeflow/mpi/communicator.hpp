// The only place in aeflow that calls MPI. A Communicator is a communicator with the few
// collectives training needs; without MPI_Init (unit tests, tools) it behaves as a world of one.
// Copies share one MPI communicator: one that split() made is freed when its last copy goes. A
// Communicator holds no state of an operation (a non-blocking sum's requests are the caller's,
// in a PendingSums), so copies never share work in flight.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace aeflow::mpi {

class PendingSums;

class Communicator {
 public:
  // MPI_COMM_WORLD when MPI is initialized, else a single-process communicator.
  static Communicator world();
  // This process alone (MPI_COMM_SELF), e.g. to compute a single-rank reference inside an MPI job.
  static Communicator self();

  // Collective: the ranks that pass the same COLOR (>= 0) form a communicator of their own,
  // ranked by KEY (ties: by rank here); each rank gets its group's.
  Communicator split(int color, int key) const;
  // Collective: the ranks of this communicator on this rank's node (those that can share
  // memory), ranked as here.
  Communicator split_by_node() const;

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

  // Starts a non-blocking in-place sum (MPI_Iallreduce) whose requests PENDING keeps; VALUES
  // must stay alive and untouched until PENDING.wait(). Lets backward overlap with
  // communication.
  void start_allreduce_sum(std::span<float> values, PendingSums& pending) const;

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
  struct Owner;  // frees a communicator this class made (split), when the last copy goes
  Communicator(int handle, int rank, int size, std::shared_ptr<const Owner> owner = nullptr)
      : owner_(std::move(owner)), handle_(handle), rank_(rank), size_(size) {}
  Communicator adopt(int handle) const;  // a communicator split() made, owned from now on
  bool mpi() const { return handle_ >= 0; }
  std::shared_ptr<const Owner> owner_;  // null for world and self, which MPI owns
  int handle_ = -1;                     // MPI_Comm_c2f handle; -1 without MPI
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace aeflow::mpi
