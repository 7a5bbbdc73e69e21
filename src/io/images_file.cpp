// Ingested image sets (see images_file.hpp; layout in docs/hdf5-schema.md, "Ingested images"):
// IDX to HDF5 a chunk at a time, and the reader `aeflow encode` streams them back with.
#include "aeflow/io/images_file.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <vector>

#include "aeflow/base/error.hpp"
#include "aeflow/data/idx.hpp"
#include "aeflow/data/md5.hpp"
#include "aeflow/io/atomic_file.hpp"
#include "aeflow/io/file_header.hpp"

namespace aeflow::io {

namespace {

constexpr const char* kFormat = "aeflow-images";
constexpr int64_t kFormatVersion = 1;

}  // namespace

IngestResult ingest_idx(const IngestOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  if (options.chunk_rows == 0 || options.chunk_rows > (size_t(1) << 20))
    throw InputError("--chunk " + std::to_string(options.chunk_rows) + ": must be 1 to " +
                     std::to_string(size_t(1) << 20) + " images");
  AtomicFile atomic(options.out, options.overwrite);  // refuses an existing OUT before any work
  data::IdxReader images(options.images, 3);
  std::optional<data::IdxReader> labels;
  if (!options.labels.empty()) {
    labels.emplace(options.labels, 1);
    if (labels->count() != images.count())
      throw InputError(options.labels + ": labels file has " + std::to_string(labels->count()) +
                       " labels for " + std::to_string(images.count()) + " images in " +
                       options.images);
  }
  IngestResult result;
  result.count = images.count();
  result.rows = images.dims()[1];
  result.cols = images.dims()[2];
  // Checksums of the files as stored, before anything is written: they name what was ingested.
  const std::string images_md5 = data::file_md5(options.images);
  const std::string labels_md5 = labels ? data::file_md5(options.labels) : std::string();

  try {
    h5::File file = h5::File::create(atomic.temp_path(), h5::CreateMode::kTruncate);
    write_file_header(file, kFormat, kFormatVersion, options.config_ini);
    file.set_string_attribute("source_images", options.images);
    file.set_string_attribute("source_images_md5", images_md5);
    if (labels) {
      file.set_string_attribute("source_labels", options.labels);
      file.set_string_attribute("source_labels_md5", labels_md5);
    }
    {
      const size_t chunk = options.chunk_rows, n = result.count;
      h5::Dataset pixels_set =
          file.create_dataset("images", h5::DType::kUint8, {n, result.rows, result.cols},
                              {{chunk, result.rows, result.cols}, options.deflate, false});
      h5::Dataset labels_set;
      if (labels)
        labels_set = file.create_dataset("labels", h5::DType::kUint8, {n},
                                         {{chunk}, options.deflate, false});
      std::vector<uint8_t> pixels(chunk * images.row_size()), classes(chunk);
      for (size_t first = 0; first < n; first += chunk) {
        const size_t count = std::min(chunk, n - first);
        images.read_rows(first, count, pixels.data());
        pixels_set.write_rows<uint8_t>(first, count, {pixels.data(), count * images.row_size()});
        if (labels) {
          labels->read_rows(first, count, classes.data());
          labels_set.write_rows<uint8_t>(first, count, {classes.data(), count});
        }
      }
    }
    file.close();
  } catch (const InputError&) {
    throw;  // a damaged IDX file found while streaming: the user's to fix
  } catch (const std::exception& error) {
    throw RunError(options.out + ": cannot write: " + error.what());
  }
  atomic.commit();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

ImagesReader::ImagesReader(const std::string& path) : path_(path), file_(h5::File::open(path)) {
  check_file_header(file_, path, kFormat, kFormatVersion, "an ingested image file (aeflow ingest)");
  try {
    if (file_.kind("images") != h5::ObjectKind::kDataset)
      throw InputError(path + ": no /images dataset (damaged file?)");
    images_ = file_.open_dataset("images");
    h5::DatasetInfo info = images_.info();
    if (info.dtype != h5::DType::kUint8 || info.shape.size() != 3)
      throw InputError(path + ": /images is " + h5::to_string(info.dtype) + " with " +
                       std::to_string(info.shape.size()) + " dims, expected uint8 [N, rows, cols]");
    count_ = info.shape[0];
    rows_ = info.shape[1];
    cols_ = info.shape[2];
    if (!info.filters.empty() && !info.chunk.empty()) {
      // Compressed: a cache of two chunks decompresses each chunk once, however reads fall.
      const size_t chunk_bytes = info.chunk[0] * info.chunk[1] * info.chunk[2];
      images_ = file_.open_dataset("images", std::max<size_t>(size_t(1) << 20, 2 * chunk_bytes));
    }
    has_labels_ = file_.kind("labels") == h5::ObjectKind::kDataset;
    if (has_labels_) {
      labels_ = file_.open_dataset("labels");
      info = labels_.info();
      if (info.dtype != h5::DType::kUint8 || info.shape != std::vector<size_t>{count_})
        throw InputError(path + ": /labels is not uint8 [" + std::to_string(count_) +
                         "], one label per image");
    }
  } catch (const h5::Hdf5Error& error) {
    throw InputError(std::string(error.what()) + " (not a valid aeflow-images file)");
  }
}

void ImagesReader::read(size_t first, size_t count, uint8_t* pixels, uint8_t* labels) const {
  images_.read_rows<uint8_t>(first, count, {pixels, count * rows_ * cols_});
  if (has_labels_ && labels) labels_.read_rows<uint8_t>(first, count, {labels, count});
}

}  // namespace aeflow::io
