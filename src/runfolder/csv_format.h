// What every CSV file of a run folder shares: read through io::Table with the header checked
// against the format's columns (the header is the format's version tag), typed cells with
// errors that name the file, line and column, and the writer's field quoting.
#pragma once

#include <cstddef>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "io/table.h"

namespace cervirisk::runfolder {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Reads `file` (comma-separated, RFC 4180) and checks that its header is exactly `columns`.
// Throws InputError when unreadable, FormatError on malformed CSV or another header.
io::Table read_csv_format(const std::filesystem::path& file, const std::vector<std::string>& columns);

// Reads a file of the format into rows: fill(row, table, r) sets row from data row r.
template <typename Row, typename Fill>
std::vector<Row> read_csv_rows(const std::filesystem::path& file, const std::vector<std::string>& columns, Fill fill) {
  const io::Table t = read_csv_format(file, columns);
  std::vector<Row> rows(t.rows());
  for (std::size_t r = 0; r < t.rows(); ++r) fill(rows[r], t, r);
  return rows;
}

// The header line of a format: the columns joined by commas, with a newline.
std::string csv_header(const std::vector<std::string>& columns);

// A number cell: FormatError "<file>:<line>: column '<name>': ..." when it is empty or not a number.
double cell_number(const io::Table& t, std::size_t row, std::size_t col);
// A number cell that may be empty (NaN).
double cell_number_or_nan(const io::Table& t, std::size_t row, std::size_t col);
// A 0/1 cell.
int cell_flag(const io::Table& t, std::size_t row, std::size_t col);
// A cell that must be one of `choices`.
const std::string& cell_choice(const io::Table& t, std::size_t row, std::size_t col,
                               const std::vector<std::string>& choices);
// FormatError naming the file, line and column of a cell.
[[noreturn]] void cell_error(const io::Table& t, std::size_t row, std::size_t col, const std::string& what);

// The shortest text that reads back to the same double; empty for NaN.
std::string shortest(double v);

}  // namespace cervirisk::runfolder
