// LOWESS scatterplot smoother (Cleveland 1979, doi:10.1080/01621459.1979.10481038), the
// algorithm of R's lowess() (clowess): tricube-weighted local linear fits over the nearest
// f * n points, `iter` robustifying iterations with bisquare weights, and linear interpolation
// between fitted points closer than delta. Used for smoothed calibration curves.
#pragma once

#include <vector>

namespace cervirisk::stats {

struct LowessCurve {
  std::vector<double> x;  // sorted x
  std::vector<double> y;  // fitted values at x
};

// delta < 0 means R's default 0.01 * diff(range(x)).
LowessCurve lowess(const std::vector<double>& x, const std::vector<double>& y, double f = 2.0 / 3.0,
                   int iter = 3, double delta = -1);

}  // namespace cervirisk::stats
