#include "aeflow/io/decoded_writer.hpp"

#include "aeflow/io/file_header.hpp"

namespace aeflow::io {
namespace {

constexpr const char* kFormat = "aeflow-decoded";
constexpr int64_t kFormatVersion = 1;

}  // namespace

DecodedWriter::DecodedWriter(const std::string& path, const DecodedHeader& header, size_t n,
                             size_t k, const std::vector<size_t>& image_shape,
                             size_t point_chunk_rows, size_t image_chunk_rows)
    : file_(h5::File::create(path, h5::CreateMode::kTruncate)) {
  write_file_header(file_, kFormat, kFormatVersion, header.config_ini);
  file_.set_string_attribute("checkpoint", header.checkpoint);
  file_.set_string_attribute("checkpoint_md5", header.checkpoint_md5);
  file_.set_int_vector_attribute("encoder", header.encoder);
  file_.set_int_vector_attribute("decoder", header.decoder);
  file_.set_string_attribute("source", header.source);
  if (header.source == "points") {
    file_.set_string_attribute("points_file", header.points_file);
    file_.set_string_attribute("points_dataset", header.points_dataset);
    file_.set_string_attribute("points_md5", header.points_md5);
  } else {
    if (header.source == "grid") {
      file_.set_string_attribute("grid", header.grid);
      file_.set_int_vector_attribute("grid_shape", header.grid_shape);
    } else {
      file_.set_string_attribute("circle", header.circle);
    }
    file_.set_double_vector_attribute("fixed", header.fixed);
  }
  std::vector<size_t> images_shape{n}, images_chunk{image_chunk_rows};
  images_shape.insert(images_shape.end(), image_shape.begin(), image_shape.end());
  images_chunk.insert(images_chunk.end(), image_shape.begin(), image_shape.end());
  points_ = file_.create_dataset("points", h5::DType::kFloat32, {n, k}, {{point_chunk_rows, k}});
  images_ = file_.create_dataset("images", h5::DType::kFloat32, images_shape, {images_chunk});
}

void DecodedWriter::write_rows(size_t first, size_t count, std::span<const float> points,
                               std::span<const float> images) {
  points_.write_rows<float>(first, count, points);
  images_.write_rows<float>(first, count, images);
}

void DecodedWriter::close() {
  points_ = h5::Dataset();
  images_ = h5::Dataset();
  file_.close();
}

}  // namespace aeflow::io
