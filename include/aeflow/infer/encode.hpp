// `aeflow encode`: whole data sets through a checkpoint's encoder into one HDF5 file
// (io/encoded_writer.hpp), on any number of ranks, in memory bounded by the chunk size whatever
// the data's size.
//
// The rows of a split are cut into pieces of R rows (the chunk size rounded up to a multiple of
// kEncodeBlockRows); rank r of P takes the contiguous pieces [C r / P, C (r + 1) / P) of the C
// pieces, and in each round every rank reads one piece, encodes it and writes it, all ranks
// writing their pieces at once. Inside a piece the encoder runs on blocks of kEncodeBlockRows
// rows, and since pieces start at multiples of R, every block starts at a multiple of
// kEncodeBlockRows of the global row index: each row is computed in the same block, with the
// same batch size, whatever P is, so the file holds the same bits for any number of ranks (a
// matrix product's result may depend on its batch size).
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

#include "aeflow/mpi/communicator.hpp"

namespace aeflow::infer {

constexpr size_t kEncodeBlockRows = 256;
constexpr size_t kMaxChunkRows = size_t(1) << 20;

struct EncodeConfig {
  std::string checkpoint;
  std::string data;  // a directory of MNIST-named IDX files, an IDX images file, or an ingested
                     // HDF5 file (aeflow ingest)
  std::string out;
  // A directory's splits ("train", "test"; empty: both). A file is one split, named by the one
  // name given here ("data" when empty).
  std::vector<std::string> splits;
  size_t chunk_rows = 4096;    // rows per HDF5 chunk and per read; rounded up to kEncodeBlockRows
  int deflate = 1;             // gzip level of the output chunks, 0 for none
  bool force = false;          // overwrite OUT
  bool live_progress = false;  // rank 0 rewrites a progress line in place (log is a terminal)
};

struct EncodeSplitStats {
  std::string name;
  size_t count = 0;
  double seconds = 0;  // wall time of the split, all ranks
  // Rank 0's share: reading the input, the encoder, and the collective writes (which include
  // waiting for the slowest rank of each round).
  double read_seconds = 0, encode_seconds = 0, write_seconds = 0;
};

struct EncodeResult {
  std::vector<EncodeSplitStats> splits;
  double seconds = 0;      // everything, checksums and the final rename included
  double peak_rss_mb = 0;  // the largest peak resident memory of any rank
};

// Collective over COMM. Throws InputError (on every rank alike) for an unreadable checkpoint or
// data, a checkpoint whose input width is not the data's, or an existing OUT without force.
// Rank 0 prints one line per split to LOG.
EncodeResult run_encode(const EncodeConfig& config, const mpi::Communicator& comm,
                        std::ostream& log);

}  // namespace aeflow::infer
