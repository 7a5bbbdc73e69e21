// `aeflow decode`: latent points through a checkpoint's decoder to images, into one HDF5 file
// (format "aeflow-decoded", docs/hdf5-schema.md). The points come from a dataset of an HDF5 file
// (an encoded file's /test/latent, say), streamed a block at a time, or from a walk through the
// code space: a 1-D or 2-D grid, or a circle, over the first code dimensions with the others held
// fixed. One process; it is not an MPI command.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

namespace aeflow::infer {

struct DecodeConfig {
  std::string checkpoint;
  std::string out;
  // Exactly one of the three sources:
  std::string points;                    // an HDF5 file holding the points
  std::string dataset = "/test/latent";  // ... in this float dataset [n, k]
  std::string grid;                      // "x0:x1:nx" or "x0:x1:nx,y0:y1:ny"
  std::string circle;                    // "radius:n"
  std::string fixed;                     // "v,v,...": the code dimensions a walk does not vary
  bool force = false;                    // overwrite OUT
};

// A walk's points are held in memory: at most this many, and this many values (points x code
// width) in all.
inline constexpr size_t kMaxWalkPoints = size_t(1) << 20;
inline constexpr size_t kMaxWalkValues = size_t(1) << 26;

// The values of --fixed, "v,v,...", or none for "". Throws InputError for a value that is not a
// finite number.
std::vector<float> parse_fixed(const std::string& text);

// The points a grid walks (over code dimensions 0 and 1; the rest FIXED), point iy * nx + ix at
// (x0 + ix (x1 - x0) / (nx - 1), y0 + iy (y1 - y0) / (ny - 1)), row-major [n, k]. SHAPE gets the
// grid's shape, [ny, nx] (or [nx] for one axis). Throws InputError for a malformed SPEC.
std::vector<float> grid_points(const std::string& spec, const std::vector<float>& fixed,
                               size_t code_width, std::vector<size_t>* shape);
// N points at angles 2 pi i / n on the circle of RADIUS around 0 in code dimensions 0 and 1.
std::vector<float> circle_points(const std::string& spec, const std::vector<float>& fixed,
                                 size_t code_width);

struct DecodeResult {
  size_t count = 0;
  std::vector<size_t> image_shape;  // of one image: {28, 28}, or {width}
  double seconds = 0;
};

// Throws InputError for an unreadable checkpoint or points file, points of the wrong width, a
// walk that needs more code dimensions than the model has, or an existing OUT without force.
DecodeResult run_decode(const DecodeConfig& config, std::ostream& log);

}  // namespace aeflow::infer
