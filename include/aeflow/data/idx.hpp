// The IDX file reader (the MNIST format: a big-endian header, then raw values), raw or
// gzip-compressed: whole files (read_idx), or a range of rows at a time (IdxReader) for files
// larger than memory. Only unsigned-byte IDX is read; everything the header claims is checked
// against what the file holds, and every problem is an InputError naming the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace aeflow::data {

struct IdxArray {
  std::string path;             // the file it was read from
  std::vector<uint32_t> dims;   // e.g. {60000, 28, 28} for images, {60000} for labels
  std::vector<uint8_t> values;  // product(dims) values, row-major
};

// Reads PATH, raw or gzip-compressed (told apart by the gzip magic, not the name).
// EXPECTED_RANK is the number of dims the header must declare: 3 for images, 1 for labels.
// Throws aeflow::InputError on a missing file, a wrong magic or rank, a zero dim, a payload that
// is shorter or longer than the dims say, or damaged gzip data.
IdxArray read_idx(const std::string& path, int expected_rank);

// Reads an IDX file a range of rows at a time, holding none of it: a row is everything under one
// index of the first dimension (an image, a label). The header is checked on opening, and a raw
// file's size too. Raw files are read at any position; gzip files are decompressed as they are
// read (forward is cheap, going back starts over from the beginning), and their length and CRC
// are checked when the last row has been read.
class IdxReader {
 public:
  // Throws InputError as read_idx does (missing file, wrong magic or rank, zero dim, a raw file
  // of the wrong size).
  IdxReader(const std::string& path, int expected_rank);
  ~IdxReader();
  IdxReader(IdxReader&&) noexcept;
  IdxReader& operator=(IdxReader&&) noexcept;

  const std::string& path() const { return path_; }
  const std::vector<uint32_t>& dims() const { return dims_; }
  size_t count() const { return dims_[0]; }      // rows
  size_t row_size() const { return row_size_; }  // bytes per row: the product of the other dims
  bool gzip() const;

  // Copies rows [first, first + count) into OUT (count * row_size() bytes). Throws InputError
  // when a gzip file turns out shorter or longer than its header says or is damaged, and
  // std::out_of_range for rows beyond count().
  void read_rows(size_t first, size_t count, uint8_t* out);

 private:
  struct State;
  std::string path_;
  std::vector<uint32_t> dims_;
  size_t row_size_ = 0;
  std::unique_ptr<State> state_;
};

}  // namespace aeflow::data
