// Tables stored as one 1-D dataset per column (a run's history, metrics' per-class table, a
// sweep's runs): a column taken out of the rows by member, and put back.
#pragma once

#include <vector>

namespace aeflow::io {

template <class Row, class T>
std::vector<T> column(const std::vector<Row>& rows, T Row::*member) {
  std::vector<T> values;
  values.reserve(rows.size());
  for (const Row& row : rows) values.push_back(row.*member);
  return values;
}

// VALUES (as many as ROWS) into each row's MEMBER.
template <class Row, class T>
void fill_column(std::vector<Row>& rows, T Row::*member, const std::vector<T>& values) {
  for (size_t i = 0; i < rows.size(); ++i) rows[i].*member = values[i];
}

}  // namespace aeflow::io
