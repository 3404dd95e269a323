// A small CSV table: UTF-8 (a leading BOM is skipped), comma or semicolon separated (detected
// from the header line unless given), RFC 4180 quoting ("" inside quotes, separators and line
// breaks inside quoted fields), CRLF or LF line ends. Cells are kept as strings; a cell that is
// empty or one of the missing markers (NA by default) is missing. Numeric access parses on demand
// and reports the file, line and column of a cell that is not a number.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cervirisk::io {

struct CsvOptions {
  char delimiter = '\0';                      // '\0' = detect (',' or ';') from the header
  std::vector<std::string> missing = {"NA"};  // markers of a missing cell, besides ""
  bool trim = true;                           // strip spaces/tabs around unquoted cells
};

class Table {
 public:
  // Throws InputError when the file cannot be read, FormatError on malformed CSV
  // (unterminated quote, a row with the wrong number of cells, duplicate/empty header names).
  static Table read_csv(const std::filesystem::path& path, const CsvOptions& options = {});
  // `source` names the text in error messages.
  static Table parse_csv(std::string_view text, const std::string& source, const CsvOptions& options = {});

  std::size_t rows() const { return cells_.size(); }
  std::size_t cols() const { return names_.size(); }
  const std::vector<std::string>& column_names() const { return names_; }
  const std::string& source() const { return source_; }
  char delimiter() const { return delimiter_; }

  bool has_column(const std::string& name) const;
  // Throws ConfigError naming the file and listing the available columns.
  std::size_t column_index(const std::string& name) const;

  // row, col are 0-based data rows / columns.
  const std::string& cell(std::size_t row, std::size_t col) const { return cells_[row][col]; }
  bool is_missing(std::size_t row, std::size_t col) const;
  // The file line on which a data row starts (1-based; the header is line 1 or later).
  std::size_t line_of(std::size_t row) const { return lines_[row]; }

  // nullopt when missing; throws FormatError "<file>:<line>: column '<name>': '<cell>' is not a number".
  std::optional<double> number(std::size_t row, std::size_t col) const;
  std::vector<std::optional<double>> numeric_column(const std::string& name) const;
  std::vector<std::optional<std::string>> string_column(const std::string& name) const;

 private:
  std::string source_;
  char delimiter_ = ',';
  std::vector<std::string> missing_;
  std::vector<std::string> names_;
  std::vector<std::vector<std::string>> cells_;
  std::vector<std::size_t> lines_;
};

// Writing: the field, double-quoted with "" escapes when it holds the delimiter, a quote, a line
// break or leading / trailing spaces (which reading would trim) -- RFC 4180.
std::string csv_field(std::string_view s, char delimiter = ',');

}  // namespace cervirisk::io
