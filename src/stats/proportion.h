// Confidence intervals for a binomial proportion k/n.
#pragma once

#include <cstddef>

#include "stats/common.h"

namespace cervirisk::stats {

// Wilson score interval without continuity correction, as R's prop.test(k, n, correct = FALSE)
// (Wilson 1927, doi:10.1080/01621459.1927.10502953). n = 0 gives NA.
Interval proportion_ci_wilson(std::size_t k, std::size_t n, double level = 0.95);

// Exact Clopper-Pearson interval from Beta quantiles, as R's binom.test
// (Clopper & Pearson 1934, doi:10.1093/biomet/26.4.404). n = 0 gives NA.
Interval proportion_ci_clopper_pearson(std::size_t k, std::size_t n, double level = 0.95);

}  // namespace cervirisk::stats
