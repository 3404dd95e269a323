// Decision curve analysis (Vickers & Elkin 2006, doi:10.1177/0272989X06295361): net benefit
// NB(pt) = TP/n - FP/n * pt / (1 - pt), treating a patient when p >= pt, against treat-all
// (everyone treated) and treat-none (NB = 0).
#pragma once

#include <vector>

#include "stats/common.h"

namespace cervirisk::stats {

struct DecisionCurveRow {
  double threshold = kNA;
  double net_benefit_model = kNA;
  double net_benefit_all = kNA;
  double net_benefit_none = 0.0;
};

// thresholds must lie in (0, 1).
std::vector<DecisionCurveRow> decision_curve(const std::vector<double>& probs, const std::vector<int>& labels,
                                             const std::vector<double>& thresholds);

// A threshold grid from..to (inclusive, up to rounding) in steps of `step`, as seq(from, to, by).
std::vector<double> decision_curve_grid(double from, double to, double step);

}  // namespace cervirisk::stats
