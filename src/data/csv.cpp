#include "data/csv.h"

#include "core/error.h"

namespace cervirisk::data {

int CsvTable::column(const std::string& name) const {
  for (std::size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return static_cast<int>(i);
  return -1;
}

CsvTable parse_csv(std::string_view text, const std::string& source) {
  CsvTable t;
  if (text.size() >= 3 && static_cast<unsigned char>(text[0]) == 0xEF &&
      static_cast<unsigned char>(text[1]) == 0xBB && static_cast<unsigned char>(text[2]) == 0xBF)
    text.remove_prefix(3);
  // Delimiter: whichever of ',' and ';' occurs more often outside quotes on the header line.
  {
    int commas = 0, semis = 0;
    bool q = false;
    for (char ch : text) {
      if (ch == '"') q = !q;
      else if (!q && (ch == '\n' || ch == '\r')) break;
      else if (!q && ch == ',') ++commas;
      else if (!q && ch == ';') ++semis;
    }
    t.delimiter = semis > commas ? ';' : ',';
  }
  const char d = t.delimiter;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, field_started = false, any = false;
  std::size_t line = 1, row_line = 1;
  auto end_field = [&] {
    row.push_back(field);
    field.clear();
    field_started = false;
  };
  auto end_row = [&] {
    end_field();
    const bool blank = row.size() == 1 && row[0].empty();
    if (!blank) {
      if (t.header.empty()) {
        t.header = row;
      } else {
        if (row.size() != t.header.size())
          throw FormatError(source + " line " + std::to_string(row_line) + ": " +
                            std::to_string(row.size()) + " fields, expected " +
                            std::to_string(t.header.size()) + " (as in the header)");
        t.rows.push_back(row);
        t.lines.push_back(row_line);
      }
    }
    row.clear();
    any = false;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (quoted) {
      if (ch == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (ch == '\n') ++line;
        field += ch;
      }
      continue;
    }
    if (!any) row_line = line, any = true;
    if (ch == '"' && !field_started) {
      quoted = true;
      field_started = true;
    } else if (ch == d) {
      end_field();
    } else if (ch == '\r') {
      // CR of CRLF (a lone CR is also taken as a line end)
      if (i + 1 < text.size() && text[i + 1] == '\n') continue;
      end_row();
      ++line;
    } else if (ch == '\n') {
      end_row();
      ++line;
    } else {
      field += ch;
      if (ch != ' ' && ch != '\t') field_started = true;
    }
  }
  if (quoted) throw FormatError(source + " line " + std::to_string(row_line) + ": unterminated quoted field");
  if (any || !field.empty() || !row.empty()) end_row();
  if (t.header.empty()) throw FormatError(source + ": empty file (no header line)");
  for (auto& h : t.header) {
    while (!h.empty() && (h.back() == ' ' || h.back() == '\t')) h.pop_back();
    while (!h.empty() && (h.front() == ' ' || h.front() == '\t')) h.erase(h.begin());
  }
  return t;
}

std::string csv_field(std::string_view s, char delimiter) {
  bool need = s.empty() ? false : (s.front() == ' ' || s.back() == ' ');
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

}  // namespace cervirisk::data
