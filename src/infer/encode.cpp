// Bulk encoding (see encode.hpp): input rows read a piece at a time from IDX or ingested HDF5,
// encoded in globally aligned blocks, written collectively. Memory per rank: one piece of pixels,
// one block of floats, one piece of codes, and the network.
#include "aeflow/infer/encode.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include "aeflow/base/error.hpp"
#include "aeflow/base/progress_line.hpp"
#include "aeflow/data/batch.hpp"
#include "aeflow/data/dataset.hpp"
#include "aeflow/data/idx.hpp"
#include "aeflow/data/md5.hpp"
#include "aeflow/eval/load_model.hpp"
#include "aeflow/io/encoded_writer.hpp"
#include "aeflow/io/file_header.hpp"  // utc_now_iso8601
#include "aeflow/io/hdf5.hpp"
#include "aeflow/io/images_file.hpp"

namespace aeflow::infer {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Where a split's rows come from: a pair of IDX files, or an ingested HDF5 file.
class RowSource {
 public:
  virtual ~RowSource() = default;
  // Images [first, first + count) into PIXELS, their labels into LABELS (when has_labels).
  virtual void read(size_t first, size_t count, uint8_t* pixels, uint8_t* labels) = 0;

  std::string name;  // the split
  size_t count = 0, rows = 0, cols = 0;
  bool has_labels = false;
  std::string images, labels;  // the files read
};

class IdxSource : public RowSource {
 public:
  IdxSource(std::string split, const std::string& images_path, const std::string& labels_path)
      : images_reader_(images_path, 3) {
    name = std::move(split);
    images = images_path;
    count = images_reader_.count();
    rows = images_reader_.dims()[1];
    cols = images_reader_.dims()[2];
    if (!labels_path.empty()) {
      labels_reader_.emplace(labels_path, 1);
      if (labels_reader_->count() != count)
        throw InputError(labels_path + ": labels file has " +
                         std::to_string(labels_reader_->count()) + " labels for " +
                         std::to_string(count) + " images in " + images_path);
      has_labels = true;
      labels = labels_path;
    }
  }
  void read(size_t first, size_t n, uint8_t* pixels, uint8_t* classes) override {
    images_reader_.read_rows(first, n, pixels);
    if (labels_reader_) labels_reader_->read_rows(first, n, classes);
  }

 private:
  data::IdxReader images_reader_;
  std::optional<data::IdxReader> labels_reader_;
};

class Hdf5Source : public RowSource {
 public:
  Hdf5Source(std::string split, const std::string& path) : reader_(path) {
    name = std::move(split);
    images = labels = path;
    count = reader_.count();
    rows = reader_.rows();
    cols = reader_.cols();
    has_labels = reader_.has_labels();
  }
  void read(size_t first, size_t n, uint8_t* pixels, uint8_t* classes) override {
    reader_.read(first, n, pixels, classes);
  }

