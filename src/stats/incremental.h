// Incremental value of a new marker over a base model for a binary outcome:
// - the likelihood-ratio test of nested logistic models, as R's
//   anova(glm(y ~ base, binomial), glm(y ~ base + added, binomial), test = "LRT");
// - the continuous (category-free) net reclassification improvement, NRI(>0), of Pencina,
//   Steyerberg & D'Agostino 2011 (Stat Med 30:11-21, doi:10.1002/sim.4085);
// - the integrated discrimination improvement, IDI, of Pencina, D'Agostino, D'Agostino & Vasan
//   2008 (Stat Med 27:157-172, doi:10.1002/sim.2929): the difference of the discrimination slopes
//   (Yates 1982) of the new and the old predictions.
// For nested models the LR test is the test of added value; NRI and IDI are reported as effect
// sizes only (Pepe, Kerr, Longton & Wang 2013, doi:10.1002/sim.5727).
#pragma once

#include <Eigen/Core>
#include <cstddef>
#include <vector>

#include "stats/common.h"
#include "stats/logistic.h"

namespace cervirisk::stats {

struct LikelihoodRatioTest {
  double deviance_base = kNA;  // residual deviance of y ~ base
  double deviance_full = kNA;  // residual deviance of y ~ base + added
  double chisq = kNA;  // deviance_base - deviance_full (anova's "Deviance"); 0 if rounding makes it < 0
  int df = 0;          // added.cols()
  double p = kNA;      // pchisq(chisq, df, lower.tail = FALSE) (anova's "Pr(>Chi)")
  LogisticFit base_fit, full_fit;
};

// base: n x k covariates of the base model (k may be 0: intercept only), added: n x a (a >= 1)
// covariates added to it; both fitted with an intercept by logistic_regression on the same rows.
// Throws StatsError as logistic_regression does, when the row counts differ, added has no column,
// or either fit does not converge in 25 iterations (separation: the deviances are not maxima).
LikelihoodRatioTest lr_test_nested_logistic(const Eigen::MatrixXd& base, const Eigen::MatrixXd& added,
                                            const std::vector<int>& y);

// Continuous NRI of p_new over p_old. A patient moves up when p_new > p_old and down when
// p_new < p_old; equal predictions count as neither.
//   nri_events    = P(up | event) - P(down | event)
//   nri_nonevents = P(down | nonevent) - P(up | nonevent)
//   nri           = nri_events + nri_nonevents (in [-2, 2]).
// p_old and p_new are predictions on a common scale (probabilities, or any common strictly
// increasing transform of them such as the linear predictor: only up/down is used).
struct Nri {
  double nri = kNA;
  double nri_events = kNA;
  double nri_nonevents = kNA;
  double up_events = kNA, down_events = kNA;        // P(up | event), P(down | event)
  double up_nonevents = kNA, down_nonevents = kNA;  // P(up | nonevent), P(down | nonevent)
  std::size_t n_events = 0, n_nonevents = 0;
};
// Throws StatsError when sizes differ, a prediction is NaN/Inf, y is not 0/1 or has one class only.
Nri nri_continuous(const std::vector<double>& p_old, const std::vector<double>& p_new,
                   const std::vector<int>& y);

// IDI = slope_new - slope_old, a discrimination slope being mean(p | event) - mean(p | nonevent)
// (Yates' slope). Predictions must be probabilities in [0, 1]; throws StatsError as nri_continuous.
struct Idi {
  double idi = kNA;
  double slope_new = kNA, slope_old = kNA;
  double mean_new_events = kNA, mean_new_nonevents = kNA;
  double mean_old_events = kNA, mean_old_nonevents = kNA;
  std::size_t n_events = 0, n_nonevents = 0;
};
Idi idi(const std::vector<double>& p_old, const std::vector<double>& p_new, const std::vector<int>& y);

}  // namespace cervirisk::stats
