// A data set far larger than the memory aeflow may use for it: a million 28x28 images (784 MB)
// are generated straight to an IDX file, ingested into HDF5 and encoded on 2 MPI ranks, and the
// peak resident memory of every process involved stays under a quarter of the input's size.
// Slow (tens of seconds, ~1.7 GB of temporary disk): ctest labels it "slow"; it skips itself
// when the temporary directory has less than 3 GB free.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "aeflow/data/batch.hpp"
#include "aeflow/data/idx.hpp"
#include "aeflow/eval/load_model.hpp"
#include "aeflow/infer/encode.hpp"
#include "aeflow/io/hdf5.hpp"
#include "test_support.hpp"

namespace aeflow {
namespace {

namespace fs = std::filesystem;

constexpr uint32_t kImages = 1'000'000, kSide = 28, kPixels = kSide * kSide;
constexpr uint32_t kBase = 1000;  // distinct synthetic images, cycled

struct Measured {
  int exit_code = -1;
  std::string output;
  double peak_rss_mb = 0;  // the largest of the command's processes, descendants included
  double seconds = 0;
};

// Runs COMMAND with /bin/sh and measures the peak resident memory of its process tree: wait4's
// ru_maxrss is the largest of the child's own and of every descendant it waited for (mpiexec
// waits for its ranks).
Measured run_measured(const std::string& command) {
  Measured result;
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    close(fds[0]);
    close(fds[1]);
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  char buffer[4096];
  ssize_t n;
  while ((n = read(fds[0], buffer, sizeof buffer)) > 0) result.output.append(buffer, size_t(n));
  close(fds[0]);
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.peak_rss_mb = double(usage.ru_maxrss) / 1024.0;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

void put_u32(FILE* file, uint32_t v) {
  const uint8_t bytes[4] = {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
  std::fwrite(bytes, 1, 4, file);
}

// Image i is base image i mod 1000 with its first pixel set to i mod 251: streamed to the IDX
// files a thousand at a time.
void write_million(const std::string& images_path, const std::string& labels_path) {
  std::vector<uint8_t> base, base_labels;
  test::synthetic_images(kBase, kSide, kSide, 3, base, base_labels);
  std::unique_ptr<FILE, int (*)(FILE*)> images(std::fopen(images_path.c_str(), "wb"), &std::fclose);
  std::unique_ptr<FILE, int (*)(FILE*)> labels(std::fopen(labels_path.c_str(), "wb"), &std::fclose);
  ASSERT_TRUE(images && labels);
  put_u32(images.get(), 0x803);
  put_u32(images.get(), kImages);
  put_u32(images.get(), kSide);
  put_u32(images.get(), kSide);
  put_u32(labels.get(), 0x801);
  put_u32(labels.get(), kImages);
  std::vector<uint8_t> block = base;
  for (uint32_t first = 0; first < kImages; first += kBase) {
    for (uint32_t i = 0; i < kBase; ++i) block[size_t(i) * kPixels] = uint8_t((first + i) % 251);
    ASSERT_EQ(std::fwrite(block.data(), 1, block.size(), images.get()), block.size());
    ASSERT_EQ(std::fwrite(base_labels.data(), 1, kBase, labels.get()), size_t(kBase));
  }
}

TEST(EncodeMillion, AMillionImagesEncodeOnTwoRanksInAQuarterOfTheirSize) {
  const std::string root = test::make_temp_dir("million");
  // 1.7 GB: removed however the test ends.
  struct RemoveAll {
    std::string path;
    ~RemoveAll() {
      std::error_code ignored;
      fs::remove_all(path, ignored);
    }
  } const cleanup{root};
  if (fs::space(root).available < (uintmax_t(3) << 30))
    GTEST_SKIP() << "needs 3 GB free in " << root;
  const std::string images = root + "/images-idx3-ubyte", labels = root + "/labels-idx1-ubyte";
  auto start = std::chrono::steady_clock::now();
  write_million(images, labels);
  const double input_mb = double(kImages) * kPixels / 1e6;
  std::printf("generated %.0f MB of IDX images in %.1f s\n", input_mb,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  test::write_initialized_checkpoint(root + "/model.h5", {784, 16}, 3);

  const Measured ingest = run_measured(test::aeflow_binary() + " ingest --images " + images +
                                       " --labels " + labels + " --out " + root + "/images.h5");
  ASSERT_EQ(ingest.exit_code, 0) << ingest.output;
  std::printf("ingest: %.1f s, peak RSS %.0f MB\n", ingest.seconds, ingest.peak_rss_mb);
  fs::remove(images);  // from here on only the HDF5 copy is read

  const Measured encode = run_measured("mpiexec -n 2 --oversubscribe " + test::aeflow_binary() +
                                       " encode --checkpoint " + root + "/model.h5 --data " + root +
                                       "/images.h5 --splits million --out " + root + "/encoded.h5");
  ASSERT_EQ(encode.exit_code, 0) << encode.output;
  std::printf("encode on 2 ranks: %.1f s, peak RSS %.0f MB\n%s", encode.seconds, encode.peak_rss_mb,
              encode.output.c_str());
#if !defined(__SANITIZE_ADDRESS__)  // (under AddressSanitizer both peaked at 344-351 MB)
  EXPECT_LT(ingest.peak_rss_mb, 0.25 * input_mb);
  EXPECT_LT(encode.peak_rss_mb, 0.25 * input_mb);
#endif

  // Every label and index; the first and the last block of latents bit for bit.
  const io::h5::File file = io::h5::File::open(root + "/encoded.h5");
  std::vector<size_t> shape;
  const std::vector<uint8_t> stored_labels = file.read_dataset<uint8_t>("million/label", &shape);
  ASSERT_EQ(shape, std::vector<size_t>{kImages});
  const std::vector<uint8_t> source_labels = test::read_file(labels);
  EXPECT_TRUE(std::equal(stored_labels.begin(), stored_labels.end(), source_labels.begin() + 8));
  const io::h5::Dataset index = file.open_dataset("million/index");
  std::vector<uint64_t> last(1);
  index.read_rows<uint64_t>(kImages - 1, 1, last);
  EXPECT_EQ(last[0], kImages - 1);
  const io::h5::Dataset latent = file.open_dataset("million/latent");
  EXPECT_EQ(latent.info().shape, (std::vector<size_t>{kImages, 16}));
  eval::LoadedModel model = eval::load_model(root + "/model.h5");
  const io::h5::File ingested = io::h5::File::open(root + "/images.h5");
  const io::h5::Dataset pixels = ingested.open_dataset("images");
  for (size_t first : {size_t(0), size_t(kImages) - kImages % infer::kEncodeBlockRows}) {
    const size_t count = std::min<size_t>(infer::kEncodeBlockRows, kImages - first);
    std::vector<uint8_t> raw(count * kPixels);
    pixels.read_rows<uint8_t>(first, count, raw);
    std::vector<float> input(raw.size()), expected(count * 16), stored(count * 16);
    data::scale_pixels(raw.data(), raw.size(), input.data());
    model.network->encode(input.data(), int(count), expected.data());
    latent.read_rows<float>(first, count, stored);
    EXPECT_EQ(std::memcmp(stored.data(), expected.data(), stored.size() * sizeof(float)), 0)
        << "rows from " << first;
  }
}

}  // namespace
}  // namespace aeflow
