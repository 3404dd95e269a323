// Table 1 of a paper: patient characteristics by cohort, with a p-value comparing the cohorts the
// way R users build it (tableone::CreateTableOne, gtsummary::add_p): categorical characteristics by
// Pearson's chi-squared test on the cohort x level table, continuous ones by the test that matches
// their summary (median [IQR] -> Kruskal-Wallis, mean (SD) -> one-way ANOVA). Missing values are
// left out per characteristic. Written as run/table1.csv, shown in report.html.
#pragma once

#include <string>
#include <vector>

#include "stats/common.h"

namespace cervirisk::report {

// One characteristic: one row of Table 1, or one row per level.
struct Table1Variable {
  enum class Summary {
    kMedianIqr,    // "median [Q1, Q3]" (R's quantile type 7); Kruskal-Wallis
    kMeanSd,       // "mean (SD)"; one-way ANOVA (equal variances)
    kLevelCounts,  // one row "name = level" per level with its count; chi-squared, p on the first row
    kYesCount,     // one row: the count of value 1 (optionally "k (x.x%)"); chi-squared on yes / no
  };
  std::string name;
  Summary summary = Summary::kMedianIqr;
  std::vector<std::string> levels;  // kLevelCounts
  // One value per patient, NaN = missing: the number, the level index (kLevelCounts) or 0 / 1.
  std::vector<double> values;
  bool percent = false;  // kYesCount / kLevelCounts: "k (x.x%)", % of the group's patients with a value
};

struct Table1Row {
  std::vector<std::string> cells;  // characteristic, then one cell per group
  bool has_test = false;           // the row carrying the characteristic's p-value
  double p = stats::kNA;
  std::string test;  // "chi-squared" (", expected < 5" when so), "Kruskal-Wallis", "ANOVA"
};

struct Table1 {
  std::vector<std::string> groups;
  std::vector<std::size_t> group_n;
  std::vector<Table1Row> rows;
};

// `group_of[i]` is patient i's index into `groups`; every variable has one value per patient.
// Throws ValidationError when the sizes disagree or a group index / level index is out of range.
Table1 make_table1(const std::vector<std::string>& groups, const std::vector<int>& group_of,
                   const std::vector<Table1Variable>& variables);

// CSV: characteristic, "<group> (n = N)"..., p, test. p as in a paper ("< 0.001", else 3
// decimals), "NA" when the test is undefined; empty on rows without a test.
std::string table1_csv(const Table1& table);

// "< 0.001", "0.046"; NA -> "NA".
std::string format_p(double p);

}  // namespace cervirisk::report
