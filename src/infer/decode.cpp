// Decoding latent points to images (see decode.hpp): the points of a walk are made here (held
// whole: a code's few floats a point), points from a file are read a piece at a time, and both
// go through the decoder in blocks and out to the file piece by piece, so the images' memory
// does not grow with the number of points.
#include "aeflow/infer/decode.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <optional>

#include "aeflow/base/error.hpp"
#include "aeflow/data/md5.hpp"
#include "aeflow/eval/load_model.hpp"
#include "aeflow/io/atomic_file.hpp"
#include "aeflow/io/decoded_writer.hpp"
#include "aeflow/io/hdf5.hpp"

namespace aeflow::infer {

namespace {

constexpr size_t kPieceRows = 1024;  // points read, decoded and written at a time
constexpr size_t kBlockRows = 256;   // points per decoder call

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t at = text.find(separator, start);
    parts.push_back(text.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) return parts;
    start = at + 1;
  }
}

float parse_number(const std::string& text, const std::string& what) {
  try {
    size_t used = 0;
    const double value = std::stod(text, &used);
    if (used == text.size() && std::isfinite(value)) return float(value);
  } catch (const std::exception&) {
  }
  throw InputError(what + ": '" + text + "' is not a number");
}

size_t parse_count(const std::string& text, const std::string& what) {
  size_t used = 0;
  long long value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty() || value < 1 || value > (1LL << 31))
    throw InputError(what + ": '" + text + "' is not a count of points (1 or more)");
  return size_t(value);
}

// A walk is decoded whole in memory, so its points are bounded (kMaxWalkPoints) and so are
// their values, points x code width: a mistyped count must be refused, not tried.
void check_walk_size(size_t points, size_t code_width, const std::string& what) {
  if (points > kMaxWalkPoints || double(points) * double(code_width) > double(kMaxWalkValues))
    throw InputError(what + ": " + std::to_string(points) + " points of " +
                     std::to_string(code_width) + " values: a walk decodes at most " +
                     std::to_string(kMaxWalkPoints) + " points and " +
                     std::to_string(kMaxWalkValues) + " values in all");
}

// The code dimensions a walk does not vary: FIXED (exactly the right number) or zeros.
std::vector<float> rest_of_code(const std::vector<float>& fixed, size_t code_width, size_t walked,
                                const std::string& walk) {
  if (code_width < walked)
    throw InputError(walk + " walks " + std::to_string(walked) + " code dimensions, but the " +
                     "model's code has " + std::to_string(code_width));
  if (fixed.empty()) return std::vector<float>(code_width - walked, 0.0f);
  if (fixed.size() != code_width - walked)
    throw InputError("--fixed gives " + std::to_string(fixed.size()) + " values; the model's " +
                     std::to_string(code_width) + "-dim code less the " + std::to_string(walked) +
                     " that " + walk + " walks leaves " + std::to_string(code_width - walked));
  return fixed;
}

std::string fixed_text(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", value);
  return text;
}

}  // namespace

std::vector<float> parse_fixed(const std::string& text) {
  std::vector<float> values;
  if (text.empty()) return values;
  for (const std::string& part : split(text, ',')) values.push_back(parse_number(part, "--fixed"));
  return values;
}

