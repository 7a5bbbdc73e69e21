#include "aeflow/sweep/pruner.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "aeflow/base/error.hpp"

namespace aeflow::sweep {

Pruner::Pruner(std::filesystem::path records, int64_t first_rung, int64_t eta)
    : records_(std::move(records)), first_rung_(first_rung), eta_(eta) {}

bool Pruner::is_rung(int64_t epoch) const {
  if (first_rung_ <= 0 || epoch < first_rung_) return false;
  for (int64_t rung = first_rung_; rung <= epoch; rung *= eta_)
    if (rung == epoch) return true;
  return false;
}

bool Pruner::cut(const std::string& run, int64_t k, int64_t epoch, double val_loss) const {
  // The losses at this rung and k, by run (a later line of a run replaces an earlier one).
  std::map<std::string, double> losses;
  {
    std::ifstream in(records_);
    std::string line;
    while (std::getline(in, line)) {
      // run \t k \t epoch \t loss (strtod: the loss may be "inf")
      std::istringstream fields(line);
      std::string name, loss;
      int64_t line_k = 0, line_epoch = 0;
      if (!std::getline(fields, name, '\t') || !(fields >> line_k >> line_epoch >> loss)) continue;
      if (line_k == k && line_epoch == epoch) losses[name] = std::strtod(loss.c_str(), nullptr);
    }
  }
  const double loss = std::isnan(val_loss) ? INFINITY : val_loss;  // (a diverged run is the worst)
  losses[run] = loss;

  // Appended with one write and fsynced: a crash leaves whole lines (a cut-off last line is
  // skipped when read).
  char text[64];
  std::snprintf(text, sizeof text, "\t%lld\t%lld\t%.17g\n", static_cast<long long>(k),
                static_cast<long long>(epoch), loss);
  const std::string line = run + text;
  const int fd = ::open(records_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0 || ::write(fd, line.data(), line.size()) != ssize_t(line.size()) || ::fsync(fd) != 0) {
    if (fd >= 0) ::close(fd);
    throw RunError(records_.string() + ": cannot record the rung");
  }
  ::close(fd);

  std::vector<double> sorted;
  for (const auto& [name, loss] : losses) sorted.push_back(loss);
  std::sort(sorted.begin(), sorted.end());
  const size_t keep = std::max<size_t>(1, sorted.size() / size_t(eta_));
  return losses[run] > sorted[keep - 1];
}

}  // namespace aeflow::sweep
