// The per-epoch history table (see history.hpp), shared by checkpoints and metrics files.
#include "aeflow/io/history.hpp"

#include <type_traits>

#include "aeflow/base/error.hpp"
#include "columns.hpp"

namespace aeflow::io {

void write_history(h5::Group& group, const std::vector<HistoryRow>& rows) {
  group.set_int_attribute("rows", int64_t(rows.size()));
  group.write_dataset("epoch", column(rows, &HistoryRow::epoch));
  group.write_dataset("step", column(rows, &HistoryRow::step));
  group.write_dataset("train_loss", column(rows, &HistoryRow::train_loss));
  group.write_dataset("val_loss", column(rows, &HistoryRow::val_loss));
  group.write_dataset("val_rmse", column(rows, &HistoryRow::val_rmse));
  group.write_dataset("learning_rate", column(rows, &HistoryRow::learning_rate));
  group.write_dataset("seconds", column(rows, &HistoryRow::seconds));
}

std::vector<HistoryRow> read_history(const h5::Group& group, const std::string& path) {
  const std::vector<int64_t> epoch = group.read_dataset<int64_t>("epoch");
  std::vector<HistoryRow> rows(epoch.size());
  auto fill = [&](const char* name, auto member) {
    using T = std::remove_reference_t<decltype(rows[0].*member)>;
    const std::vector<T> values = group.read_dataset<T>(name);
    if (values.size() != rows.size())
      throw InputError(path + ": /history/" + std::string(name) + " has " +
                       std::to_string(values.size()) + " rows, /history/epoch " +
                       std::to_string(rows.size()));
    for (size_t i = 0; i < rows.size(); ++i) rows[i].*member = values[i];
  };
  fill("epoch", &HistoryRow::epoch);
  fill("step", &HistoryRow::step);
  fill("train_loss", &HistoryRow::train_loss);
  fill("val_loss", &HistoryRow::val_loss);
  fill("val_rmse", &HistoryRow::val_rmse);
  fill("learning_rate", &HistoryRow::learning_rate);
  fill("seconds", &HistoryRow::seconds);
  return rows;
}

}  // namespace aeflow::io
