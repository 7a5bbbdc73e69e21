#include "aeflow/mpi/shared_counter.hpp"

#include <mpi.h>

#include <exception>

#include "mpi_check.hpp"

namespace aeflow::mpi {

SharedCounter::SharedCounter(const Communicator& comm) : comm_(comm) {
  if (comm.mpi_handle() < 0) return;
  MPI_Win window;
  void* base = nullptr;
  const MPI_Aint bytes = comm.is_root() ? MPI_Aint(sizeof(int64_t)) : 0;
  check_mpi(MPI_Win_allocate(bytes, sizeof(int64_t), MPI_INFO_NULL, MPI_Comm_f2c(comm.mpi_handle()),
                             &base, &window),
            "MPI_Win_allocate");
  window_ = MPI_Win_c2f(window);
  if (comm.is_root()) {
    value_ = static_cast<int64_t*>(base);
    // (the window's own memory, written before any rank can reach it: the barrier below)
    MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, window);
    *value_ = 0;
    MPI_Win_unlock(0, window);
  }
  comm.barrier();
}

SharedCounter::~SharedCounter() {
  if (window_ < 0 || std::uncaught_exceptions() > 0) return;
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  MPI_Win window = MPI_Win_f2c(window_);
  MPI_Win_free(&window);
}

int64_t SharedCounter::fetch_add(int64_t value) {
  if (window_ < 0) {
    const int64_t before = local_;
    local_ += value;
    return before;
  }
  MPI_Win window = MPI_Win_f2c(window_);
  int64_t before = 0;
  check_mpi(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, window), "MPI_Win_lock");
  check_mpi(MPI_Fetch_and_op(&value, &before, MPI_INT64_T, 0, 0, MPI_SUM, window),
            "MPI_Fetch_and_op");
  check_mpi(MPI_Win_unlock(0, window), "MPI_Win_unlock");
  return before;
}

void SharedCounter::exclusively(const std::function<void()>& work) {
  if (window_ < 0) return work();
  MPI_Win window = MPI_Win_f2c(window_);
  check_mpi(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, window), "MPI_Win_lock");
  try {
    work();
  } catch (...) {
    MPI_Win_unlock(0, window);
    throw;
  }
  check_mpi(MPI_Win_unlock(0, window), "MPI_Win_unlock");
}

}  // namespace aeflow::mpi
