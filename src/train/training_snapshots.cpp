#include "aeflow/train/training_snapshots.hpp"

#include <vector>

#include "aeflow/data/batch.hpp"

namespace aeflow::train {

io::Snapshots choose_snapshot_images(const data::Dataset& source, const std::string& split,
                                     int64_t first_row) {
  constexpr size_t kLabels = 10;
  io::Snapshots snapshots;
  snapshots.split = split;
  snapshots.rows = int64_t(source.rows);
  snapshots.cols = int64_t(source.cols);
  for (size_t label = 0; label < 256 && snapshots.count() < kLabels; ++label) {
    for (size_t i = 0; i < source.count; ++i) {
      if (source.labels[i] != label) continue;
      snapshots.index.push_back(first_row + int64_t(i));
      snapshots.label.push_back(uint8_t(label));
      snapshots.input.insert(snapshots.input.end(), source.image(i),
                             source.image(i) + source.width());
      break;
    }
  }
  return snapshots;
}

void add_snapshot_frame(io::Snapshots& snapshots, model::Network& network, int64_t epoch) {
  const size_t n = snapshots.count();
  if (n == 0) return;
  std::vector<float> input(snapshots.input.size());
  data::scale_pixels(snapshots.input.data(), input.size(), input.data());
  const float* output = network.forward(input.data(), int(n), /*training=*/false);
  std::vector<float> images(output, output + input.size());
  network.reconstruct(images.data(), images.size());
  snapshots.add_frame(epoch, images.data());
}

}  // namespace aeflow::train
