// `aeflow inspect` (see inspect.hpp): a readable dump of any aeflow HDF5 file, in the spirit of
// `h5dump -H` but short: attributes as `@name = value`, datasets as one line each, the INI config
// (long, multi-line) moved to the end so it does not bury the tree. It reads only through the
// h5 layer and, for a checkpoint's summary, read_checkpoint.
#include "aeflow/io/inspect.hpp"

#include <cstdio>
#include <sstream>

#include "aeflow/base/error.hpp"
#include "aeflow/io/checkpoint.hpp"
#include "aeflow/io/hdf5.hpp"

namespace aeflow::io {

namespace {

constexpr size_t kInlineValues = 20;  // 1-D datasets and attributes up to this size print whole

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", value);
  return text;
}

std::string shape_text(const std::vector<size_t>& shape) {
  if (shape.empty()) return "scalar";
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

std::string bytes_text(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = double(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) value /= 1024, ++unit;
  char text[32];
  std::snprintf(text, sizeof text, unit ? "%.1f %s" : "%.0f %s", value, units[unit]);
  return text;
}

template <class T, class Format>
std::string list_text(const std::vector<T>& values, Format format) {
  std::string out = "[";
  const size_t shown = values.size() <= kInlineValues ? values.size() : 8;
  for (size_t i = 0; i < shown; ++i) {
    if (i) out += ", ";
    out += format(values[i]);
  }
  if (shown < values.size()) out += ", ... (" + std::to_string(values.size()) + " values)";
  return out + "]";
}

std::string quoted(const std::string& text) {
  const size_t newline = text.find('\n');
  if (newline != std::string::npos) {
    size_t lines = 1;
    for (char c : text) lines += c == '\n';
    return '"' + text.substr(0, std::min<size_t>(newline, 60)) + " ...\" (" +
           std::to_string(lines) + " lines)";
  }
  if (text.size() > 200) return '"' + text.substr(0, 200) + " ...\"";
  return '"' + text + '"';
}

std::string attribute_text(const h5::Object& object, const std::string& name) {
  try {
    const h5::AttributeInfo info = object.attribute_info(name);
    const bool scalar = info.shape.empty() || (info.shape.size() == 1 && info.shape[0] == 1);
    switch (info.dtype) {
      case h5::DType::kString:
        return scalar ? quoted(object.string_attribute(name))
                      : "(string array " + shape_text(info.shape) + ")";
      case h5::DType::kFloat32:
      case h5::DType::kFloat64:
        if (scalar) return number(object.double_attribute(name));
        return list_text(object.double_vector_attribute(name), number);
      case h5::DType::kUint64:
        if (scalar) return std::to_string(object.uint_attribute(name));
        [[fallthrough]];
      case h5::DType::kInt8:
      case h5::DType::kInt32:
      case h5::DType::kInt64:
      case h5::DType::kUint8:
      case h5::DType::kUint32:
        if (scalar) return std::to_string(object.int_attribute(name));
        return list_text(object.int_vector_attribute(name),
                         [](int64_t v) { return std::to_string(v); });
      case h5::DType::kOther:
        break;
    }
    return '(' + h5::to_string(info.dtype) + ' ' + shape_text(info.shape) + ')';
  } catch (const h5::Hdf5Error& error) {
    return std::string("(unreadable: ") + error.what() + ")";
  }
}

void print_attributes(const h5::Object& object, const std::string& indent, std::ostream& out,
                      bool root) {
  for (const std::string& name : object.attribute_names()) {
    out << indent << "@" << name << " = ";
    if (root && name == "config") {
      out << "(printed at the end)\n";
    } else {
      out << attribute_text(object, name) << "\n";
    }
  }
}

std::string dataset_line(const h5::Dataset& dataset) {
  const h5::DatasetInfo info = dataset.info();
  std::ostringstream line;
  line << h5::to_string(info.dtype) << " " << shape_text(info.shape);
  if (!info.chunk.empty()) line << ", chunks " << shape_text(info.chunk);
  for (const std::string& filter : info.filters) line << ", " << filter;
  line << ", " << bytes_text(info.storage_bytes) << " stored";
  const bool numeric = info.dtype != h5::DType::kString && info.dtype != h5::DType::kOther;
  if (numeric && info.shape.size() <= 1 && info.size() <= kInlineValues) {
    const bool integer = info.dtype != h5::DType::kFloat32 && info.dtype != h5::DType::kFloat64;
    if (integer) {
      line << " = "
           << list_text(dataset.read<int64_t>(), [](int64_t v) { return std::to_string(v); });
    } else {
      line << " = " << list_text(dataset.read<double>(), number);
    }
  }
  if (info.dtype == h5::DType::kString && info.shape.size() == 1 && info.size() <= kInlineValues)
    line << " = " << list_text(dataset.read_strings(), quoted);
  return line.str();
}

void print_group(const h5::Group& group, const std::string& indent, std::ostream& out) {
  for (const std::string& child : group.children()) {
    switch (group.kind(child)) {
      case h5::ObjectKind::kGroup: {
        h5::Group sub = group.open_group(child);
        out << indent << child << "/\n";
        print_attributes(sub, indent + "  ", out, false);
        print_group(sub, indent + "  ", out);
        break;
      }
      case h5::ObjectKind::kDataset: {
        h5::Dataset dataset = group.open_dataset(child);
        out << indent << child << "  " << dataset_line(dataset) << "\n";
        print_attributes(dataset, indent + "    ", out, false);
        break;
      }
      default:
        out << indent << child << "  (not a group or dataset)\n";
    }
  }
}

std::string checkpoint_summary(const std::string& path) {
  try {
    const CheckpointData checkpoint = read_checkpoint(path);
    std::ostringstream line;
    line << "model " << checkpoint.spec.describe() << "; loss " << checkpoint.loss << "; optimizer "
         << checkpoint.optimizer << " (step " << checkpoint.optimizer_step << "); epoch "
         << checkpoint.state.epoch << ", step " << checkpoint.state.global_step
         << (checkpoint.state.finished ? ", finished" : "");
    if (!checkpoint.history.empty()) {
      const HistoryRow& last = checkpoint.history.back();
      line << "; last epoch " << last.epoch << ": train_loss " << number(last.train_loss)
           << ", val_loss " << number(last.val_loss);
    }
    return line.str();
  } catch (const InputError& error) {
    return std::string("unreadable as a checkpoint: ") + error.what();
  }
}

// One line for a metrics file: the split, the model's mse beside PCA's, ssim, psnr, kNN.
std::string metrics_summary(const h5::File& file) {
  try {
    const h5::Group summary = file.open_group("summary");
    std::ostringstream line;
    line << (file.has_attribute("split") ? file.string_attribute("split") : std::string("?"))
         << " split, " << summary.int_attribute("count") << " images: mse "
         << number(summary.double_attribute("mse"))
         << " (PCA at k = " << file.open_group("pca").int_attribute("k") << ": "
         << number(summary.double_attribute("pca_mse")) << "), ssim "
         << number(summary.double_attribute("ssim")) << ", psnr "
         << number(summary.double_attribute("psnr")) << " dB, "
         << file.open_group("knn").int_attribute("neighbours") << "-NN accuracy "
         << number(summary.double_attribute("knn_accuracy"));
    return line.str();
  } catch (const h5::Hdf5Error& error) {
    return std::string("unreadable as a metrics file: ") + error.what();
  }
}

}  // namespace

void inspect_file(const std::string& path, std::ostream& out) {
  const h5::File file = h5::File::open(path);
  std::string format;
  if (file.has_attribute("format") && file.attribute_info("format").dtype == h5::DType::kString)
    format = file.string_attribute("format");
  const bool aeflow = format.rfind("aeflow-", 0) == 0;

  out << path << ": ";
  if (aeflow) {
    out << format;
    if (file.has_attribute("format_version"))
      out << ", format_version " << attribute_text(file, "format_version");
    for (const char* name : {"aeflow_version", "created"}) {
      if (!file.has_attribute(name)) continue;
      std::string value = attribute_text(file, name);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
      out << (name[0] == 'a' ? ", aeflow " : ", created ") << value;
    }
    out << "\n";
    if (format == "aeflow-checkpoint") out << "  " << checkpoint_summary(path) << "\n";
    if (format == "aeflow-metrics") out << "  " << metrics_summary(file) << "\n";
  } else {
    out << "HDF5 file\n"
        << "note: not an aeflow file ("
        << (format.empty() ? "no 'format' attribute" : "format '" + format + "'")
        << "); showing its contents anyway\n";
  }

  out << "\n/\n";
  print_attributes(file, "  ", out, true);
  print_group(file, "  ", out);

  if (file.has_attribute("config") && file.attribute_info("config").dtype == h5::DType::kString) {
    out << "\nconfig:\n";
    std::istringstream config(file.string_attribute("config"));
    for (std::string line; std::getline(config, line);) out << "    " << line << "\n";
  }
}

}  // namespace aeflow::io
