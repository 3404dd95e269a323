// Writing CSV (the manifest, clinical table and truth of the synthetic cohort, the cohort table):
// fields are quoted by io::csv_field, numbers have a fixed number of decimals. Reading is
// io::Table's (io/table.h).
#pragma once

#include <string>
#include <string_view>

namespace cervirisk::data {

// v with `decimals` digits after the point (printf "%.*f"): the synthetic cohort's tables and
// reports write their numbers so.
std::string fixed(double v, int decimals);

}  // namespace cervirisk::data
