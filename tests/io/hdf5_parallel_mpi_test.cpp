// Parallel HDF5 through the io layer (ctest runs it under mpiexec -n 1, 2 and 4): every rank
// writes its own rows of one file collectively, compressed datasets included, in rounds where
// some ranks have nothing to write; rank 0 then reads the file serially and finds every value.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "aeflow/io/hdf5.hpp"
#include "aeflow/mpi/communicator.hpp"
#include "test_support.hpp"

namespace aeflow::io::h5 {
namespace {

// A temporary directory with the same path on every rank.
std::string shared_temp_dir(const mpi::Communicator& world, const std::string& tag) {
  std::string dir = world.is_root() ? test::make_temp_dir(tag) : std::string();
  world.broadcast(dir);
  return dir;
}

float value_at(size_t row, size_t col) {
  return float(row) * 0.5f + float(col) / 8.0f;
}

// Rows [N r / P, N (r + 1) / P) per rank, written ROUND rows at a time: ranks with fewer rounds
// pass count 0 in the rest, as collective writes need.
void write_slices(Dataset& dataset, size_t n, size_t width, size_t round,
                  const mpi::Communicator& world) {
  const size_t p = size_t(world.size()), r = size_t(world.rank());
  const size_t begin = n * r / p, end = n * (r + 1) / p;
  const size_t most = (n + p - 1) / p;  // rows of the largest slice
  const size_t rounds = (most + round - 1) / round;
  for (size_t t = 0; t < rounds; ++t) {
    const size_t first = std::min(end, begin + t * round);
    const size_t count = std::min(end - first, round);
    std::vector<float> rows(count * width);
    for (size_t i = 0; i < count; ++i)
      for (size_t c = 0; c < width; ++c) rows[i * width + c] = value_at(first + i, c);
    dataset.write_rows<float>(first, count, rows);
  }
}

TEST(Hdf5Parallel, RanksWriteTheirRowsOfCompressedAndPlainDatasetsCollectively) {
  const mpi::Communicator world = mpi::Communicator::world();
  const std::string path = shared_temp_dir(world, "h5par") + "/rows.h5";
  constexpr size_t kRows = 1003, kWidth = 7;
  {
    File file = File::create(path, CreateMode::kExclusive, world);
    EXPECT_EQ(file.parallel(), world.mpi_handle() >= 0);
    file.set_string_attribute("format", "test");
    {  // a parallel file closes only once every object in it is closed
      Group group = file.create_group("split");
      Dataset packed = group.create_dataset("packed", DType::kFloat32, {kRows, kWidth},
                                            {{128, kWidth}, 4, true});
      Dataset plain =
          group.create_dataset("plain", DType::kFloat32, {kRows, kWidth}, {{128, kWidth}});
      write_slices(packed, kRows, kWidth, 100, world);
      write_slices(plain, kRows, kWidth, 37, world);
      // Rank 0 writes every row, the others nothing.
      Dataset index = group.create_dataset("index", DType::kUint64, {kRows}, {{256}, 1, false});
      std::vector<uint64_t> all(world.is_root() ? kRows : 0);
      for (size_t i = 0; i < all.size(); ++i) all[i] = i * 3;
      index.write_rows<uint64_t>(0, all.size(), all);
    }
    file.close();
  }
  world.barrier();
  if (world.is_root()) {
    const File file = File::open(path);
    EXPECT_FALSE(file.parallel());
    EXPECT_EQ(file.string_attribute("format"), "test");
    for (const char* name : {"split/packed", "split/plain"}) {
      std::vector<size_t> shape;
      const std::vector<float> values = file.read_dataset<float>(name, &shape);
      ASSERT_EQ(shape, (std::vector<size_t>{kRows, kWidth})) << name;
      size_t wrong = 0;
      for (size_t i = 0; i < kRows; ++i)
        for (size_t c = 0; c < kWidth; ++c) wrong += values[i * kWidth + c] != value_at(i, c);
      EXPECT_EQ(wrong, 0u) << name;
    }
    const DatasetInfo packed = file.open_dataset("split/packed").info();
    EXPECT_EQ(packed.filters, (std::vector<std::string>{"shuffle", "deflate(4)"}));
    EXPECT_LT(packed.storage_bytes, kRows * kWidth * sizeof(float));
    const std::vector<uint64_t> index = file.read_dataset<uint64_t>("split/index");
    ASSERT_EQ(index.size(), kRows);
    for (size_t i = 0; i < kRows; ++i) ASSERT_EQ(index[i], i * 3);
    // Reading rows back serially, across chunk boundaries.
    const Dataset plain = file.open_dataset("split/plain", size_t(1) << 20);
    std::vector<float> rows(5 * kWidth);
    plain.read_rows<float>(126, 5, rows);
    EXPECT_EQ(rows[0], value_at(126, 0));
    EXPECT_EQ(rows[4 * kWidth + 6], value_at(130, 6));
  }
  world.barrier();
  if (world.is_root()) std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

TEST(Hdf5Parallel, RowsOutOfRangeAreRefusedBeforeAnyTransfer) {
  const mpi::Communicator self = mpi::Communicator::self();
  const mpi::Communicator world = mpi::Communicator::world();
  if (!world.is_root()) return;
  const std::string path = test::make_temp_dir("h5par") + "/range.h5";
  File file = File::create(path, CreateMode::kExclusive, self);
  {
    Dataset dataset = file.create_dataset("d", DType::kUint8, {10, 3}, {{4, 3}});
    std::vector<uint8_t> rows(6);
    EXPECT_THROW(dataset.write_rows<uint8_t>(9, 2, rows), Hdf5Error);
    EXPECT_THROW(dataset.write_rows<uint8_t>(0, 3, rows), Hdf5Error);  // 6 values, 3 rows of 3
    dataset.write_rows<uint8_t>(8, 2, rows);
  }
  file.close();
}

}  // namespace
}  // namespace aeflow::io::h5
