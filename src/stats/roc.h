// ROC analysis with pROC semantics (Robin et al. 2011, doi:10.1186/1471-2105-12-77), except that
// the direction is fixed: a higher score means "case" (pROC's automatic direction would silently
// turn a worse-than-chance model into a better one).
#pragma once

#include <cstddef>
#include <vector>

#include "stats/common.h"

namespace cervirisk::stats {

// Area under the ROC curve = Mann-Whitney U / (m n), ties counting 1/2. O(n log n).
// labels: 1 = case, 0 = control; needs >= 1 case and >= 1 control.
double roc_auc(const std::vector<double>& scores, const std::vector<int>& labels);

// One point of the empirical ROC curve: a case is called positive when score >= threshold.
struct RocPoint {
  double threshold;
  double sensitivity;
  double specificity;
};
// pROC's thresholds: -Inf, the midpoints between consecutive distinct scores, +Inf
// (increasing threshold: sensitivity 1 -> 0).
std::vector<RocPoint> roc_curve(const std::vector<double>& scores, const std::vector<int>& labels);

// Confusion-matrix summary at one threshold (positive = score >= threshold) with Wilson
// (prop.test, no continuity correction) and Clopper-Pearson (binom.test) intervals.
// A rate whose denominator is 0 (e.g. PPV with no positive call) is NA.
struct OperatingPoint {
  double threshold = kNA;
  std::size_t tp = 0, fp = 0, tn = 0, fn = 0;
  double sensitivity = kNA, specificity = kNA, ppv = kNA, npv = kNA, accuracy = kNA, f1 = kNA;
  struct Cis {
    Interval sensitivity, specificity, ppv, npv, accuracy;
  };
  Cis ci_wilson, ci_clopper_pearson;
};
OperatingPoint roc_operating_point(const std::vector<double>& scores, const std::vector<int>& labels,
                                   double threshold, double level = 0.95);

// The threshold (among roc_curve's) maximising sensitivity + specificity (Youden 1950,
// doi:10.1002/1097-0142(1950)3:1<32::AID-CNCR2820030106>3.0.CO;2-3); among ties the lowest
// threshold, as the first row of pROC's coords(roc, "best", best.method = "youden").
double roc_youden_threshold(const std::vector<double>& scores, const std::vector<int>& labels);

}  // namespace cervirisk::stats
