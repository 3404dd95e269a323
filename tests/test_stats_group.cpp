// Group comparison tests (src/stats/group_tests.cpp) against R's chisq.test, kruskal.test and
// oneway.test(var.equal = TRUE): tests/data/stats/group_tests.json, from scripts/table1_golden.R.
// Cases: ties, empty levels and groups, missing values, small expected counts, Yates' correction,
// degenerate inputs (NA, never an exception), and the aSAH data of pROC.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "stats/common.h"
#include "stats/group_tests.h"
#include "test_util.h"

using namespace cervirisk;
using nlohmann::json;

namespace {

const json& golden() {
  static const json j = [] {
    std::ifstream in(std::string(CERV_TEST_DATA) + "/stats/group_tests.json");
    return json::parse(in);
  }();
  return j;
}

double value(const json& v) {
  if (v.is_null()) return stats::kNA;
  if (v.is_string() && v.get<std::string>() == "Inf") return INFINITY;
  return v.get<double>();
}

double max_rel_diff = 0;  // over the finite comparisons with R since the last report_max_diff()

// Relative agreement to 1e-10; R's NA (null) must be our NA, R's Inf our Inf.
::testing::AssertionResult agrees(double ours, const json& r) {
  const double e = value(r);
  if (std::isnan(e))
    return std::isnan(ours) ? ::testing::AssertionSuccess()
                            : ::testing::AssertionFailure() << "expected NA, got " << ours;
  if (std::isinf(e))
    return ours == e ? ::testing::AssertionSuccess()
                     : ::testing::AssertionFailure() << "expected Inf, got " << ours;
  if (e != 0) max_rel_diff = std::max(max_rel_diff, std::fabs(ours - e) / std::fabs(e));
  if (std::fabs(ours - e) <= 1e-10 * std::fabs(e) + 1e-300) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "ours " << ours << " vs R " << e << " (rel. diff " << std::fabs(ours - e) / std::fabs(e) << ")";
}

// Prints (and records in the XML output) the largest relative difference to R of one test.
void report_max_diff(const char* what) {
  ::testing::Test::RecordProperty("max_rel_diff_to_R", std::to_string(max_rel_diff));
  std::printf("%s: max relative difference to R %.3g\n", what, max_rel_diff);
  max_rel_diff = 0;
}

// R's groups with the missing values (null) left out, as the Table 1 code does.
std::vector<std::vector<double>> groups_of(const json& c) {
  std::vector<std::vector<double>> g;
  for (const auto& grp : c["groups"]) {
    g.emplace_back();
    // jsonlite writes a one-value group as a scalar
    const json arr = grp.is_array() ? grp : json::array({grp});
    for (const auto& v : arr)
      if (!v.is_null()) g.back().push_back(v.get<double>());
  }
  return g;
}

}  // namespace

TEST(GroupTests, ChisqMatchesR) {
  ASSERT_GE(golden()["chisq"].size(), 10u);
  for (const auto& c : golden()["chisq"]) {
    const std::string name = c["name"];
    const auto counts = c["counts"].get<std::vector<std::vector<double>>>();
    const auto t = stats::chisq_test(counts, c["correct"].get<bool>());
    EXPECT_TRUE(agrees(t.statistic, c["statistic"])) << name;
    EXPECT_TRUE(agrees(t.df, c["df"])) << name;
    EXPECT_TRUE(agrees(t.p, c["p"])) << name;
    EXPECT_TRUE(agrees(t.min_expected, c["min_expected"])) << name;
    if (!c["min_expected"].is_null()) {
      EXPECT_EQ(t.small_expected(), c["min_expected"].get<double>() < 5) << name;
    }
  }
  report_max_diff("chisq.test");
}

TEST(GroupTests, KruskalMatchesR) {
  ASSERT_GE(golden()["kruskal"].size(), 8u);
  for (const auto& c : golden()["kruskal"]) {
    const std::string name = c["name"];
    const auto t = stats::kruskal_test(groups_of(c));
    EXPECT_TRUE(agrees(t.statistic, c["statistic"])) << name;
    EXPECT_TRUE(agrees(t.df, c["df"])) << name;
    EXPECT_TRUE(agrees(t.p, c["p"])) << name;
  }
  report_max_diff("kruskal.test");
}

