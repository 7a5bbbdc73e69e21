// libFuzzer target: the walk parsers of `aeflow decode` (--grid x0:x1:nx[,y0:y1:ny], --circle
// radius:n, --fixed v,v,...) on any text. The input is "GRID\nCIRCLE\nFIXED\nK", K the model's
// code width (1 to 64). A refusal is an InputError; a crash, a hang or a huge allocation is a bug.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "aeflow/base/error.hpp"
#include "aeflow/infer/decode.hpp"

namespace {

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t at; (at = text.find('\n', start)) != std::string::npos; start = at + 1)
    parts.push_back(text.substr(start, at - start));
  parts.push_back(text.substr(start));
  return parts;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> parts = lines(std::string(reinterpret_cast<const char*>(data), size));
  parts.resize(4);
  const size_t code_width = parts[3].empty() ? 2 : 1 + size_t(uint8_t(parts[3][0])) % 64;
  std::vector<float> fixed;
  try {
    fixed = aeflow::infer::parse_fixed(parts[2]);
  } catch (const aeflow::InputError&) {
  }
  try {
    std::vector<size_t> shape;
    const std::vector<float> points =
        aeflow::infer::grid_points(parts[0], fixed, code_width, &shape);
    size_t count = 1;
    for (size_t n : shape) count *= n;
    if (points.size() != count * code_width) __builtin_trap();  // the promised [n, k]
  } catch (const aeflow::InputError&) {
  }
  try {
    const std::vector<float> points = aeflow::infer::circle_points(parts[1], fixed, code_width);
    if (points.size() % code_width != 0) __builtin_trap();
  } catch (const aeflow::InputError&) {
  }
  return 0;
}
