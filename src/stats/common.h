// Shared vocabulary of the statistics library (cervirisk::stats).
//
// Conventions used by every function in src/stats:
// - Binary labels are 0/1 ints (1 = case / positive); event indicators are 0/1 (1 = event).
// - A score is a risk score: higher = more likely a case / shorter survival.
// - Invalid input (sizes differ, n <= 1, one class only, NaN/Inf values, labels not 0/1) throws
//   cervirisk::StatsError (exit code 5) with a message naming the function and the problem.
// - A value that is mathematically undefined on valid input (e.g. the upper confidence limit of
//   a Kaplan-Meier median that is never reached) is NA, represented as a quiet NaN (see is_na).
#pragma once

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace cervirisk::stats {

inline constexpr double kNA = std::numeric_limits<double>::quiet_NaN();
inline bool is_na(double v) { return std::isnan(v); }

// A two-sided confidence interval.
struct Interval {
  double lower = kNA;
  double upper = kNA;
};

// Two-sided standard normal quantile for a confidence level (0.95 -> 1.959963984540054).
double normal_quantile_two_sided(double level);
// Standard normal CDF and upper tail of the chi-square distribution (Boost.Math).
double normal_cdf(double z);
double normal_two_sided_p(double z);
double chisq_upper_p(double x, double df);
double t_two_sided_p(double t, double df);
// Upper tail P(F > f) of the F distribution with (df1, df2) degrees of freedom, as R's
// pf(f, df1, df2, lower.tail = FALSE); f = Inf gives 0.
double f_upper_p(double f, double df1, double df2);

// Type-7 sample quantile (R's default quantile(), numpy's "linear"); v need not be sorted.
double quantile_type7(std::vector<double> v, double p);

}  // namespace cervirisk::stats
