// Encoded data sets in HDF5 (format "aeflow-encoded", docs/hdf5-schema.md): one group per split
// holding the latent codes, labels and source row indices. Written by every rank of a job at
// once with parallel HDF5: the structure and attributes by all ranks alike, the rows by each rank
// for its own slice, collectively. The file is built as PATH.tmp, closed collectively, and renamed
// by rank 0, so PATH is never a half file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "aeflow/io/atomic_file.hpp"
#include "aeflow/mpi/communicator.hpp"

namespace aeflow::io {

// What the file says about itself: its root attributes. The same on every rank.
struct EncodedHeader {
  std::string config_ini;        // the checkpoint's job config (INI text)
  std::string created;           // ISO-8601 time of writing: rank 0's, broadcast
  std::string checkpoint;        // the checkpoint's path, as given
  std::string checkpoint_md5;    // of the checkpoint file
  std::string data;              // --data, as given
  std::vector<int64_t> encoder;  // the encoder's widths, input first, code last
  size_t chunk_rows = 4096;      // rows per HDF5 chunk
  size_t block_rows = 256;       // rows per encoder call, aligned to global row indices
  int deflate = 0;               // gzip level of the chunks, 0 for none
};

// One split: its group's attributes and the extent of its datasets.
struct EncodedSplit {
  std::string name;  // the group: "train", "test", "data", ...
  size_t count = 0;  // rows
  size_t code_width = 0;
  size_t rows = 0, cols = 0;  // the source images' shape
  bool has_labels = false;
  std::string images, images_md5;  // the source images file and its md5
  std::string labels, labels_md5;  // the source labels file (the images file for HDF5 input)
};

// Every member function is collective: every rank of the Communicator calls it, with the same
// arguments except for write_rows' rows and data.
class EncodedWriter {
 public:
  // Throws InputError when PATH exists and !OVERWRITE (on every rank alike).
  EncodedWriter(const std::string& path, bool overwrite, const EncodedHeader& header,
                const mpi::Communicator& comm);
  // Without commit(): with several ranks, this is an error path on one rank that is about to
  // end the job (MPI_Abort), and HDF5's collective close would wait forever for the others; so
  // the file's handles are abandoned, and rank 0 removes PATH.tmp if it is the rank that failed
  // (else MPI_Abort ends it first and PATH.tmp stays until the next run to PATH replaces it).
  ~EncodedWriter();
  EncodedWriter(const EncodedWriter&) = delete;
  EncodedWriter& operator=(const EncodedWriter&) = delete;

  // Creates SPLIT's group and its datasets (closing the previous split's).
  void begin_split(const EncodedSplit& split);
  // This rank's rows [first, first + count) of the current split: LATENT is [count, code_width],
  // LABELS [count] (ignored without labels), INDEX [count]. A rank with no rows in this round
  // passes count 0 and empty spans.
  void write_rows(size_t first, size_t count, std::span<const float> latent,
                  std::span<const uint8_t> labels, std::span<const uint64_t> index);
  // Closes the file on every rank, then rank 0 gives it its name (fsync, rename); returns once
  // PATH is in place.
  void commit();

 private:
  void write_header(const std::string& temp_path);

  struct Open;  // the HDF5 objects that are open
  mpi::Communicator comm_;
  EncodedHeader header_;
  std::optional<AtomicFile> atomic_;  // rank 0's
  std::unique_ptr<Open> open_;
  bool has_labels_ = false;
};

}  // namespace aeflow::io