 private:
  io::ImagesReader reader_;
};

// The labels file that goes with an IDX images file by MNIST's naming (x-images-idx3-ubyte[.gz]
// and x-labels-idx1-ubyte[.gz]), or "" when there is none.
std::string sibling_labels(const std::string& images_path) {
  const std::string from = "-images-idx3-ubyte", to = "-labels-idx1-ubyte";
  const size_t at = images_path.rfind(from);
  if (at == std::string::npos) return "";
  const std::string stem = images_path.substr(0, at) + to;
  std::error_code error;
  for (const std::string& candidate : {stem, stem + ".gz"})
    if (std::filesystem::is_regular_file(candidate, error)) return candidate;
  return "";
}

std::vector<std::unique_ptr<RowSource>> open_sources(const EncodeConfig& config) {
  std::vector<std::unique_ptr<RowSource>> sources;
  std::error_code error;
  if (std::filesystem::is_directory(config.data, error)) {
    const std::vector<std::string> splits =
        config.splits.empty() ? std::vector<std::string>{"train", "test"} : config.splits;
    for (const std::string& split : splits) {
      if (split != "train" && split != "test")
        throw InputError("--splits '" + split +
                         "': a data directory has the splits train and test");
      for (const auto& source : sources)
        if (source->name == split) throw InputError("--splits names '" + split + "' twice");
      const data::SplitFiles files = data::find_split_files(
          config.data, split == "train" ? data::Split::kTrain : data::Split::kTest);
      sources.push_back(std::make_unique<IdxSource>(split, files.images, files.labels));
    }
    return sources;
  }
  if (config.splits.size() > 1)
    throw InputError("--data " + config.data + " is one file, one split: give --splits one name");
  const std::string name = config.splits.empty() ? "data" : config.splits[0];
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
    throw InputError("--splits '" + name + "': not a usable group name");
  if (io::h5::is_hdf5_file(config.data))
    sources.push_back(std::make_unique<Hdf5Source>(name, config.data));
  else
    sources.push_back(std::make_unique<IdxSource>(name, config.data, sibling_labels(config.data)));
  return sources;
}

// MD5 sums of PATHS, each computed by one rank (round robin) and shared with all.
std::vector<std::string> shared_md5(const std::vector<std::string>& paths,
                                    const mpi::Communicator& comm) {
  std::vector<std::string> sums(paths.size());
  for (size_t i = 0; i < paths.size(); ++i)
    if (int(i % size_t(comm.size())) == comm.rank()) sums[i] = data::file_md5(paths[i]);
  for (size_t i = 0; i < paths.size(); ++i) comm.broadcast(sums[i], int(i % size_t(comm.size())));
  return sums;
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return double(usage.ru_maxrss) / 1024.0;  // kilobytes on Linux
}

std::string fixed(double value, int digits) {
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", digits, value);
  return text;
}

// Encodes SOURCE's rows of this rank into the writer's current split (see encode.hpp).
// PROGRESS shows rank 0's rounds (every rank has as many, give or take one).
EncodeSplitStats encode_split(RowSource& source, model::Network& network, size_t piece_rows,
                              io::EncodedWriter& writer, const mpi::Communicator& comm,
                              ProgressLine& progress) {
  EncodeSplitStats stats;
  stats.name = source.name;
  stats.count = source.count;
  const size_t n = source.count, width = source.rows * source.cols;
  const size_t k = size_t(network.spec().code_width());
  const size_t p = size_t(comm.size()), r = size_t(comm.rank());
  const size_t pieces = (n + piece_rows - 1) / piece_rows;
  const size_t first_piece = pieces * r / p, end_piece = pieces * (r + 1) / p;
  const size_t rounds = (pieces + p - 1) / p;  // the most pieces any rank has

  std::vector<uint8_t> pixels(piece_rows * width), labels(piece_rows);
  std::vector<float> block(kEncodeBlockRows * width), latent(piece_rows * k);
  std::vector<uint64_t> index(piece_rows);
  for (size_t round = 0; round < rounds; ++round) {
    const size_t piece = first_piece + round;
    size_t first = 0, count = 0;
    if (piece < end_piece) {
      first = piece * piece_rows;
      count = std::min(piece_rows, n - first);
      auto start = Clock::now();
      source.read(first, count, pixels.data(), labels.data());
      stats.read_seconds += since(start);
      start = Clock::now();
      for (size_t b = 0; b < count; b += kEncodeBlockRows) {
        const size_t m = std::min(kEncodeBlockRows, count - b);
        data::scale_pixels(pixels.data() + b * width, m * width, block.data());
        network.encode(block.data(), int(m), latent.data() + b * k);
      }
      for (size_t i = 0; i < count; ++i) index[i] = first + i;
      stats.encode_seconds += since(start);
    }
    const auto start = Clock::now();
    writer.write_rows(first, count, {latent.data(), count * k}, {labels.data(), count},
                      {index.data(), count});
    stats.write_seconds += since(start);
    if (progress.due())
      progress.show("encoding " + source.name + ": " + std::to_string((round + 1) * 100 / rounds) +
                    "% of " + std::to_string(n) + " images");
  }
  progress.clear();
  return stats;
}

}  // namespace

