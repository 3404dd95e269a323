// Logistic regression (binomial GLM, logit link) fitted by iteratively reweighted least squares
// exactly as R's glm.fit (R Core Team, src/library/stats/R/glm.R; McCullagh & Nelder 1989, ch. 4):
// start from mustart = (y + 0.5) / 2, eta = logit(mustart); at each iteration solve the weighted
// least-squares problem of the working response z = eta - offset + (y - mu) / mu'(eta) with
// weights mu'(eta)^2 / (mu (1 - mu)) by a Householder QR; stop when
// |dev - dev_old| / (|dev| + 0.1) < 1e-8, at most 25 iterations. binomial()'s clamping of
// |eta| > 30 is reproduced, so the iteration sequence (and not only the limit) is glm's.
// Standard errors are those of summary.glm (dispersion 1): the square roots of the diagonal of
// (X' W X)^-1 with the weights W of the last iteration, as glm keeps the QR of that iteration.
#pragma once

#include <Eigen/Core>
#include <cstddef>
#include <vector>

#include "stats/common.h"

namespace cervirisk::stats {

struct LogisticFit {
  std::size_t n = 0;
  Eigen::VectorXd coef;        // intercept first (logistic_regression), then x's columns in order
  Eigen::VectorXd se;          // summary(glm)$coefficients[, "Std. Error"]
  Eigen::VectorXd z, p;        // Wald z = coef / se and its two-sided normal p ("Pr(>|z|)")
  Eigen::MatrixXd var;         // vcov(glm): (X' W X)^-1
  double deviance = kNA;       // -2 log-likelihood (glm's deviance for 0/1 outcomes)
  double null_deviance = kNA;  // deviance of the intercept-only model (NA for glm_binomial_fit)
  double aic = kNA;            // deviance + 2 * number of coefficients
  int df_residual = 0;         // n - number of coefficients
  int iterations = 0;          // glm's $iter
  bool converged = false;      // glm's $converged; false after 25 iterations (e.g. separation)
};

// y ~ x with an intercept added: x holds the covariates only (n x k, k may be 0 for the
// intercept-only model); coef has k + 1 entries, the intercept first. Matches
// glm(y ~ x1 + ... + xk, family = binomial). Throws StatsError when sizes differ, a value is
// NaN/Inf, y is not 0/1 or has one class only, n <= k + 1, or the design is rank deficient
// (a constant or collinear covariate; R would report an NA coefficient). A fit that does not
// converge in 25 iterations is returned with converged = false (R warns and returns it too).
LogisticFit logistic_regression(const Eigen::MatrixXd& x, const std::vector<int>& y);

// The IRLS itself on a design used as given (no intercept added) with an offset, as
// glm.fit(x = design, y, offset = offset, family = binomial()). null_deviance is NA (with an
// offset it needs a second fit; logistic_regression fills it). Used by logistic_regression and
// calibration_logistic. `fn` names the calling function in error messages.
LogisticFit glm_binomial_fit(const Eigen::MatrixXd& design, const Eigen::VectorXd& offset,
                             const std::vector<int>& y, const char* fn = "glm_binomial_fit");

}  // namespace cervirisk::stats
