// Sweep tables in HDF5 (see sweep_table.hpp and docs/hdf5-schema.md, "Sweep").
#include "aeflow/io/sweep_table.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "aeflow/base/error.hpp"
#include "aeflow/io/atomic_file.hpp"
#include "aeflow/io/file_header.hpp"
#include "aeflow/io/hdf5.hpp"
#include "columns.hpp"

namespace aeflow::io {

namespace {

constexpr const char* kFormat = "aeflow-sweep";
constexpr int64_t kFormatVersion = 1;

bool is_number(const std::string& text) {
  if (text.empty()) return false;
  char* end = nullptr;
  std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size();
}

// "k=10,lr=0.003" -> {{"k", "10"}, {"lr", "0.003"}} (a grid value holds no comma).
std::vector<std::pair<std::string, std::string>> settings_of(const std::string& name) {
  std::vector<std::pair<std::string, std::string>> settings;
  size_t begin = 0;
  while (begin < name.size()) {
    size_t end = name.find(',', begin);
    if (end == std::string::npos) end = name.size();
    const std::string item = name.substr(begin, end - begin);
    const size_t equals = item.find('=');
    if (equals != std::string::npos)
      settings.emplace_back(item.substr(0, equals), item.substr(equals + 1));
    begin = end + 1;
  }
  return settings;
}

// One column per grid key: float64 when every run's value is a number, else strings.
void write_settings(h5::Group& runs, const std::vector<SweepRow>& rows) {
  std::vector<std::string> keys;
  for (const SweepRow& row : rows)
    for (const auto& [key, value] : row.settings)
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
  h5::Group group = runs.create_group("settings");
  for (const std::string& key : keys) {
    std::vector<std::string> texts;
    for (const SweepRow& row : rows) {
      auto found = std::find_if(row.settings.begin(), row.settings.end(),
                                [&](const auto& setting) { return setting.first == key; });
      texts.push_back(found == row.settings.end() ? "" : found->second);
    }
    if (std::all_of(texts.begin(), texts.end(), is_number)) {
      std::vector<double> numbers;
      for (const std::string& text : texts) numbers.push_back(std::strtod(text.c_str(), nullptr));
      group.write_dataset(key, numbers);
    } else {
      group.write_strings(key, texts);
    }
  }
}

// Validation curves [runs, epochs], NaN after a run's last epoch.
void write_curves(h5::File& file, const std::vector<SweepRow>& rows) {
  size_t epochs = 0;
  for (const SweepRow& row : rows) epochs = std::max(epochs, row.val_loss.size());
  std::vector<double> curves(rows.size() * epochs, SweepRow::kNaN);
  for (size_t r = 0; r < rows.size(); ++r)
    std::copy(rows[r].val_loss.begin(), rows[r].val_loss.end(), curves.begin() + long(r * epochs));
  h5::Group group = file.create_group("curves");
  group.write_dataset<double>("val_loss", curves, {rows.size(), epochs});
}

}  // namespace

std::string to_string(RunStatus status) {
  switch (status) {
    case RunStatus::kPending:
      return "pending";
    case RunStatus::kDone:
      return "done";
    case RunStatus::kFailed:
      return "failed";
    case RunStatus::kInterrupted:
      return "interrupted";
    case RunStatus::kPruned:
      return "pruned";
  }
  return "pending";
}

RunStatus parse_run_status(const std::string& text) {
  for (RunStatus status : {RunStatus::kPending, RunStatus::kDone, RunStatus::kFailed,
                           RunStatus::kInterrupted, RunStatus::kPruned})
    if (to_string(status) == text) return status;
  throw InputError("unknown run status '" + text + "'");
}

void write_sweep_table(const std::string& path, const std::string& config,
                       const std::vector<SweepRow>& rows) {
  AtomicFile atomic(path, true);
  try {
    {
      h5::File file = h5::File::create(atomic.temp_path(), h5::CreateMode::kTruncate);
      write_file_header(file, kFormat, kFormatVersion, config);
      {
        h5::Group runs = file.create_group("runs");
        runs.set_int_attribute("rows", int64_t(rows.size()));
        runs.write_strings("name", column(rows, &SweepRow::name));
        runs.write_strings("run_dir", column(rows, &SweepRow::run_dir));
        runs.write_strings("config", column(rows, &SweepRow::config));
        runs.write_strings("config_hash", column(rows, &SweepRow::config_hash));
        runs.write_dataset("k", column(rows, &SweepRow::k));
        std::vector<std::string> status;
        for (const SweepRow& row : rows) status.push_back(to_string(row.status));
        runs.write_strings("status", status);
        runs.write_dataset("attempts", column(rows, &SweepRow::attempts));
        runs.write_strings("error", column(rows, &SweepRow::error));
        runs.write_dataset("test_mse", column(rows, &SweepRow::test_mse));
        runs.write_dataset("test_rmse", column(rows, &SweepRow::test_rmse));
        runs.write_dataset("test_bce", column(rows, &SweepRow::test_bce));
        runs.write_dataset("pca_rmse", column(rows, &SweepRow::pca_rmse));
        runs.write_dataset("knn_accuracy", column(rows, &SweepRow::knn_accuracy));
        runs.write_dataset("last_val_loss", column(rows, &SweepRow::last_val_loss));
        runs.write_dataset("epochs", column(rows, &SweepRow::epochs));
        runs.write_dataset("best_epoch", column(rows, &SweepRow::best_epoch));
        runs.write_dataset("wall_seconds", column(rows, &SweepRow::wall_seconds));
        runs.write_dataset("ranks", column(rows, &SweepRow::ranks));
        runs.write_dataset("group", column(rows, &SweepRow::group));
        write_settings(runs, rows);
      }
      write_curves(file, rows);
      file.close();
    }
    atomic.commit();
  } catch (const std::exception& error) {
    throw RunError(path + ": cannot write the sweep table: " + error.what());
  }
}

std::vector<SweepRow> read_sweep_table(const std::string& path) {
  const h5::File file = h5::File::open(path);
  check_file_header(file, path, kFormat, kFormatVersion, "a sweep table");
  const h5::Group runs = file.open_group("runs");
  const size_t n = size_t(runs.int_attribute("rows"));
  auto strings = [&](const char* name) {
    std::vector<std::string> values = runs.open_dataset(name).read_strings();
    if (values.size() != n)
      throw InputError(path + ": /runs/" + name + " holds " + std::to_string(values.size()) +
                       " values for " + std::to_string(n) + " rows");
    return values;
  };
  auto numbers = [&]<class T>(const char* name, T) {
    std::vector<T> values = runs.read_dataset<T>(name);
    if (values.size() != n)
      throw InputError(path + ": /runs/" + name + " holds " + std::to_string(values.size()) +
                       " values for " + std::to_string(n) + " rows");
    return values;
  };
  std::vector<SweepRow> rows(n);
  fill_column(rows, &SweepRow::name, strings("name"));
  fill_column(rows, &SweepRow::run_dir, strings("run_dir"));
  fill_column(rows, &SweepRow::config, strings("config"));
  fill_column(rows, &SweepRow::config_hash, strings("config_hash"));
  fill_column(rows, &SweepRow::k, numbers("k", int64_t()));
  const std::vector<std::string> status = strings("status");
  fill_column(rows, &SweepRow::attempts, numbers("attempts", int64_t()));
  fill_column(rows, &SweepRow::error, strings("error"));
  fill_column(rows, &SweepRow::test_mse, numbers("test_mse", double()));
  fill_column(rows, &SweepRow::test_rmse, numbers("test_rmse", double()));
  fill_column(rows, &SweepRow::test_bce, numbers("test_bce", double()));
  fill_column(rows, &SweepRow::pca_rmse, numbers("pca_rmse", double()));
  fill_column(rows, &SweepRow::knn_accuracy, numbers("knn_accuracy", double()));
  fill_column(rows, &SweepRow::last_val_loss, numbers("last_val_loss", double()));
  fill_column(rows, &SweepRow::epochs, numbers("epochs", int64_t()));
  fill_column(rows, &SweepRow::best_epoch, numbers("best_epoch", int64_t()));
  fill_column(rows, &SweepRow::wall_seconds, numbers("wall_seconds", double()));
  fill_column(rows, &SweepRow::ranks, numbers("ranks", int64_t()));
  fill_column(rows, &SweepRow::group, numbers("group", int64_t()));
  std::vector<size_t> shape;
  const std::vector<double> curves = file.read_dataset<double>("curves/val_loss", &shape);
  if (shape.size() != 2 || shape[0] != n)
    throw InputError(path + ": /curves/val_loss is " + h5::format_shape(shape) + " for " +
                     std::to_string(n) + " rows");
  for (size_t r = 0; r < n; ++r) {
    rows[r].status = parse_run_status(status[r]);
    rows[r].settings = settings_of(rows[r].name);
    for (size_t e = 0; e < shape[1] && !std::isnan(curves[r * shape[1] + e]); ++e)
      rows[r].val_loss.push_back(curves[r * shape[1] + e]);
  }
  return rows;
}

}  // namespace aeflow::io
