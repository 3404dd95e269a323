#include "data/csv.h"

#include <cstdio>

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

std::string fixed(double v, int decimals) {
  char b[352];  // the longest double in %.*f with up to 20 decimals
  std::snprintf(b, sizeof b, "%.*f", decimals, v);
  return b;
}

}  // namespace cervirisk::data
