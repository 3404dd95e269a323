#include "stats/proportion.h"

#include <algorithm>
#include <boost/math/distributions/beta.hpp>
#include <cmath>

#include "stats/detail.h"

namespace cervirisk::stats {

Interval proportion_ci_wilson(std::size_t k, std::size_t n, double level) {
  if (k > n) detail::fail("proportion_ci_wilson", "k > n");
  if (n == 0) return {};
  // prop.test's formula (YATES = 0), including its clamping at an estimate of 0 or 1.
  const double z = normal_quantile_two_sided(level);
  const double p = static_cast<double>(k) / n;
  const double z22n = z * z / (2.0 * n);
  const double half = z * std::sqrt(p * (1 - p) / n + z22n / (2.0 * n));
  double upper = (p + z22n + half) / (1 + 2 * z22n);
  double lower = (p + z22n - half) / (1 + 2 * z22n);
  if (k == 0) lower = 0;
  if (k == n) upper = 1;
  return {std::max(lower, 0.0), std::min(upper, 1.0)};
}

Interval proportion_ci_clopper_pearson(std::size_t k, std::size_t n, double level) {
  if (k > n) detail::fail("proportion_ci_clopper_pearson", "k > n");
  if (n == 0) return {};
  if (!(level > 0 && level < 1))
    detail::fail("proportion_ci_clopper_pearson", "confidence level must be in (0,1)");
  const double alpha = 1 - level;
  double lower = 0, upper = 1;
  if (k > 0) lower = boost::math::quantile(boost::math::beta_distribution<>(k, n - k + 1.0), alpha / 2);
  if (k < n) upper = boost::math::quantile(boost::math::beta_distribution<>(k + 1.0, n - k), 1 - alpha / 2);
  return {lower, upper};
}

}  // namespace cervirisk::stats
