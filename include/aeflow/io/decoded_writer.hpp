// Decoded images in HDF5 (format "aeflow-decoded", docs/hdf5-schema.md): the latent points and
// the images the decoder made of them, [n, k] and [n, rows, cols], written piece by piece as
// they are decoded, with root attributes that say where the points came from.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "aeflow/io/hdf5.hpp"

namespace aeflow::io {

struct DecodedHeader {
  std::string config_ini;        // the checkpoint's job config (INI text)
  std::string checkpoint;        // its path, as given
  std::string checkpoint_md5;    // of the checkpoint file
  std::vector<int64_t> encoder;  // the encoder's widths, input first, code last
  std::vector<int64_t> decoder;  // the decoder's widths, code first, output last
  std::string source;            // "points", "grid" or "circle"
  // source "points": the file and dataset they were read from.
  std::string points_file, points_dataset, points_md5;
  // source "grid" or "circle": the walk's spec, and the other code dimensions' values.
  std::string grid;
  std::vector<int64_t> grid_shape;
  std::string circle;
  std::vector<double> fixed;
};

class DecodedWriter {
 public:
  // Creates PATH (an AtomicFile's temporary: the caller commits it) for N points of K values
  // and their images of IMAGE_SHAPE, chunked by POINT_CHUNK_ROWS and IMAGE_CHUNK_ROWS rows.
  DecodedWriter(const std::string& path, const DecodedHeader& header, size_t n, size_t k,
                const std::vector<size_t>& image_shape, size_t point_chunk_rows,
                size_t image_chunk_rows);
  // Rows [FIRST, FIRST + COUNT) of both datasets.
  void write_rows(size_t first, size_t count, std::span<const float> points,
                  std::span<const float> images);
  void close();

 private:
  h5::File file_;
  h5::Dataset points_, images_;
};

}  // namespace aeflow::io
