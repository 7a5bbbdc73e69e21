#include "aeflow/mpi/shared_counter.hpp"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <thread>

#include "mpi_check.hpp"

namespace aeflow::mpi {
namespace {

// Rank 0's window holds three int64: the counter, and a ticket lock's next ticket and the ticket
// now served.
constexpr MPI_Aint kCounter = 0, kNextTicket = 1, kServing = 2, kWords = 3;

// MPI_Fetch_and_op on word WHERE of rank 0's window, in an epoch of its own (so it is complete on
// return): adds VALUE (MPI_SUM), or only reads (MPI_NO_OP); returns the word before.
int64_t fetch_and_op(MPI_Win window, MPI_Aint where, int64_t value, MPI_Op op) {
  int64_t before = 0;
  check_mpi(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, window), "MPI_Win_lock");
  check_mpi(MPI_Fetch_and_op(&value, &before, MPI_INT64_T, 0, where, op, window),
            "MPI_Fetch_and_op");
  check_mpi(MPI_Win_unlock(0, window), "MPI_Win_unlock");
  return before;
}

}  // namespace

SharedCounter::SharedCounter(const Communicator& comm) : comm_(comm) {
  if (comm.mpi_handle() < 0) return;
  MPI_Win window;
  void* base = nullptr;
  const MPI_Aint bytes = comm.is_root() ? MPI_Aint(kWords * sizeof(int64_t)) : 0;
  check_mpi(MPI_Win_allocate(bytes, sizeof(int64_t), MPI_INFO_NULL, MPI_Comm_f2c(comm.mpi_handle()),
                             &base, &window),
            "MPI_Win_allocate");
  window_ = MPI_Win_c2f(window);
  if (comm.is_root()) {
    value_ = static_cast<int64_t*>(base);
    // (the window's own memory, written before any rank can reach it: the barrier below)
    MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, window);
    std::fill_n(value_, kWords, int64_t(0));
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
  return fetch_and_op(MPI_Win_f2c(window_), kCounter, value, MPI_SUM);
}

// A ticket lock built of MPI_Fetch_and_op alone, not MPI_Win_lock(MPI_LOCK_EXCLUSIVE): MPI lets
// an implementation take a window lock only when the epoch's first RMA call reaches the target
// (OpenMPI's osc/pt2pt does), so an exclusive epoch with no RMA call in it excludes nothing; and
// OpenMPI 4.1's emulated compare-and-swap over shared memory (osc/rdma on btl/vader) crashed.
void SharedCounter::exclusively(const std::function<void()>& work) {
  if (window_ < 0) return work();
  MPI_Win window = MPI_Win_f2c(window_);
  const int64_t ticket = fetch_and_op(window, kNextTicket, 1, MPI_SUM);
  for (auto wait = std::chrono::microseconds(20);
       fetch_and_op(window, kServing, 0, MPI_NO_OP) != ticket;
       wait = std::min(2 * wait, std::chrono::microseconds(5000)))
    std::this_thread::sleep_for(wait);
  try {
    work();
  } catch (...) {
    fetch_and_op(window, kServing, 1, MPI_SUM);
    throw;
  }
  fetch_and_op(window, kServing, 1, MPI_SUM);
}

void SharedCounter::progress() const {
  if (window_ < 0) return;
  int flag = 0;
  MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_Comm_f2c(comm_.mpi_handle()), &flag,
             MPI_STATUS_IGNORE);
}

}  // namespace aeflow::mpi
