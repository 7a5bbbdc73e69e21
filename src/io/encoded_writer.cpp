// The encoded file, written collectively (see encoded_writer.hpp; layout in docs/hdf5-schema.md,
// "Encoded"). Every structural call happens on every rank with the same values, as parallel HDF5
// requires; only the rows differ between ranks.
#include "aeflow/io/encoded_writer.hpp"

#include <filesystem>

#include "aeflow/base/error.hpp"
#include "aeflow/io/hdf5.hpp"

namespace aeflow::io {

namespace {

constexpr const char* kFormat = "aeflow-encoded";
constexpr int64_t kFormatVersion = 1;

}  // namespace

struct EncodedWriter::Open {
  h5::File file;
  h5::Group split;
  h5::Dataset latent, label, index;

  void close_split() {
    latent = h5::Dataset();
    label = h5::Dataset();
    index = h5::Dataset();
    split = h5::Group();
  }
};

EncodedWriter::EncodedWriter(const std::string& path, bool overwrite, const EncodedHeader& header,
                             const mpi::Communicator& comm)
    : comm_(comm), header_(header) {
  std::error_code error;
  if (!overwrite && std::filesystem::exists(path, error))
    throw InputError(path + " exists; pass --force to overwrite");
  std::string temp_path;
  if (comm_.is_root()) {
    atomic_.emplace(path, overwrite);  // removes a stale PATH.tmp
    temp_path = atomic_->temp_path();
  }
  comm_.broadcast(temp_path);
  open_ = std::make_unique<Open>();
  try {
    write_header(temp_path);
  } catch (...) {
    if (comm_.size() > 1) (void)open_.release();  // as in the destructor: never close here
    throw;
  }
}

void EncodedWriter::write_header(const std::string& temp_path) {
  const EncodedHeader& header = header_;
  h5::File& file = open_->file;
  file = h5::File::create(temp_path, h5::CreateMode::kTruncate, comm_);
  // The common header (file_header.hpp), with rank 0's clock: parallel HDF5 needs the same
  // attribute values on every rank, and write_file_header would read each rank's own clock.
  file.set_string_attribute("format", kFormat);
  file.set_int_attribute("format_version", kFormatVersion);
  file.set_string_attribute("aeflow_version", AEFLOW_VERSION);
  file.set_string_attribute("created", header.created);
  file.set_string_attribute("config", header.config_ini);
  file.set_string_attribute("checkpoint", header.checkpoint);
  file.set_string_attribute("checkpoint_md5", header.checkpoint_md5);
  file.set_string_attribute("data", header.data);
  file.set_int_vector_attribute("encoder", header.encoder);
  file.set_int_attribute("code_width", header.encoder.empty() ? 0 : header.encoder.back());
  file.set_int_attribute("chunk_rows", int64_t(header.chunk_rows));
  file.set_int_attribute("block_rows", int64_t(header.block_rows));
}

EncodedWriter::~EncodedWriter() {
  if (open_ && comm_.size() > 1) (void)open_.release();  // see the header: never close here
}

void EncodedWriter::begin_split(const EncodedSplit& split) {
  Open& open = *open_;
  open.close_split();
  open.split = open.file.create_group(split.name);
  h5::Group& group = open.split;
  group.set_int_attribute("count", int64_t(split.count));
  group.set_int_attribute("rows", int64_t(split.rows));
  group.set_int_attribute("cols", int64_t(split.cols));
  group.set_string_attribute("images", split.images);
  group.set_string_attribute("images_md5", split.images_md5);
  if (split.has_labels) {
    group.set_string_attribute("labels", split.labels);
    group.set_string_attribute("labels_md5", split.labels_md5);
  }
  const size_t n = split.count, chunk = header_.chunk_rows;
  const int level = header_.deflate;
  open.latent = group.create_dataset("latent", h5::DType::kFloat32, {n, split.code_width},
                                     {{chunk, split.code_width}, level, level > 0});
  if (split.has_labels)
    open.label = group.create_dataset("label", h5::DType::kUint8, {n}, {{chunk}, level, false});
  open.index = group.create_dataset("index", h5::DType::kUint64, {n}, {{chunk}, level, level > 0});
  has_labels_ = split.has_labels;
}

void EncodedWriter::write_rows(size_t first, size_t count, std::span<const float> latent,
                               std::span<const uint8_t> labels, std::span<const uint64_t> index) {
  Open& open = *open_;
  open.latent.write_rows(first, count, latent);
  if (has_labels_) open.label.write_rows(first, count, labels);
  open.index.write_rows(first, count, index);
}

void EncodedWriter::commit() {
  open_->close_split();
  open_->file.close();
  open_.reset();
  if (comm_.is_root()) atomic_->commit();
  comm_.barrier();
}

}  // namespace aeflow::io
