// A labelled image set in memory (uint8 pixels, one image per row, and one label per image), and
// loading it from a pair of IDX files or from a directory of MNIST-named files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "aeflow/data/md5.hpp"  // file_md5, for provenance of a Dataset's source

namespace aeflow::data {

struct Dataset {
  std::string name;    // e.g. "train" / "test"
  std::string source;  // the image file it came from
  size_t count = 0;
  size_t rows = 0, cols = 0;
  std::vector<uint8_t> pixels;  // [count, rows * cols], row-major
  std::vector<uint8_t> labels;  // [count]

  size_t width() const { return rows * cols; }
  const uint8_t* image(size_t i) const { return pixels.data() + i * width(); }
  // A copy of images [begin, end) with their labels. Throws InputError if out of range.
  Dataset slice(size_t begin, size_t end) const;
};

// The first VALIDATION images of a training file are held out; the training images are those
// after them, at most TRAIN_LIMIT of them (0: all). Throws InputError when none are left.
struct TrainingSplit {
  Dataset validation, train;
};
TrainingSplit split_training(const Dataset& all, size_t validation, size_t train_limit);

// Reads an images file (IDX, 3 dims) and its labels file (IDX, 1 dim), raw or .gz, and checks
// that they hold the same number of examples. Throws InputError naming the file at fault.
Dataset load_idx_pair(const std::string& images_path, const std::string& labels_path,
                      std::string name);

enum class Split { kTrain, kTest };

// The files of a split in DATA_DIR (see load_split): the raw file where it exists, else the .gz.
struct SplitFiles {
  std::string images;
  std::string labels;
};
// Throws InputError naming what is missing (and how to get MNIST) when DATA_DIR is not a
// directory or lacks either file.
SplitFiles find_split_files(const std::string& data_dir, Split split);

// Loads a split from DATA_DIR holding the MNIST file names (train-images-idx3-ubyte,
// train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte), each raw or with
// ".gz" appended; raw wins when both exist. Fashion-MNIST and KMNIST use the same names.
// The dataset is named "train" or "test".
Dataset load_split(const std::string& data_dir, Split split);

}  // namespace aeflow::data
