// MD5 (RFC 1321), only to record which exact data file a run used (provenance attributes in the
// HDF5 outputs) and to compare against published checksums. Not for anything security-related.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace aeflow::data {

// Incremental MD5: update() any number of times, then hex_digest() once.
class Md5 {
 public:
  Md5();
  void update(const void* data, size_t size);
  std::array<uint8_t, 16> digest();  // finishes the hash; call once
  std::string hex_digest();          // digest() as 32 lowercase hex digits

 private:
  void block(const uint8_t* data);  // one 64-byte block

  std::array<uint32_t, 4> state_;
  std::array<uint8_t, 64> buffer_{};
  uint64_t length_ = 0;  // bytes hashed so far
};

// MD5 of a string's bytes, as 32 lowercase hex digits.
std::string md5_hex(std::string_view bytes);

// MD5 of a file's bytes as stored (a .gz file's compressed bytes), as 32 lowercase hex digits.
// Throws aeflow::InputError naming the file if it cannot be read.
std::string file_md5(const std::string& path);

}  // namespace aeflow::data
