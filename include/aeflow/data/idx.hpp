// The IDX file reader (the MNIST format: a big-endian header, then raw values), raw or
// gzip-compressed. Only unsigned-byte IDX is read; everything the header claims is checked
// against what the file holds, and every problem is an InputError naming the file.
#pragma once

#include <cstdint>
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

}  // namespace aeflow::data
