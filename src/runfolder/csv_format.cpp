#include "runfolder/csv_format.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "runfolder/layout.h"

namespace cervirisk::runfolder {

namespace fs = std::filesystem;

const std::vector<std::string> kCohortNames = {"train", "internal", "external", "test_internal", "test_external"};

std::string csv_header(const std::vector<std::string>& columns) {
  std::string h;
  for (std::size_t i = 0; i < columns.size(); ++i) h += (i ? "," : "") + columns[i];
  return h + "\n";
}

io::Table read_csv_format(const fs::path& file, const std::vector<std::string>& columns) {
  io::CsvOptions o;
  o.delimiter = ',';
  o.missing = {};
  o.trim = false;
  io::Table t = io::Table::read_csv(file, o);
  if (t.column_names() != columns) {
    std::string got;
    for (std::size_t i = 0; i < t.column_names().size(); ++i) got += (i ? "," : "") + t.column_names()[i];
    std::string want = csv_header(columns);
    want.pop_back();
    throw FormatError(file.string() + ": header '" + got + "', expected '" + want + "'");
  }
  return t;
}

void cell_error(const io::Table& t, std::size_t row, std::size_t col, const std::string& what) {
  throw FormatError(t.source() + ":" + std::to_string(t.line_of(row)) + ": column '" + t.column_names()[col] +
                    "': " + what);
}

double cell_number(const io::Table& t, std::size_t row, std::size_t col) {
  const auto v = t.number(row, col);
  if (!v) cell_error(t, row, col, "empty, expected a number");
  return *v;
}

double cell_number_or_nan(const io::Table& t, std::size_t row, std::size_t col) {
  const auto v = t.number(row, col);
  return v ? *v : kNaN;
}

int cell_flag(const io::Table& t, std::size_t row, std::size_t col) {
  const std::string& s = t.cell(row, col);
  if (s != "0" && s != "1") cell_error(t, row, col, "'" + s + "', expected 0 or 1");
  return s == "1";
}

const std::string& cell_choice(const io::Table& t, std::size_t row, std::size_t col,
                               const std::vector<std::string>& choices) {
  const std::string& s = t.cell(row, col);
  if (std::find(choices.begin(), choices.end(), s) == choices.end()) {
    std::string list;
    for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
    cell_error(t, row, col, "'" + s + "', expected one of " + list);
  }
  return s;
}

std::string shortest(double v) { return std::isfinite(v) ? fmt::format("{}", v) : std::string(); }

}  // namespace cervirisk::runfolder
