#include "aeflow/train/run_directory.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "aeflow/base/error.hpp"
#include "aeflow/io/atomic_file.hpp"

namespace aeflow::train {
namespace fs = std::filesystem;

RunDirectory::RunDirectory(fs::path run) : run_(std::move(run)) {}

std::string RunDirectory::step_name(int64_t step) {
  char text[32];
  std::snprintf(text, sizeof text, "step-%09lld.h5", static_cast<long long>(step));
  return text;
}

std::vector<fs::path> RunDirectory::step_files() const {
  std::vector<fs::path> found;
  if (!fs::is_directory(checkpoints())) return found;
  for (const auto& entry : fs::directory_iterator(checkpoints())) {
    const std::string name = entry.path().filename().string();
    if (name.size() == 17 && name.starts_with("step-") && name.ends_with(".h5"))
      found.push_back(entry.path());
  }
  std::sort(found.begin(), found.end());
  return found;
}

void RunDirectory::create() const {
  fs::create_directories(checkpoints());
}

void RunDirectory::remove_checkpoints() const {
  for (const auto& path : step_files()) fs::remove(path);
  fs::remove(latest_path());
  fs::remove(best_path());
}

void RunDirectory::write_config(const std::string& ini) const {
  io::AtomicFile file(config_path().string(), true);
  std::FILE* out = std::fopen(file.temp_path().c_str(), "w");
  if (!out) throw RunError("cannot write " + file.temp_path() + ": " + std::strerror(errno));
  std::fputs(ini.c_str(), out);
  if (std::fclose(out) != 0)
    throw RunError("cannot write " + file.temp_path() + ": " + std::strerror(errno));
  file.commit();
}

void RunDirectory::point_latest(const fs::path& target) const {
  const fs::path temp = checkpoints() / "latest.h5.tmp";
  std::error_code ignored;
  fs::remove(temp, ignored);
  fs::create_symlink(target.filename(), temp);
  fs::rename(temp, latest_path());
}

bool RunDirectory::has_checkpoints() const {
  return !step_files().empty() || fs::exists(best_path());
}

std::vector<fs::path> RunDirectory::resume_candidates() const {
  std::error_code error;
  const fs::path latest = fs::read_symlink(latest_path(), error);
  const fs::path target =
      !error && fs::exists(checkpoints() / latest) ? checkpoints() / latest : fs::path();
  const auto found = step_files();  // (names sort by step)
  std::vector<fs::path> candidates, newer;
  if (!target.empty()) candidates.push_back(target);
  for (auto it = found.rbegin(); it != found.rend(); ++it) {
    if (*it == target) continue;
    (target.empty() || *it < target ? candidates : newer).push_back(*it);
  }
  candidates.insert(candidates.end(), newer.begin(), newer.end());
  return candidates;
}

void RunDirectory::retain(const fs::path& newest, int64_t keep) const {
  const auto all = step_files();
  const size_t mine = size_t(std::upper_bound(all.begin(), all.end(), newest) - all.begin());
  const size_t kept = size_t(std::max<int64_t>(1, keep));
  for (size_t i = 0; i + kept < mine; ++i) fs::remove(all[i]);
}

}  // namespace aeflow::train
