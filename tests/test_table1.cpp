// Table 1 with p-values (src/report/table1.cpp) against the same table built in R:
// tests/data/stats/group_tests.json ("table1"), from scripts/table1_golden.R (quantile type 7,
// chisq.test, kruskal.test, oneway.test(var.equal = TRUE), missing values left out).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "report/table1.h"
#include "test_util.h"

using namespace cervirisk;
using namespace cervirisk::report;
using nlohmann::json;
using Summary = Table1Variable::Summary;

namespace {

const json& golden() {
  static const json j = [] {
    std::ifstream in(std::string(CERV_TEST_DATA) + "/stats/group_tests.json");
    return json::parse(in)["table1"];
  }();
  return j;
}

std::vector<double> column(const std::string& name) {
  std::vector<double> v;
  for (const auto& x : golden()["patients"][name]) v.push_back(x.is_null() ? NAN : x.get<double>());
  return v;
}

Table1Variable var(const std::string& name, Summary s, const std::string& column_name) {
  Table1Variable v;
  v.name = name;
  v.summary = s;
  v.values = column(column_name);
  return v;
}

// The golden Table 1's characteristics, in its order.
Table1 golden_table() {
  std::vector<int> group_of;
  for (const auto& g : golden()["patients"]["cohort"]) group_of.push_back(g.get<int>());
  std::vector<Table1Variable> vars;
  vars.push_back(var("recurrence", Summary::kYesCount, "recurrence"));
  vars.back().percent = true;
  vars.push_back(var("report available", Summary::kYesCount, "report"));
  vars.back().percent = true;
  vars.push_back(var("age (years)", Summary::kMedianIqr, "age"));
  vars.push_back(var("bmi (kg/m2)", Summary::kMeanSd, "bmi"));
  vars.push_back(var("stage", Summary::kLevelCounts, "stage"));
  vars.back().levels = golden()["stage_levels"].get<std::vector<std::string>>();
  vars.back().percent = true;
  vars.push_back(var("marker", Summary::kMedianIqr, "marker"));
  vars.push_back(var("grade", Summary::kMedianIqr, "grade"));
  return make_table1(golden()["groups"].get<std::vector<std::string>>(), group_of, vars);
}

}  // namespace

TEST(Table1, MatchesRTableWithPValues) {
  const Table1 t = golden_table();
  EXPECT_EQ(t.group_n, golden()["group_n"].get<std::vector<std::size_t>>());
  const auto& rows = golden()["rows"];
  ASSERT_EQ(t.rows.size(), rows.size());
  double max_rel = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    const std::string name = r["characteristic"];
    EXPECT_EQ(t.rows[i].cells.at(0), name);
    EXPECT_EQ(std::vector<std::string>(t.rows[i].cells.begin() + 1, t.rows[i].cells.end()),
              r["cells"].get<std::vector<std::string>>())
        << name;
    EXPECT_EQ(t.rows[i].has_test, r["has_test"].get<bool>()) << name;
    EXPECT_EQ(t.rows[i].test, r["test"].get<std::string>()) << name;
    EXPECT_EQ(t.rows[i].has_test ? format_p(t.rows[i].p) : "", r["p_text"].get<std::string>()) << name;
    if (r["p"].is_null()) {
      EXPECT_TRUE(std::isnan(t.rows[i].p)) << name;
    } else {
      const double e = r["p"];
      EXPECT_NEAR(t.rows[i].p, e, 1e-10 * e) << name;
      max_rel = std::max(max_rel, std::fabs(t.rows[i].p - e) / e);
    }
  }
  std::printf("max relative difference of the p-values to R: %.3g\n", max_rel);
}

TEST(Table1, CsvHasPAndTestColumns) {
  const std::string csv = table1_csv(golden_table());
  std::istringstream in(csv);
  std::string header, line;
  std::getline(in, header);
  EXPECT_EQ(header, "characteristic,train (n = 22),internal (n = 14),external (n = 12),p,test");
  std::getline(in, line);
  EXPECT_EQ(line, "recurrence,9 (40.9%),8 (57.1%),2 (16.7%),0.108,\"chi-squared, expected < 5\"");
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  EXPECT_EQ(lines.at(1),
            "\"age (years), median [IQR]\",\"51.0 [45.0, 59.0]\",\"51.0 [40.0, 54.0]\",\"51.5 [44.8, "
            "55.5]\",0.889,Kruskal-Wallis");
  EXPECT_EQ(lines.at(4), "stage = IIA,0 (0.0%),0 (0.0%),0 (0.0%),,");  // a level row without its own test
  EXPECT_EQ(lines.at(7),
            "\"marker, median [IQR]\",\"1.6 [0.7, 4.7]\",\"2.0 [1.1, 3.7]\",NA,0.559,Kruskal-Wallis");
  EXPECT_EQ(lines.at(8),
            "\"grade, median [IQR]\",\"2.0 [2.0, 2.0]\",\"2.0 [2.0, 2.0]\",\"2.0 [2.0, 2.0]\",NA,"
            "Kruskal-Wallis");
}

TEST(Table1, PFormattedLikeAPaper) {
  EXPECT_EQ(format_p(0.00099), "< 0.001");
  EXPECT_EQ(format_p(0.001), "0.001");
  EXPECT_EQ(format_p(0.0456), "0.046");
  EXPECT_EQ(format_p(0.5), "0.500");
  EXPECT_EQ(format_p(NAN), "NA");
}

TEST(Table1, BadInputNamesTheCharacteristic) {
  auto message = [](auto f) { return cervirisk::testing::error_message<ValidationError>(f); };
  Table1Variable v;
  v.name = "stage";
  v.summary = Summary::kLevelCounts;
  v.levels = {"I", "II"};
  v.values = {0, 2};
  EXPECT_EQ(message([&] {
              make_table1({"a", "b"}, {0, 1}, {v});
            }),
            "table1: characteristic 'stage', patient 1: value 2 is not a level index in [0, 2)");
  v.values = {0};
  EXPECT_EQ(message([&] {
              make_table1({"a", "b"}, {0, 1}, {v});
            }),
            "table1: characteristic 'stage' has 1 values for 2 patients");
  EXPECT_EQ(message([&] {
              make_table1({"a", "b"}, {0, 2}, {});
            }),
            "table1: patient 1 has group index 2, expected 0..1");
  v.summary = Summary::kYesCount;
  v.values = {1, 3};
  EXPECT_EQ(message([&] {
              make_table1({"a", "b"}, {0, 1}, {v});
            }),
            "table1: characteristic 'stage' has the value 3, expected 0 or 1");
}
