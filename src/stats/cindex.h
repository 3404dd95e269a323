// Harrell's concordance index with the infinitesimal-jackknife standard error, as R's
// survival::concordance (Harrell et al. 1982, doi:10.1001/jama.1982.03320430047030; Therneau &
// Atkinson, "Concordance" vignette of the survival package). O(n log n) with Fenwick trees.
//
// A pair (i, j) is comparable when i has an event and t_i < t_j, or t_i = t_j and j is censored.
// It is concordant when the earlier failure has the higher risk score; tied scores count 1/2.
// Pairs of events at the same time are not comparable (counted in tied_y / tied_xy).
#pragma once

#include <cstddef>
#include <vector>

#include "stats/common.h"

namespace cervirisk::stats {

struct Concordance {
  double c = kNA;
  double var = kNA;  // infinitesimal jackknife variance (concordance()$var)
  double se = kNA;
  double concordant = 0, discordant = 0, tied_x = 0, tied_y = 0, tied_xy = 0;
};

// score: risk score (higher = shorter survival). Throws StatsError when no pair is comparable.
Concordance harrell_c(const std::vector<double>& time, const std::vector<int>& event,
                      const std::vector<double>& score);

}  // namespace cervirisk::stats
