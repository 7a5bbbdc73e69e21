// The per-epoch history table (see history.hpp), shared by checkpoints and metrics files.
#include "aeflow/io/history.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "aeflow/base/error.hpp"
#include "columns.hpp"

namespace aeflow::io {

void Snapshots::add_frame(int64_t frame_epoch, const float* reconstructions) {
  const size_t size = count() * image_size();
  if (!epoch.empty() && epoch.back() == frame_epoch) {
    frames.resize(frames.size() - size);
    epoch.pop_back();
  }
  epoch.push_back(frame_epoch);
  for (size_t i = 0; i < size; ++i)
    frames.push_back(uint8_t(std::lround(std::clamp(reconstructions[i], 0.0f, 1.0f) * 255.0f)));
}

namespace {

void write_snapshots(h5::Group& group, const Snapshots& s) {
  group.set_string_attribute("split", s.split);
  group.set_int_attribute("rows", s.rows);
  group.set_int_attribute("cols", s.cols);
  const size_t n = s.count(), r = size_t(s.rows), c = size_t(s.cols);
  group.write_dataset("index", s.index);
  group.write_dataset("label", s.label);
  group.write_dataset("input", s.input, {n, r, c});
  group.write_dataset("epoch", s.epoch);
  // A chunk a frame, compressed (reconstructions are mostly dark background): a checkpoint
  // rewrites every frame so far.
  h5::DatasetOptions options;
  options.chunk = {1, n, r, c};
  options.deflate = 4;
  if (!s.epoch.empty())
    group.write_dataset("frames", s.frames, {s.epoch.size(), n, r, c}, options);
  else
    group.write_dataset("frames", s.frames, {0, n, r, c});
}

Snapshots read_snapshots(const h5::Group& group, const std::string& path) {
  Snapshots s;
  s.split = group.string_attribute("split");
  s.rows = group.int_attribute("rows");
  s.cols = group.int_attribute("cols");
  s.index = group.read_dataset<int64_t>("index");
  s.label = group.read_dataset<uint8_t>("label");
  s.epoch = group.read_dataset<int64_t>("epoch");
  std::vector<size_t> input_shape, frames_shape;
  s.input = group.read_dataset<uint8_t>("input", &input_shape);
  s.frames = group.read_dataset<uint8_t>("frames", &frames_shape);
  const size_t n = s.count(), r = size_t(s.rows), c = size_t(s.cols);
  if (s.rows <= 0 || s.cols <= 0 || s.label.size() != n ||
      input_shape != std::vector<size_t>{n, r, c} ||
      frames_shape != std::vector<size_t>{s.epoch.size(), n, r, c})
    throw InputError(path +
                     ": /history/snapshots: index, label, input and frames disagree in "
                     "shape (damaged file)");
  return s;
}

}  // namespace

void write_history(h5::Group& group, const std::vector<HistoryRow>& rows,
                   const Snapshots& snapshots) {
  group.set_int_attribute("rows", int64_t(rows.size()));
  group.write_dataset("epoch", column(rows, &HistoryRow::epoch));
  group.write_dataset("step", column(rows, &HistoryRow::step));
  group.write_dataset("train_loss", column(rows, &HistoryRow::train_loss));
  group.write_dataset("val_loss", column(rows, &HistoryRow::val_loss));
  group.write_dataset("val_rmse", column(rows, &HistoryRow::val_rmse));
  group.write_dataset("learning_rate", column(rows, &HistoryRow::learning_rate));
  group.write_dataset("seconds", column(rows, &HistoryRow::seconds));
  if (snapshots.count() > 0) {
    h5::Group snapshot_group = group.create_group("snapshots");
    write_snapshots(snapshot_group, snapshots);
  }
}

std::vector<HistoryRow> read_history(const h5::Group& group, const std::string& path,
                                     Snapshots* snapshots) {
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
  if (snapshots)
    *snapshots = group.kind("snapshots") == h5::ObjectKind::kGroup
                     ? read_snapshots(group.open_group("snapshots"), path)
                     : Snapshots{};
  return rows;
}

}  // namespace aeflow::io