EncodeResult run_encode(const EncodeConfig& config, const mpi::Communicator& comm,
                        std::ostream& log) {
  const auto start = Clock::now();
  if (config.chunk_rows == 0 || config.chunk_rows > kMaxChunkRows)
    throw InputError("--chunk " + std::to_string(config.chunk_rows) + ": must be 1 to " +
                     std::to_string(kMaxChunkRows) + " rows");
  if (config.deflate < 0 || config.deflate > 9)
    throw InputError("--deflate " + std::to_string(config.deflate) + ": must be 0 (none) to 9");
  std::error_code error;
  if (!config.force && std::filesystem::exists(config.out, error))
    throw InputError(config.out + " exists; pass --force to overwrite");
  const std::filesystem::path out_dir = std::filesystem::path(config.out).parent_path();
  if (!out_dir.empty() && !std::filesystem::is_directory(out_dir, error))
    throw InputError("--out " + config.out + ": no such directory " + out_dir.string());

  // Every rank reads the checkpoint and the data headers: bad input fails all ranks alike.
  eval::LoadedModel loaded = eval::load_model(config.checkpoint);
  model::Network& network = *loaded.network;
  const model::ModelSpec& spec = network.spec();
  std::vector<std::unique_ptr<RowSource>> sources = open_sources(config);
  for (const auto& source : sources) {
    const size_t width = source->rows * source->cols;
    if (width != size_t(spec.input_width()))
      throw InputError(config.checkpoint + ": the model's input is " +
                       std::to_string(spec.input_width()) + " values wide (encoder " +
                       spec.describe() + "), but the images of " + source->images + " are " +
                       std::to_string(source->rows) + "x" + std::to_string(source->cols) + " = " +
                       std::to_string(width) + " pixels");
  }

  std::vector<std::string> files{config.checkpoint};
  for (const auto& source : sources) {
    files.push_back(source->images);
    if (source->has_labels && source->labels != source->images) files.push_back(source->labels);
  }
  const std::vector<std::string> md5 = shared_md5(files, comm);
  auto md5_of = [&](const std::string& path) {
    return md5[size_t(std::find(files.begin(), files.end(), path) - files.begin())];
  };

  io::EncodedHeader header;
  header.config_ini = loaded.checkpoint.config_ini;
  header.created = comm.is_root() ? io::utc_now_iso8601() : std::string();
  comm.broadcast(header.created);
  header.checkpoint = config.checkpoint;
  header.checkpoint_md5 = md5[0];
  header.data = config.data;
  header.encoder.assign(spec.encoder.begin(), spec.encoder.end());
  const size_t piece_rows =
      (config.chunk_rows + kEncodeBlockRows - 1) / kEncodeBlockRows * kEncodeBlockRows;
  header.chunk_rows = piece_rows;
  header.block_rows = kEncodeBlockRows;
  header.deflate = config.deflate;

  EncodeResult result;
  io::EncodedWriter writer(config.out, config.force, header, comm);
  for (const auto& source : sources) {
    io::EncodedSplit split;
    split.name = source->name;
    split.count = source->count;
    split.code_width = size_t(spec.code_width());
    split.rows = source->rows;
    split.cols = source->cols;
    split.has_labels = source->has_labels;
    split.images = source->images;
    split.images_md5 = md5_of(source->images);
    if (source->has_labels) {
      split.labels = source->labels;
      split.labels_md5 = md5_of(source->labels);
    }
    comm.barrier();  // time the split alone, not the slowest rank's checksums
    const auto split_start = Clock::now();
    writer.begin_split(split);
    ProgressLine progress(log, config.live_progress && comm.is_root());
    EncodeSplitStats stats = encode_split(*source, network, piece_rows, writer, comm, progress);
    stats.seconds = since(split_start);
    const double per_second = double(stats.count) / std::max(stats.seconds, 1e-9);
    log << "encoded " << stats.name << ": " << stats.count << " images on " << comm.size()
        << (comm.size() == 1 ? " rank" : " ranks") << " in " << fixed(stats.seconds, 3) << " s, "
        << fixed(per_second, 0) << " images/s (" << fixed(per_second / comm.size(), 0)
        << " per rank); rank 0: read " << fixed(stats.read_seconds, 3) << " s, encode "
        << fixed(stats.encode_seconds, 3) << " s, write " << fixed(stats.write_seconds, 3)
        << " s\n";
    result.splits.push_back(stats);
  }
  writer.commit();
  result.seconds = since(start);
  result.peak_rss_mb = comm.allreduce_max(peak_rss_mb());
  log << "wrote " << config.out << " (" << spec.code_width() << "-dim codes) in "
      << fixed(result.seconds, 2) << " s; peak memory " << fixed(result.peak_rss_mb, 0)
      << " MB per rank\n";
  return result;
}

}  // namespace aeflow::infer