std::vector<float> grid_points(const std::string& spec, const std::vector<float>& fixed,
                               size_t code_width, std::vector<size_t>* shape) {
  const std::string what = "--grid '" + spec + "'";
  const std::vector<std::string> axes_text = split(spec, ',');
  struct Axis {
    float from, to;
    size_t n;
  };
  std::vector<Axis> axes;
  for (const std::string& axis : axes_text) {
    const std::vector<std::string> parts = split(axis, ':');
    if (parts.size() != 3 || axes_text.size() > 2)
      throw InputError(what + ": expected x0:x1:nx or x0:x1:nx,y0:y1:ny");
    axes.push_back(
        {parse_number(parts[0], what), parse_number(parts[1], what), parse_count(parts[2], what)});
  }
  const std::vector<float> rest = rest_of_code(fixed, code_width, axes.size(), "--grid");
  auto at = [](const Axis& axis, size_t i) {
    if (axis.n == 1) return axis.from;
    return float(double(axis.from) + double(axis.to - axis.from) * double(i) / double(axis.n - 1));
  };
  const size_t nx = axes[0].n, ny = axes.size() > 1 ? axes[1].n : 1;
  check_walk_size(nx * ny, code_width, what);
  std::vector<float> points;
  points.reserve(nx * ny * code_width);
  for (size_t iy = 0; iy < ny; ++iy)
    for (size_t ix = 0; ix < nx; ++ix) {
      points.push_back(at(axes[0], ix));
      if (axes.size() > 1) points.push_back(at(axes[1], iy));
      points.insert(points.end(), rest.begin(), rest.end());
    }
  if (shape) *shape = axes.size() > 1 ? std::vector<size_t>{ny, nx} : std::vector<size_t>{nx};
  return points;
}

std::vector<float> circle_points(const std::string& spec, const std::vector<float>& fixed,
                                 size_t code_width) {
  const std::string what = "--circle '" + spec + "'";
  const std::vector<std::string> parts = split(spec, ':');
  if (parts.size() != 2) throw InputError(what + ": expected radius:n");
  const float radius = parse_number(parts[0], what);
  const size_t n = parse_count(parts[1], what);
  const std::vector<float> rest = rest_of_code(fixed, code_width, 2, "--circle");
  check_walk_size(n, code_width, what);
  std::vector<float> points;
  points.reserve(n * code_width);
  for (size_t i = 0; i < n; ++i) {
    const double angle = 2 * std::numbers::pi * double(i) / double(n);
    points.push_back(float(radius * std::cos(angle)));
    points.push_back(float(radius * std::sin(angle)));
    points.insert(points.end(), rest.begin(), rest.end());
  }
  return points;
}

