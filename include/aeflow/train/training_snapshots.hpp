// The frames of a training animation: a few fixed images, and the network's reconstructions of
// them at the end of every epoch (io::Snapshots, kept in the checkpoint's and the metrics
// file's history).
#pragma once

#include <cstdint>
#include <string>

#include "aeflow/data/dataset.hpp"
#include "aeflow/io/history.hpp"
#include "aeflow/model/network.hpp"

namespace aeflow::train {

// The first image of each label in SOURCE (labels ascending, at most ten), no frames yet. SPLIT
// names SOURCE ("validation" or "train"); FIRST_ROW is its first row in the training file.
io::Snapshots choose_snapshot_images(const data::Dataset& source, const std::string& split,
                                     int64_t first_row);

// Adds NETWORK's reconstructions of SNAPSHOTS' images as the frame of EPOCH.
void add_snapshot_frame(io::Snapshots& snapshots, model::Network& network, int64_t epoch);

}  // namespace aeflow::train
