#include "aeflow/train/resume_policy.hpp"

#include <algorithm>
#include <filesystem>
#include <tuple>

#include "aeflow/base/error.hpp"

namespace aeflow::train {

void check_resumable(const io::CheckpointData& checkpoint, const std::string& path,
                     const TrainConfig& config) {
  if (!checkpoint.spec.same_network(config.spec))
    throw InputError(path + ": checkpoint is a " + checkpoint.spec.describe() +
                     " model, but this run asks for " + config.spec.describe() +
                     "; resume it with the same --encoder, --decoder, activations and --tied");
  if (checkpoint.loss != model::to_string(config.loss))
    throw InputError(path + ": checkpoint was trained with --loss " + checkpoint.loss + ", not " +
                     model::to_string(config.loss));
  if (checkpoint.optimizer != model::to_string(config.optimizer.kind))
    throw InputError(path + ": checkpoint was trained with --optimizer " + checkpoint.optimizer +
                     ", not " + model::to_string(config.optimizer.kind));
  const io::LoopState& then = checkpoint.state;
  for (const auto& [option, was, is] :
       {std::tuple{"batch-size", then.batch_size, config.batch_size},
        std::tuple{"validation", then.validation, config.validation},
        std::tuple{"train-limit", then.train_limit, config.train_limit}})
    if (was >= 0 && was != is)
      throw InputError(path + ": checkpoint was trained with --" + option + " " +
                       std::to_string(was) + ", not " + std::to_string(is) +
                       ": resume with the same (it decides which images each step takes)");
}

void check_intact(const io::CheckpointData& checkpoint, const std::string& path,
                  const model::Optimizer& optimizer) {
  if (checkpoint.optimizer_step < 0 || checkpoint.state.global_step < 0)
    throw InputError(path + ": negative step counts (damaged checkpoint)");
  for (const auto& state : optimizer.state()) {
    auto found = std::find_if(checkpoint.optimizer_state.begin(), checkpoint.optimizer_state.end(),
                              [&](const io::NamedArray& a) { return a.name == state.name; });
    if (found == checkpoint.optimizer_state.end() || found->values.size() != state.values.size())
      throw InputError(path + ": optimizer state '" + state.name + "' missing or the wrong size");
  }
}

std::string pick_checkpoint(const TrainConfig& config, const RunDirectory& run_dir,
                            const model::Optimizer& optimizer, io::CheckpointData& checkpoint,
                            std::ostream& log) {
  if (config.resume.empty()) return "";
  if (config.resume != "auto") {
    checkpoint = io::read_checkpoint(config.resume);
    check_resumable(checkpoint, config.resume, config);
    check_intact(checkpoint, config.resume, optimizer);
    return config.resume;
  }
  const auto candidates = run_dir.resume_candidates();
  for (const auto& candidate : candidates) {
    const std::string path = candidate.string();
    try {
      checkpoint = io::read_checkpoint(path);
    } catch (const InputError& error) {
      log << "skipping " << path << ": " << error.what() << std::endl;
      continue;
    }
    check_resumable(checkpoint, path, config);  // (another run's: an error, not a reason to skip)
    try {
      check_intact(checkpoint, path, optimizer);
    } catch (const InputError& error) {
      log << "skipping " << path << ": " << error.what() << std::endl;
      continue;
    }
    return path;
  }
  // Starting over here would overwrite best.h5, metrics.h5 and the damaged files' run.
  if (!candidates.empty())
    throw InputError("none of the " + std::to_string(candidates.size()) + " checkpoints in " +
                     run_dir.checkpoints().string() +
                     " can be read: resume from one that can (best.h5?) with --resume PATH, or "
                     "pass --force instead of --resume to start over (it deletes them)");
  // Only best.h5: a run stopped between its first best.h5 and its first step checkpoint (killed
  // there, or --checkpoint-every beyond the epochs it got through). best.h5 is a whole
  // checkpoint of an epoch's end: go on from it (starting over would overwrite it).
  if (std::filesystem::exists(run_dir.best_path())) {
    const std::string path = run_dir.best_path().string();
    checkpoint = io::read_checkpoint(path);  // (damaged: an InputError, never a new run)
    check_resumable(checkpoint, path, config);
    check_intact(checkpoint, path, optimizer);
    log << "no step checkpoint in " << run_dir.checkpoints().string() << ": resuming best.h5"
        << std::endl;
    return path;
  }
  log << "no checkpoint to resume in " << run_dir.checkpoints().string() << ": starting a new run"
      << std::endl;
  return "";
}

}  // namespace aeflow::train
