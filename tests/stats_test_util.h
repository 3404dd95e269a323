// Helpers shared by the statistics tests: golden JSON, CSV columns, relative comparisons.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/table.h"

namespace stats_test {

using nlohmann::json;

// tests/data/stats/expected.json, goldens.json and sklearn_calibration.json (see its PROVENANCE.md).
const json& reference();
const json& goldens();
const json& sklearn_goldens();
std::string data_path(const std::string& file);  // in tests/data/stats

// Rows of a CSV with no missing value in any column (R's complete.cases).
struct Columns {
  cervirisk::io::Table table;
  std::vector<std::size_t> rows;
  explicit Columns(const std::string& path, const std::vector<std::string>& used = {});
  std::vector<double> num(const std::string& name) const;
  std::vector<int> integer(const std::string& name) const;
  std::vector<std::string> str(const std::string& name) const;
};

std::vector<double> dvec(const json& j);

// |a - e| <= tol * |e| (absolute tol when e == 0); NaN only equals a JSON null.
::testing::AssertionResult rel_near(double actual, double expected, double tol = 1e-9);
::testing::AssertionResult rel_near(double actual, const json& expected, double tol = 1e-9);
void expect_vec(const std::vector<double>& actual, const json& expected, double tol = 1e-9,
                const std::string& what = "");

}  // namespace stats_test
