// The manifest's CSV dialect (RFC 4180 plus what spreadsheets write): UTF-8 with or without a
// byte-order mark, comma or semicolon (detected on the header line), double-quoted fields with
// "" escapes and embedded newlines, CRLF or LF line ends.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cervirisk::data {

struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  // each padded / checked to header.size()
  std::vector<std::size_t> lines;              // 1-based line where each row starts
  char delimiter = ',';
  int column(const std::string& name) const;   // -1 when absent
};

// Throws FormatError naming `source` and the line for an unterminated quote or a row whose field
// count differs from the header's.
CsvTable parse_csv(std::string_view text, const std::string& source);

// A field quoted when it needs to be (delimiter, quote, newline, leading/trailing space).
std::string csv_field(std::string_view s, char delimiter = ',');

}  // namespace cervirisk::data
