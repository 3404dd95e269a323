// Cox proportional hazards model, as R's survival::coxph (Cox 1972; Efron 1977,
// doi:10.1080/01621459.1977.10480613 for ties; Therneau & Grambsch 2000, ch. 3).
// Newton-Raphson from beta = 0 with step halving, converged when |1 - l_old / l_new| <= eps,
// at most max_iter iterations -- the same iteration sequence as coxph, so the estimates agree to
// rounding and not just to the convergence tolerance. Each iteration costs O(n p^2) with
// cumulative risk-set sums over the times sorted once.
#pragma once

#include <Eigen/Core>
#include <cstddef>
#include <string>
#include <vector>

#include "stats/common.h"

namespace cervirisk::stats {

enum class CoxTies { kEfron, kBreslow };

struct CoxOptions {
  CoxTies ties = CoxTies::kEfron;
  int max_iter = 20;
  double eps = 1e-9;
  double level = 0.95;  // for the hazard-ratio intervals
};

struct CoxFit {
  std::size_t n = 0, events = 0;
  std::vector<std::string> terms;
  Eigen::VectorXd coef, se;
  Eigen::MatrixXd var;  // inverse information at the estimate
  Eigen::VectorXd hr, z, p;
  std::vector<Interval> hr_ci;
  double loglik_null = kNA, loglik = kNA;
  double lr = kNA, lr_p = kNA;        // 2 (l - l0), df = p
  double wald = kNA, wald_p = kNA;    // b' var^-1 b (coxph's wald.test)
  double score = kNA, score_p = kNA;  // score test at beta = 0
  int df = 0;
  int iterations = 0;
  bool converged = false;
  Eigen::VectorXd linear_predictor;  // x beta with x centred on its column means, as coxph
};

// x: n x p covariates (already coded; see design.h for categorical ones). terms: p names.
// Throws StatsError for n <= 1, no events, NaN/Inf, or a singular information matrix
// (collinear or constant covariates).
CoxFit cox_ph(const std::vector<double>& time, const std::vector<int>& event, const Eigen::MatrixXd& x,
              const std::vector<std::string>& terms, const CoxOptions& options = {});

}  // namespace cervirisk::stats
