// Which checkpoint a run continues from, and which it must refuse: the policy of --resume, on
// plain data. Rank 0 applies it (the trainer broadcasts its choice, so every rank loads the same
// file); nothing here calls MPI.
#pragma once

#include <ostream>
#include <string>

#include "aeflow/io/checkpoint.hpp"
#include "aeflow/model/optimizer.hpp"
#include "aeflow/train/run_directory.hpp"
#include "aeflow/train/train_config.hpp"

namespace aeflow::train {

// Throws InputError if CHECKPOINT cannot continue the run CONFIG describes: another model, loss
// or optimizer, or settings that decide which images make each step (the batch, the validation
// split, the training subset) changed, so its place in the epoch would mean other images.
void check_resumable(const io::CheckpointData& checkpoint, const std::string& path,
                     const TrainConfig& config);

// Throws InputError if CHECKPOINT's contents cannot be those of any run of this model (damage):
// negative step counts, or a state array of OPTIMIZER missing or of another size.
void check_intact(const io::CheckpointData& checkpoint, const std::string& path,
                  const model::Optimizer& optimizer);

// The checkpoint to continue from ("" for a new run), read into CHECKPOINT. With --resume auto,
// one that cannot be read (damaged, cut short) falls back to an older one, saying so on LOG; one
// that reads but belongs to another run is an error, never a reason to start over; a run
// directory whose checkpoints all fail to read is an error too (starting over would overwrite
// best.h5 and metrics.h5); and one that holds only best.h5 (stopped before its first step
// checkpoint) resumes best.h5.
std::string pick_checkpoint(const TrainConfig& config, const RunDirectory& run_dir,
                            const model::Optimizer& optimizer, io::CheckpointData& checkpoint,
                            std::ostream& log);

}  // namespace aeflow::train
