// Log-rank and Harrington-Fleming G-rho tests for 2+ groups, as R's survival::survdiff
// (Harrington & Fleming 1982, doi:10.1093/biomet/69.3.553): weights S(t-)^rho from the
// left-continuous pooled Kaplan-Meier curve (rho = 0: log-rank; rho = 1: Peto-Peto Wilcoxon).
#pragma once

#include <Eigen/Core>
#include <cstddef>
#include <vector>

#include "stats/common.h"

namespace cervirisk::stats {

struct Logrank {
  double chisq = kNA;
  int df = 0;
  double p = kNA;
  std::vector<double> observed, expected;  // (weighted) per group
  std::vector<std::size_t> n;              // per group
  Eigen::MatrixXd var;                     // survdiff's $var
};

// group: 0..k-1 per observation; k = max + 1 groups, each must be non-empty, k >= 2.
// The statistic uses the groups with expected > 0, dropping the first (survdiff); df = that
// count - 1. Throws StatsError when there is no event at all.
Logrank logrank(const std::vector<double>& time, const std::vector<int>& event, const std::vector<int>& group,
                double rho = 0.0);

}  // namespace cervirisk::stats
