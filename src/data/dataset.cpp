// Loading labelled image sets from IDX files, and slicing them. Each check here is one a user
// trips over: mismatched files, a missing download, a half-written directory.
#include "aeflow/data/dataset.hpp"

#include <algorithm>

#include <filesystem>
#include <utility>

#include "aeflow/base/error.hpp"
#include "aeflow/data/idx.hpp"

namespace aeflow::data {

Dataset Dataset::slice(size_t begin, size_t end) const {
  if (begin > end || end > count)
    throw InputError("data set '" + name + "' (" + source + "): slice [" + std::to_string(begin) +
                     ", " + std::to_string(end) + ") is out of range for " + std::to_string(count) +
                     " images");
  Dataset part;
  part.name = name;
  part.source = source;
  part.count = end - begin;
  part.rows = rows;
  part.cols = cols;
  part.pixels.assign(image(begin), image(begin) + part.count * width());
  part.labels.assign(labels.begin() + ptrdiff_t(begin), labels.begin() + ptrdiff_t(end));
  return part;
}

TrainingSplit split_training(const Dataset& all, size_t validation, size_t train_limit) {
  if (validation >= all.count)
    throw InputError("--validation " + std::to_string(validation) + " leaves no training images (" +
                     all.source + " has " + std::to_string(all.count) + ")");
  size_t end = all.count;
  if (train_limit > 0) end = std::min(end, validation + train_limit);
  return {all.slice(0, validation), all.slice(validation, end)};
}

Dataset load_idx_pair(const std::string& images_path, const std::string& labels_path,
                      std::string name) {
  IdxArray images = read_idx(images_path, 3);
  IdxArray labels = read_idx(labels_path, 1);
  if (labels.dims[0] != images.dims[0])
    throw InputError(labels_path + ": labels file has " + std::to_string(labels.dims[0]) +
                     " labels for " + std::to_string(images.dims[0]) + " images in " + images_path);
  Dataset data;
  data.name = std::move(name);
  data.source = images_path;
  data.count = images.dims[0];
  data.rows = images.dims[1];
  data.cols = images.dims[2];
  data.pixels = std::move(images.values);
  data.labels = std::move(labels.values);
  return data;
}

SplitFiles find_split_files(const std::string& data_dir, Split split) {
  namespace fs = std::filesystem;
  const std::string prefix = split == Split::kTrain ? "train" : "t10k";
  const std::string images_name = prefix + "-images-idx3-ubyte";
  const std::string labels_name = prefix + "-labels-idx1-ubyte";
  const std::string hint =
      "; run scripts/fetch-data.sh to download MNIST (or --fashion for "
      "Fashion-MNIST), or point to a directory holding these files";

  std::error_code error;
  if (!fs::is_directory(data_dir, error))
    throw InputError(data_dir + ": " +
                     (fs::exists(data_dir, error) ? "not a directory" : "no such directory") +
                     "; expected a directory holding " + images_name + " and " + labels_name +
                     " (raw or .gz)" + hint);
  // The raw file if present, else the .gz one, else empty.
  auto find = [&](const std::string& file_name) -> std::string {
    const fs::path raw = fs::path(data_dir) / file_name;
    if (fs::exists(raw, error)) return raw.string();
    if (fs::exists(raw.string() + ".gz", error)) return raw.string() + ".gz";
    return "";
  };
  SplitFiles files{find(images_name), find(labels_name)};
  if (files.images.empty() || files.labels.empty()) {
    const std::string missing = files.images.empty() && files.labels.empty()
                                    ? images_name + " and " + labels_name
                                : files.images.empty() ? images_name
                                                       : labels_name;
    throw InputError(data_dir + ": no " + missing + " (raw or .gz)" + hint);
  }
  return files;
}

Dataset load_split(const std::string& data_dir, Split split) {
  const SplitFiles files = find_split_files(data_dir, split);
  return load_idx_pair(files.images, files.labels, split == Split::kTrain ? "train" : "test");
}

}  // namespace aeflow::data
