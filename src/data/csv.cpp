#include "data/csv.h"

namespace cervirisk::data {

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