TEST(GroupTests, OnewayAnovaMatchesR) {
  ASSERT_GE(golden()["oneway"].size(), 8u);
  for (const auto& c : golden()["oneway"]) {
    const std::string name = c["name"];
    const auto t = stats::oneway_anova(groups_of(c));
    EXPECT_TRUE(agrees(t.statistic, c["statistic"])) << name;
    EXPECT_TRUE(agrees(t.df, c["df"])) << name;
    EXPECT_TRUE(agrees(t.df2, c["df2"])) << name;
    EXPECT_TRUE(agrees(t.p, c["p"])) << name;
  }
  report_max_diff("oneway.test");
}

TEST(GroupTests, HandComputedKruskalWithTies) {
  // groups {1, 2, 2}, {2, 3}: mid-ranks 1, 3, 3 | 3, 5; N = 5, mean ranks 7/3 and 4.
  // sum n_i (Rbar_i - 3)^2 = 3 (4/9) + 2 (1) = 10/3; H0 = 12 / 30 * 10/3 = 4/3;
  // ties: one run of 3 -> 1 - 24 / 120 = 0.8; H = 5/3.
  const auto t = stats::kruskal_test({{1, 2, 2}, {2, 3}});
  EXPECT_NEAR(t.statistic, 5.0 / 3, 1e-14);
  EXPECT_EQ(t.df, 1);
  EXPECT_NEAR(t.p, std::erfc(std::sqrt(5.0 / 3 / 2)), 1e-14);  // chi-squared(1) tail = 2 (1 - Phi(sqrt H))
  EXPECT_EQ(t.groups, 2u);
}

TEST(GroupTests, DegenerateInputIsNaNeverAThrow) {
  EXPECT_TRUE(std::isnan(stats::chisq_test({}).p));
  EXPECT_TRUE(std::isnan(stats::chisq_test({{0, 0}, {0, 0}}).p));
  EXPECT_TRUE(std::isnan(stats::chisq_test({{3, 4}}).p));  // one group
  EXPECT_TRUE(std::isnan(stats::kruskal_test({}).p));
  EXPECT_TRUE(std::isnan(stats::kruskal_test({{}, {}}).p));
  EXPECT_TRUE(std::isnan(stats::kruskal_test({{1, 2, 3}}).p));
  EXPECT_TRUE(std::isnan(stats::oneway_anova({{5}, {5}}).p));
  EXPECT_EQ(stats::oneway_anova({{1, 2}, {}, {3, 4}}).groups, 2u);
}

TEST(GroupTests, MalformedInputThrowsWithMessage) {
  auto message = [](auto f) { return cervirisk::testing::error_message<StatsError>(f); };
  EXPECT_EQ(message([] {
              stats::chisq_test({{1, 2}, {3}});
            }),
            "chisq_test: counts[1] has 1 levels but counts[0] has 2");
  EXPECT_NE(message([] {
              stats::chisq_test({{1, -2}, {3, 4}});
            }).find("counts[0][1] is -2"),
            std::string::npos);
  EXPECT_NE(message([] {
              stats::kruskal_test({{1, NAN}, {3, 4}});
            }).find("kruskal_test: groups[0][1] is nan"),
            std::string::npos);
  EXPECT_NE(message([] {
              stats::oneway_anova({{1, 2}, {3, INFINITY}});
            }).find("oneway_anova: groups[1][1]"),
            std::string::npos);
}

TEST(GroupTests, FUpperTail) {
  // F(1, df) = t(df)^2: the F tail equals the two-sided t p-value.
  EXPECT_NEAR(stats::f_upper_p(2.5 * 2.5, 1, 7), stats::t_two_sided_p(2.5, 7), 1e-14);
  EXPECT_EQ(stats::f_upper_p(0, 2, 5), 1.0);
  EXPECT_EQ(stats::f_upper_p(INFINITY, 2, 5), 0.0);
  EXPECT_TRUE(std::isnan(stats::f_upper_p(1, 0, 5)));
}