DecodeResult run_decode(const DecodeConfig& config, std::ostream& log) {
  const auto start = std::chrono::steady_clock::now();
  const int sources =
      int(!config.points.empty()) + int(!config.grid.empty()) + int(!config.circle.empty());
  if (sources != 1)
    throw InputError(
        "aeflow decode: give exactly one of --points FILE, --grid SPEC, --circle SPEC");
  if (!config.points.empty() && !config.fixed.empty())
    throw InputError("--fixed applies to --grid and --circle, not to --points");
  io::AtomicFile atomic(config.out, config.force);  // refuses an existing OUT before any work

  eval::LoadedModel loaded = eval::load_model(config.checkpoint);
  model::Network& network = *loaded.network;
  const size_t k = size_t(network.spec().code_width());
  const size_t width = size_t(network.spec().input_width());
  const size_t side = size_t(std::lround(std::sqrt(double(width))));
  const std::vector<size_t> image_shape =
      side * side == width ? std::vector<size_t>{side, side} : std::vector<size_t>{width};

  // The points: generated (a walk), or a dataset of a file read piece by piece.
  std::vector<float> walk;
  std::vector<size_t> grid_shape;
  std::vector<float> fixed;
  std::optional<io::h5::File> points_file;
  io::h5::Dataset points_set;
  size_t n = 0;
  if (!config.points.empty()) {
    points_file.emplace(io::h5::File::open(config.points));
    const std::string where = config.points + ": " + config.dataset;
    if (points_file->kind(config.dataset) != io::h5::ObjectKind::kDataset)
      throw InputError(where + ": no such dataset (--dataset names the points)");
    points_set = points_file->open_dataset(config.dataset);
    const io::h5::DatasetInfo info = points_set.info();
    if (info.dtype != io::h5::DType::kFloat32 && info.dtype != io::h5::DType::kFloat64)
      throw InputError(where + " is " + io::h5::to_string(info.dtype) + ", expected float points");
    if (info.shape.size() != 2 || info.shape[1] != k)
      throw InputError(where + ": expected points [n, " + std::to_string(k) + "] for the model's " +
                       std::to_string(k) + "-dim code (" + network.spec().describe() +
                       "), found shape of " + std::to_string(info.shape.size()) + " dims" +
                       (info.shape.size() == 2
                            ? " with " + std::to_string(info.shape[1]) + " values per point"
                            : std::string()));
    n = info.shape[0];
    if (!info.chunk.empty() && !info.filters.empty()) {
      // Compressed: a cache of two chunks decompresses each chunk once.
      const size_t chunk_bytes = info.chunk[0] * info.chunk[1] * info.element_size;
      points_set = points_file->open_dataset(config.dataset,
                                             std::max<size_t>(size_t(1) << 20, 2 * chunk_bytes));
    }
  } else {
    fixed = parse_fixed(config.fixed);
    walk = config.grid.empty() ? circle_points(config.circle, fixed, k)
                               : grid_points(config.grid, fixed, k, &grid_shape);
    if (fixed.empty()) fixed.assign(k - (config.grid.empty() ? 2 : grid_shape.size()), 0.0f);
    n = walk.size() / k;
  }

  try {
    io::DecodedHeader header;
    header.config_ini = loaded.checkpoint.config_ini;
    header.checkpoint = config.checkpoint;
    header.checkpoint_md5 = data::file_md5(config.checkpoint);
    header.encoder.assign(network.spec().encoder.begin(), network.spec().encoder.end());
    const std::vector<int> decoder = network.spec().decoder_widths();
    header.decoder.assign(decoder.begin(), decoder.end());
    if (!config.points.empty()) {
      header.source = "points";
      header.points_file = config.points;
      header.points_dataset = config.dataset;
      header.points_md5 = data::file_md5(config.points);
    } else {
      header.source = config.grid.empty() ? "circle" : "grid";
      header.grid = config.grid;
      header.grid_shape.assign(grid_shape.begin(), grid_shape.end());
      header.circle = config.circle;
      header.fixed.assign(fixed.begin(), fixed.end());
    }
    io::DecodedWriter file(atomic.temp_path(), header, n, k, image_shape, kPieceRows, kBlockRows);
    std::vector<float> points(kPieceRows * k), images(kPieceRows * width);
    for (size_t first = 0; first < n; first += kPieceRows) {
      const size_t count = std::min(kPieceRows, n - first);
      if (walk.empty()) {
        points_set.read_rows<float>(first, count, {points.data(), count * k});
        const auto bad = std::find_if(points.begin(), points.begin() + long(count * k),
                                      [](float value) { return !std::isfinite(value); });
        if (bad != points.begin() + long(count * k))
          throw InputError(config.points + ": point " +
                           std::to_string(first + size_t(bad - points.begin()) / k) +
                           " is not finite (NaN or infinity)");
      } else {
        std::copy_n(walk.begin() + long(first * k), count * k, points.begin());
      }
      for (size_t b = 0; b < count; b += kBlockRows)
        network.decode(points.data() + b * k, int(std::min(kBlockRows, count - b)),
                       images.data() + b * width);
      file.write_rows(first, count, {points.data(), count * k}, {images.data(), count * width});
    }
    file.close();
  } catch (const InputError&) {
    throw;
  } catch (const std::exception& error) {
    throw RunError(config.out + ": cannot write: " + error.what());
  }
  atomic.commit();

  DecodeResult result;
  result.count = n;
  result.image_shape = image_shape;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string shape_text = std::to_string(n);
  for (size_t d : image_shape) shape_text += "x" + std::to_string(d);
  log << "decoded " << n << " points into " << config.out << " (images " << shape_text << ") in "
      << fixed_text(result.seconds) << " s\n";
  return result;
}

}  // namespace aeflow::infer
