#include "aeflow/sweep/sweep_plan.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <numeric>
#include <sstream>

namespace aeflow::sweep {

namespace {

// Options added after the first sweeps, with their defaults: a run's configuration that holds
// one at its default is the configuration it was before the option existed, so a sweep directory
// from then keeps its run names and is not retrained.
const std::map<std::string, std::string> kAddedLater = {{"decoder", "mirror"},
                                                        {"weight-decay", "0"}};

// "name = value" lines of an INI text, by name (comments, sections and options added later at
// their defaults left out).
std::map<std::string, std::string> ini_values(const std::string& ini) {
  std::map<std::string, std::string> values;
  std::istringstream in(ini);
  std::string line;
  while (std::getline(in, line)) {
    const size_t equals = line.find(" = ");
    if (line.empty() || line[0] == '#' || line[0] == '[' || equals == std::string::npos) continue;
    const std::string key = line.substr(0, equals), value = line.substr(equals + 3);
    const auto added = kAddedLater.find(key);
    if (added == kAddedLater.end() || added->second != value) values[key] = value;
  }
  return values;
}

bool defines_the_run(const std::string& key) {
  return key != "out" && key != "threads";
}

}  // namespace

std::string run_name(const Settings& settings) {
  std::string name;
  for (const auto& [key, value] : settings) name += (name.empty() ? "" : ",") + key + "=" + value;
  return name;
}

std::string config_hash(const std::string& ini) {
  uint64_t hash = 1469598103934665603ull;  // FNV-1a
  for (const auto& [key, value] : ini_values(ini)) {
    if (!defines_the_run(key)) continue;
    for (char c : key + "=" + value + "\n") hash = (hash ^ uint8_t(c)) * 1099511628211ull;
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

std::string directory_name(const std::string& name, const std::string& hash) {
  std::string safe;
  for (char c : name.substr(0, 80)) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '.' || c == ',' || c == '=' || c == '+' ||
                         c == '-' || c == '_';
    safe += allowed ? c : '_';
  }
  return safe + "-" + hash;
}

std::string config_difference(const std::string& before, const std::string& after) {
  const auto a = ini_values(before), b = ini_values(after);
  std::string out;
  auto add = [&](const std::string& key, const std::string& was, const std::string& is) {
    if (!defines_the_run(key) || was == is) return;
    out += (out.empty() ? "" : "; ") + key + " = " + (was.empty() ? "(unset)" : was) + " -> " +
           (is.empty() ? "(unset)" : is);
  };
  for (const auto& [key, value] : a) add(key, value, b.count(key) ? b.at(key) : "");
  for (const auto& [key, value] : b)
    if (!a.count(key)) add(key, "", value);
  return out;
}

std::vector<size_t> longest_first(const std::vector<PlannedRun>& runs) {
  std::vector<size_t> order(runs.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return runs[a].cost > runs[b].cost; });
  return order;
}

}  // namespace aeflow::sweep
