#include "io/table.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <set>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/utf8.h"

namespace cervirisk::io {

namespace {

std::string trim(std::string s) {
  std::size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

}  // namespace

Table Table::read_csv(const std::filesystem::path& path, const CsvOptions& options) {
  return parse_csv(read_file(path), path.string(), options);
}

Table Table::parse_csv(std::string_view text, const std::string& source, const CsvOptions& options) {
  Table t;
  t.source_ = source;
  t.missing_ = options.missing;
  if (text.size() >= 3 && static_cast<unsigned char>(text[0]) == 0xEF &&
      static_cast<unsigned char>(text[1]) == 0xBB && static_cast<unsigned char>(text[2]) == 0xBF)
    text.remove_prefix(3);
  // Tables are UTF-8 (a hospital's export in GB18030 / GBK or Latin-1 is refused here, naming the
  // line, rather than passed on as bytes that no later step can print or match).
  if (const std::size_t bad = utf8_invalid_offset(text); bad != std::string_view::npos) {
    const std::size_t line = 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + bad, '\n'));
    static const char* hex = "0123456789abcdef";
    const auto byte = static_cast<unsigned char>(text[bad]);
    throw FormatError(source + ":" + std::to_string(line) + ": not valid UTF-8 (byte 0x" + hex[byte >> 4] +
                      hex[byte & 15] + " at offset " + std::to_string(bad) +
                      "); save the table as UTF-8 (Excel: \"CSV UTF-8\")");
  }
  char delim = options.delimiter;
  if (delim == '\0') {
    // The header decides: more unquoted ';' than ',' means semicolon-separated (European CSV).
    std::size_t commas = 0, semis = 0;
    bool q = false;
    for (char c : text) {
      if (c == '"') q = !q;
      if (!q && (c == '\n' || c == '\r')) break;
      if (!q && c == ',') ++commas;
      if (!q && c == ';') ++semis;
    }
    delim = semis > commas ? ';' : ',';
  }
  t.delimiter_ = delim;

  std::vector<std::vector<std::string>> records;
  std::vector<std::size_t> record_lines;
  std::vector<std::string> rec;
  std::string field;
  bool quoted = false, was_quoted = false, in_record = false;
  std::size_t line = 1, record_line = 1;
  auto end_field = [&] {
    rec.push_back(was_quoted || !options.trim ? field : trim(field));
    field.clear();
    was_quoted = false;
  };
  auto end_record = [&] {
    end_field();
    // a blank line is not a record
    if (!(rec.size() == 1 && rec[0].empty() && !was_quoted)) {
      records.push_back(std::move(rec));
      record_lines.push_back(record_line);
    }
    rec.clear();
    in_record = false;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (!in_record) {
      in_record = true;
      record_line = line;
    }
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"') {
      if (!trim(field).empty())
        throw FormatError(source + ":" + std::to_string(line) + ": a quote inside an unquoted field");
      field.clear();
      quoted = true;
      was_quoted = true;
    } else if (c == delim) {
      end_field();
    } else if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      end_record();
      ++line;
    } else {
      field += c;
    }
  }
  if (quoted) throw FormatError(source + ":" + std::to_string(record_line) + ": unterminated quoted field");
  if (in_record) end_record();
  if (records.empty()) throw FormatError(source + ": empty file (no header line)");

  t.names_ = records[0];
  std::set<std::string> seen;
  for (std::size_t j = 0; j < t.names_.size(); ++j) {
    if (t.names_[j].empty())
      throw FormatError(source + ": header column " + std::to_string(j + 1) + " has no name");
    if (!seen.insert(t.names_[j]).second)
      throw FormatError(source + ": duplicate column name '" + t.names_[j] + "'");
  }
  for (std::size_t r = 1; r < records.size(); ++r) {
    if (records[r].size() != t.names_.size())
      throw FormatError(source + ":" + std::to_string(record_lines[r]) + ": " +
                        std::to_string(records[r].size()) + " cells, expected " +
                        std::to_string(t.names_.size()) + " (as in the header)");
    t.cells_.push_back(std::move(records[r]));
    t.lines_.push_back(record_lines[r]);
  }
  return t;
}

bool Table::has_column(const std::string& name) const {
  return std::find(names_.begin(), names_.end(), name) != names_.end();
}

std::size_t Table::column_index(const std::string& name) const {
  auto it = std::find(names_.begin(), names_.end(), name);
  if (it == names_.end()) {
    std::string avail;
    for (const auto& n : names_) avail += (avail.empty() ? "" : ", ") + n;
    throw ConfigError(source_ + ": no column '" + name + "' (columns: " + avail + ")");
  }
  return static_cast<std::size_t>(it - names_.begin());
}

bool Table::is_missing(std::size_t row, std::size_t col) const {
  const std::string& s = cells_[row][col];
  return s.empty() || std::find(missing_.begin(), missing_.end(), s) != missing_.end();
}

std::optional<double> Table::number(std::size_t row, std::size_t col) const {
  if (is_missing(row, col)) return std::nullopt;
  const std::string& s = cells_[row][col];
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0' || errno == ERANGE)
    throw FormatError(source_ + ":" + std::to_string(lines_[row]) + ": column '" + names_[col] + "': '" + s +
                      "' is not a number");
  return v;
}

std::vector<std::optional<double>> Table::numeric_column(const std::string& name) const {
  const std::size_t c = column_index(name);
  std::vector<std::optional<double>> out(rows());
  for (std::size_t r = 0; r < rows(); ++r) out[r] = number(r, c);
  return out;
}

std::vector<std::optional<std::string>> Table::string_column(const std::string& name) const {
  const std::size_t c = column_index(name);
  std::vector<std::optional<std::string>> out(rows());
  for (std::size_t r = 0; r < rows(); ++r)
    if (!is_missing(r, c)) out[r] = cells_[r][c];
  return out;
}

std::string csv_field(std::string_view s, char delimiter) {
  // Reading trims spaces and tabs around unquoted cells and skips a byte order mark at the start
  // of the file: a field that would lose either is quoted.
  const auto blank = [](char c) { return c == ' ' || c == '\t'; };
  bool need = !s.empty() && (blank(s.front()) || blank(s.back()) || s.rfind("\xEF\xBB\xBF", 0) == 0);
  for (char ch : s)
    if (ch == delimiter || ch == '"' || ch == '\n' || ch == '\r') need = true;
  if (!need) return std::string(s);
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + "\"";
}

}  // namespace cervirisk::io
