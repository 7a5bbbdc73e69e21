#include "aeflow/mpi/communicator.hpp"

#include <mpi.h>

#include <cstdlib>
#include <limits>
#include <memory>
#include <string>

#include "aeflow/base/error.hpp"
#include "aeflow/mpi/pending_sums.hpp"
#include "mpi_check.hpp"

namespace aeflow::mpi {
namespace {

MPI_Comm as_mpi(int handle) {
  return MPI_Comm_f2c(handle);
}

// MPI counts are int; split large buffers so a 600M-parameter model still reduces.
constexpr size_t kMaxChunk = size_t(std::numeric_limits<int>::max() / 2);

// In-place sum (ROOT < 0) or broadcast from ROOT of COUNT elements of TYPE (SIZE bytes each) at
// DATA, in pieces whose counts fit MPI's int.
void in_chunks(void* data, size_t count, MPI_Datatype type, size_t size, int root, MPI_Comm comm) {
  for (size_t begin = 0; begin < count; begin += kMaxChunk) {
    const int n = int(std::min(kMaxChunk, count - begin));
    void* piece = static_cast<char*>(data) + begin * size;
    if (root < 0)
      check_mpi(MPI_Allreduce(MPI_IN_PLACE, piece, n, type, MPI_SUM, comm), "MPI_Allreduce");
    else
      check_mpi(MPI_Bcast(piece, n, type, root, comm), "MPI_Bcast");
  }
}

}  // namespace

Communicator Communicator::world() {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (!initialized || finalized) return Communicator(-1, 0, 1);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return Communicator(MPI_Comm_c2f(MPI_COMM_WORLD), rank, size);
}

// Frees the communicator when the last Communicator holding it goes, unless MPI has ended
// (then MPI_Finalize has freed it).
struct Communicator::Owner {
  explicit Owner(int handle) : handle(handle) {}
  Owner(const Owner&) = delete;
  Owner& operator=(const Owner&) = delete;
  ~Owner() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized) return;
    MPI_Comm comm = as_mpi(handle);
    MPI_Comm_free(&comm);
  }
  int handle;
};

Communicator Communicator::adopt(int handle) const {
  MPI_Comm comm = as_mpi(handle);
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  return Communicator(handle, rank, size, std::make_shared<const Owner>(handle));
}

Communicator Communicator::split(int color, int key) const {
  if (color < 0) throw RunError("Communicator::split: color " + std::to_string(color) + " < 0");
  if (!mpi()) return *this;
  MPI_Comm group;
  check_mpi(MPI_Comm_split(as_mpi(handle_), color, key, &group), "MPI_Comm_split");
  return adopt(MPI_Comm_c2f(group));
}

Communicator Communicator::split_by_node() const {
  if (!mpi()) return *this;
  MPI_Comm node;
  check_mpi(MPI_Comm_split_type(as_mpi(handle_), MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node),
            "MPI_Comm_split_type");
  return adopt(MPI_Comm_c2f(node));
}

Communicator Communicator::self() {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (!initialized || finalized) return Communicator(-1, 0, 1);
  return Communicator(MPI_Comm_c2f(MPI_COMM_SELF), 0, 1);
}

void Communicator::allreduce_sum(std::span<float> values) const {
  if (!mpi() || size_ == 1) return;
  in_chunks(values.data(), values.size(), MPI_FLOAT, sizeof(float), -1, as_mpi(handle_));
}

void Communicator::allreduce_sum(std::span<double> values) const {
  if (!mpi() || size_ == 1) return;
  in_chunks(values.data(), values.size(), MPI_DOUBLE, sizeof(double), -1, as_mpi(handle_));
}

double Communicator::allreduce_sum(double value) const {
  allreduce_sum(std::span<double>(&value, 1));
  return value;
}

double Communicator::allreduce_max(double value) const {
  if (!mpi() || size_ == 1) return value;
  check_mpi(MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_DOUBLE, MPI_MAX, as_mpi(handle_)),
            "MPI_Allreduce");
  return value;
}

bool Communicator::any(bool flag) const {
  if (!mpi() || size_ == 1) return flag;
  int value = flag ? 1 : 0;
  check_mpi(MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_INT, MPI_LOR, as_mpi(handle_)),
            "MPI_Allreduce");
  return value != 0;
}

void Communicator::start_allreduce_sum(std::span<float> values, PendingSums& pending) const {
  if (!mpi() || size_ == 1 || values.empty()) return;
  for (size_t begin = 0; begin < values.size(); begin += kMaxChunk) {
    const int count = int(std::min(kMaxChunk, values.size() - begin));
    MPI_Request request;
    check_mpi(MPI_Iallreduce(MPI_IN_PLACE, values.data() + begin, count, MPI_FLOAT, MPI_SUM,
                             as_mpi(handle_), &request),
              "MPI_Iallreduce");
    pending.requests_.push_back(MPI_Request_c2f(request));
  }
}

void PendingSums::progress() {
  if (requests_.empty()) return;
  std::vector<MPI_Request> requests;
  for (int handle : requests_) requests.push_back(MPI_Request_f2c(handle));
  int done = 0;
  check_mpi(MPI_Testall(int(requests.size()), requests.data(), &done, MPI_STATUSES_IGNORE),
            "MPI_Testall");
  if (done)
    requests_.clear();
  else
    for (size_t i = 0; i < requests.size(); ++i) requests_[i] = MPI_Request_c2f(requests[i]);
}

void PendingSums::wait() {
  if (requests_.empty()) return;
  std::vector<MPI_Request> requests;
  for (int handle : requests_) requests.push_back(MPI_Request_f2c(handle));
  requests_.clear();
  check_mpi(MPI_Waitall(int(requests.size()), requests.data(), MPI_STATUSES_IGNORE), "MPI_Waitall");
}

bool Communicator::same_everywhere(uint64_t value) const {
  if (!mpi() || size_ == 1) return true;
  uint64_t low = value, high = value;
  check_mpi(MPI_Allreduce(MPI_IN_PLACE, &low, 1, MPI_UINT64_T, MPI_MIN, as_mpi(handle_)),
            "MPI_Allreduce");
  check_mpi(MPI_Allreduce(MPI_IN_PLACE, &high, 1, MPI_UINT64_T, MPI_MAX, as_mpi(handle_)),
            "MPI_Allreduce");
  return low == high;
}

void Communicator::broadcast(std::span<float> values, int root) const {
  if (!mpi() || size_ == 1) return;
  in_chunks(values.data(), values.size(), MPI_FLOAT, sizeof(float), root, as_mpi(handle_));
}

void Communicator::broadcast(std::span<double> values, int root) const {
  if (!mpi() || size_ == 1) return;
  in_chunks(values.data(), values.size(), MPI_DOUBLE, sizeof(double), root, as_mpi(handle_));
}

void Communicator::broadcast(std::string& text, int root) const {
  if (!mpi() || size_ == 1) return;
  uint64_t length = text.size();
  check_mpi(MPI_Bcast(&length, 1, MPI_UINT64_T, root, as_mpi(handle_)), "MPI_Bcast");
  text.resize(length);
  in_chunks(text.data(), length, MPI_CHAR, 1, root, as_mpi(handle_));
}

void Communicator::barrier() const {
  if (mpi() && size_ > 1) check_mpi(MPI_Barrier(as_mpi(handle_)), "MPI_Barrier");
}

void Communicator::abort(int code) const {
  if (mpi() && size_ > 1) MPI_Abort(as_mpi(handle_), code);
  std::exit(code);
}

}  // namespace aeflow::mpi
