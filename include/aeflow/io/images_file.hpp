// Ingested image sets in HDF5 (format "aeflow-images", docs/hdf5-schema.md): the pixels and
// labels of an IDX pair copied into one chunked HDF5 file by `aeflow ingest`, a chunk at a time,
// so a data set larger than memory can be encoded (`aeflow encode --data images.h5` reads it a
// range of rows at a time). Not a training input: training holds its data in memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>

#include "aeflow/io/hdf5.hpp"

namespace aeflow::io {

struct IngestOptions {
  std::string images;        // IDX images file, raw or .gz
  std::string labels;        // IDX labels file, raw or .gz; empty for none
  std::string out;           // the HDF5 file to write
  size_t chunk_rows = 4096;  // images per HDF5 chunk, and per read
  int deflate = 0;           // gzip level of the chunks, 0 for none
  bool overwrite = false;    // --force
  std::string config_ini;    // the resolved options, for the file's config attribute
};

struct IngestResult {
  size_t count = 0, rows = 0, cols = 0;
  double seconds = 0;
};

// Streams OPTIONS.images (and labels) into OPTIONS.out: memory holds one chunk of images,
// whatever the file's size. Written as OUT.tmp and renamed when complete. Throws InputError for
// bad or mismatched IDX files and when OUT exists without overwrite, RunError when writing fails.
IngestResult ingest_idx(const IngestOptions& options);

// Reads an ingested file a range of rows at a time.
class ImagesReader {
 public:
  // Throws InputError when PATH is not an aeflow-images file of a version this build reads, or
  // its datasets are not what the format says.
  explicit ImagesReader(const std::string& path);

  const std::string& path() const { return path_; }
  size_t count() const { return count_; }
  size_t rows() const { return rows_; }
  size_t cols() const { return cols_; }
  bool has_labels() const { return has_labels_; }

  // Images [first, first + count) into PIXELS (count * rows * cols bytes) and, if the file has
  // labels and LABELS is not null, their labels into LABELS (count bytes).
  void read(size_t first, size_t count, uint8_t* pixels, uint8_t* labels) const;

 private:
  std::string path_;
  h5::File file_;
  h5::Dataset images_;
  h5::Dataset labels_;
  size_t count_ = 0, rows_ = 0, cols_ = 0;
  bool has_labels_ = false;
};

}  // namespace aeflow::io
