// libFuzzer target: the IDX reader (data/idx.hpp) on any bytes, raw or gzip-compressed, whole
// (read_idx) and a few rows at a time (IdxReader). A refusal is an InputError; anything else
// (a crash, a leak, undefined behaviour, an allocation the input's size does not justify) is a
// bug.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "aeflow/base/error.hpp"
#include "aeflow/data/idx.hpp"
#include "input_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const aeflow::fuzz::InputFile file(data, size);
  for (const int rank : {1, 3}) {
    try {
      const aeflow::data::IdxArray array = aeflow::data::read_idx(file.path(), rank);
      size_t product = 1;
      for (uint32_t dim : array.dims) product *= dim;
      if (array.values.size() != product) __builtin_trap();  // read_idx promises product(dims)
    } catch (const aeflow::InputError&) {
    }
    try {
      aeflow::data::IdxReader reader(file.path(), rank);
      // Rows in blocks of up to three, then one from the start again (gzip starts over).
      std::vector<uint8_t> rows(3 * reader.row_size());
      for (size_t first = 0; first < reader.count(); first += 3)
        reader.read_rows(first, std::min<size_t>(3, reader.count() - first), rows.data());
      reader.read_rows(0, 1, rows.data());
    } catch (const aeflow::InputError&) {
    }
  }
  return 0;
}
