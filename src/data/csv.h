// Writing CSV (the manifest, clinical table and truth of the synthetic cohort, the cohort table):
// a field is quoted when it needs to be, numbers have a fixed number of decimals. Reading is
// io::Table's (io/table.h).
#pragma once

#include <string>
#include <string_view>

namespace cervirisk::data {

// The field, double-quoted with "" escapes when it holds the delimiter, a quote, a line break or
// leading / trailing spaces (RFC 4180).
std::string csv_field(std::string_view s, char delimiter = ',');

// v with `decimals` digits after the point (printf "%.*f"): the synthetic cohort's tables and
// reports write their numbers so.
std::string fixed(double v, int decimals);

}  // namespace cervirisk::data
