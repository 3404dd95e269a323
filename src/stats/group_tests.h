// Tests comparing several groups (the p-value column of a "Table 1"): Pearson's chi-squared on a
// groups x levels contingency table, Kruskal-Wallis rank sum and one-way ANOVA with equal
// variances. Each reproduces the R function named in its comment (R Core Team, "R: A Language and
// Environment for Statistical Computing", stats package reference manual, R 4.2).
//
// Degenerate input (fewer than two groups or levels with data, all values identical, a group too
// small for R to run the test) gives a result whose fields are NA (kNA), never an exception: a
// Table 1 shows "—" there. Malformed input (NaN/Inf values, negative counts) throws StatsError.
#pragma once

#include <cstddef>
#include <vector>

#include "stats/common.h"

namespace cervirisk::stats {

struct GroupTest {
  double statistic = kNA;  // X-squared, Kruskal-Wallis chi-squared, or F
  double df = kNA;         // chi-squared df, or the numerator df of F
  double df2 = kNA;        // one-way ANOVA: denominator df of F
  double p = kNA;
  std::size_t groups = 0;     // groups with data that entered the test
  double min_expected = kNA;  // chi-squared: the smallest expected cell count
  // R's chisq.test warns "Chi-squared approximation may be incorrect" in this case.
  bool small_expected() const { return min_expected < 5; }
};

// Pearson's chi-squared test of independence, as R's chisq.test(table) (Pearson 1900,
// doi:10.1080/14786440009463897): E = row total x column total / n, X2 = sum (O - E)^2 / E,
// df = (r - 1)(c - 1). `counts[g][l]` is the count of level l in group g (all rows equally long).
// Rows and columns that are all zero (an empty group, a level nobody has) are dropped first, as
// chisq.test(droplevels(...)) does; R itself would return NaN for them. A remaining 2 x 2 table gets
// Yates' continuity correction when `correct` (R's default): |O - E| is reduced by
// min(0.5, min |O - E|).
GroupTest chisq_test(const std::vector<std::vector<double>>& counts, bool correct = true);

// Kruskal-Wallis rank sum test with the tie correction, as R's kruskal.test(list of groups)
// (Kruskal & Wallis 1952, doi:10.1080/01621459.1952.10483441): H = 12 / (N (N + 1))
// sum n_i (Rbar_i - (N + 1) / 2)^2 / (1 - sum (t^3 - t) / (N^3 - N)), mid-ranks over the pooled
// sample, chi-squared with k - 1 df. Empty groups are dropped (R drops unused factor levels).
GroupTest kruskal_test(const std::vector<std::vector<double>>& groups);

// One-way analysis of means assuming equal variances, as R's oneway.test(y ~ g, var.equal = TRUE)
// (Fisher's ANOVA F test): F = [sum n_i (m_i - m)^2 / (k - 1)] / [sum (y - m_i)^2 / (N - k)].
// Empty groups are dropped; a group with a single value gives NA, as R stops with "not enough
// observations". Values identical within each group but different between groups give F = Inf,
// p = 0 (as R).
GroupTest oneway_anova(const std::vector<std::vector<double>>& groups);

}  // namespace cervirisk::stats
