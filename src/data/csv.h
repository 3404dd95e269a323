// Writing CSV (the manifest, clinical table and truth of the synthetic cohort, the cohort table):
// a field is quoted when it needs to be. Reading is io::Table's (io/table.h).
#pragma once

#include <string>
#include <string_view>

namespace cervirisk::data {

// The field, double-quoted with "" escapes when it holds the delimiter, a quote, a line break or
// leading / trailing spaces (RFC 4180).
std::string csv_field(std::string_view s, char delimiter = ',');

}  // namespace cervirisk::data
