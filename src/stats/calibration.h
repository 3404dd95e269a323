// Calibration of predicted probabilities against binary outcomes (Steyerberg, Clinical
// Prediction Models, 2nd ed. 2019, ch. 15; Van Calster et al. 2016, doi:10.1016/j.jclinepi.2015.12.005).
#pragma once

#include <cstddef>
#include <vector>

#include "stats/common.h"

namespace cervirisk::stats {

// Brier score mean((p - y)^2) and the scaled Brier 1 - Brier / (ybar (1 - ybar)).
struct Brier {
  double brier = kNA;
  double scaled = kNA;
};
Brier calibration_brier(const std::vector<double>& probs, const std::vector<int>& labels);

// Logistic recalibration on the logit of the predictions, fitted by IRLS exactly as R's glm():
// slope = b in glm(y ~ qlogis(p), binomial); intercept = a in glm(y ~ offset(qlogis(p)),
// binomial) ("calibration-in-the-large"). Probabilities must lie strictly in (0, 1).
struct CalibrationFit {
  double slope = kNA;
  double slope_intercept = kNA;  // the intercept of the slope model
  double intercept = kNA;        // calibration-in-the-large
};
CalibrationFit calibration_logistic(const std::vector<double>& probs, const std::vector<int>& labels);

enum class BinStrategy { kUniform, kQuantile };

// Binned reliability curve, as sklearn.calibration.calibration_curve: uniform bins on [0, 1] or
// quantile bins (numpy percentile edges), right-closed (numpy searchsorted, side "left");
// empty bins are left out.
struct CalibrationBin {
  double mean_pred = kNA;
  double frac_pos = kNA;
  std::size_t n = 0;
};
std::vector<CalibrationBin> calibration_curve(const std::vector<double>& probs,
                                              const std::vector<int>& labels, int bins = 10,
                                              BinStrategy strategy = BinStrategy::kUniform);

// Hosmer-Lemeshow goodness of fit (Hosmer & Lemeshow 1980, doi:10.1080/03610928008827941):
// groups cut at R's type-7 quantiles of p (duplicate edges merged), right-closed with the lowest
// value included (cut(..., include.lowest = TRUE)); chisq = sum (O - E)^2 / E over both outcome
// classes; df = (number of non-empty groups) - 2.
struct HosmerLemeshow {
  double chisq = kNA;
  int df = 0;
  double p = kNA;
  std::size_t groups = 0;
};
HosmerLemeshow hosmer_lemeshow(const std::vector<double>& probs, const std::vector<int>& labels,
                               int groups = 10);

}  // namespace cervirisk::stats
