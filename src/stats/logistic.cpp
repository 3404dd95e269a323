#include "stats/logistic.h"

#include <Eigen/Dense>
#include <cfloat>
#include <cmath>
#include <string>

#include "stats/detail.h"

namespace cervirisk::stats {

namespace {

// binomial()$linkinv and $mu.eta with their clamping at |eta| > 30 (R's family.c).
double linkinv(double eta) {
  const double thresh = 30, inveps = 1 / DBL_EPSILON;
  const double t = eta < -thresh ? DBL_EPSILON : (eta > thresh ? inveps : std::exp(eta));
  return t / (1 + t);
}
double mu_eta(double eta) {
  const double opexp = 1 + std::exp(eta);
  return (eta > 30 || eta < -30) ? DBL_EPSILON : std::exp(eta) / (opexp * opexp);
}
// Binomial deviance of 0/1 outcomes: sum of -2 log(mu) (y = 1) or -2 log(1 - mu) (y = 0).
double deviance(const std::vector<int>& y, const Eigen::VectorXd& mu) {
  double d = 0;
  for (std::size_t i = 0; i < y.size(); ++i) d += y[i] == 1 ? -2 * std::log(mu(i)) : -2 * std::log(1 - mu(i));
  return d;
}

// glm.fit's QR tolerance: min(1e-7, epsilon / 1000) with epsilon = 1e-8.
constexpr double kRankTol = 1e-11;

}  // namespace

LogisticFit glm_binomial_fit(const Eigen::MatrixXd& design, const Eigen::VectorXd& offset,
                             const std::vector<int>& y, const char* fn) {
  const Eigen::Index n = design.rows(), k = design.cols();
  if (static_cast<std::size_t>(n) != y.size() || offset.size() != n)
    detail::fail(fn, "the design has " + std::to_string(n) + " rows, the outcome " +
                         std::to_string(y.size()) + " values and the offset " +
                         std::to_string(offset.size()));
  if (k < 1) detail::fail(fn, "the design has no column");
  Eigen::VectorXd eta(n), mu(n), z(n), sw(n), coef(k);
  for (Eigen::Index i = 0; i < n; ++i) {
    const double ms =
        (y[i] + 0.5) / 2;  // binomial()$initialize: mustart = (weights * y + 0.5) / (weights + 1)
    eta(i) = std::log(ms / (1 - ms));
    mu(i) = linkinv(eta(i));
  }
  Eigen::VectorXd col_norm(k);
  double devold = deviance(y, mu), dev = devold;
  LogisticFit f;
  f.n = static_cast<std::size_t>(n);
  Eigen::HouseholderQR<Eigen::MatrixXd> qr;
  for (int iter = 1; iter <= 25; ++iter) {
    for (Eigen::Index i = 0; i < n; ++i) {
      const double me = mu_eta(eta(i));
      z(i) = eta(i) - offset(i) + (y[i] - mu(i)) / me;
      sw(i) = std::sqrt(me * me / (mu(i) * (1 - mu(i))));
    }
    const Eigen::MatrixXd wx = sw.asDiagonal() * design;
    qr.compute(wx);
    // dqrdc2's rank test without pivoting: the norm of column j orthogonal to the columns
    // before it, |R_jj|, against the column's own norm.
    const auto& r = qr.matrixQR();
    for (Eigen::Index j = 0; j < k; ++j)
      if (!(std::fabs(r(j, j)) >= kRankTol * wx.col(j).norm()))
        detail::fail(fn, "the design matrix is rank deficient (column " + std::to_string(j + 1) +
                             " is constant or collinear with the columns before it)");
    coef = qr.solve(sw.cwiseProduct(z));
    eta = design * coef + offset;
    for (Eigen::Index i = 0; i < n; ++i) mu(i) = linkinv(eta(i));
    dev = deviance(y, mu);
    f.iterations = iter;
    if (std::fabs(dev - devold) / (std::fabs(dev) + 0.1) < 1e-8) {
      f.converged = true;
      break;
    }
    devold = dev;
  }
  // summary.glm: chol2inv of the R factor of the last iteration, dispersion 1.
  const Eigen::MatrixXd rinv =
      qr.matrixQR().topLeftCorner(k, k).triangularView<Eigen::Upper>().solve(Eigen::MatrixXd::Identity(k, k));
  f.var = rinv * rinv.transpose();
  f.coef = coef;
  f.se = f.var.diagonal().cwiseSqrt();
  f.z = f.coef.cwiseQuotient(f.se);
  f.p.resize(k);
  for (Eigen::Index j = 0; j < k; ++j) f.p(j) = normal_two_sided_p(f.z(j));
  f.deviance = dev;
  f.aic = dev + 2.0 * k;
  f.df_residual = static_cast<int>(n - k);
  return f;
}

LogisticFit logistic_regression(const Eigen::MatrixXd& x, const std::vector<int>& y) {
  const char* fn = "logistic_regression";
  const Eigen::Index n = x.rows(), k = x.cols();
  detail::check_same_size(fn, static_cast<std::size_t>(n), y.size(), "x (rows)", "y");
  detail::check_binary(fn, y, "y");
  detail::check_two_classes(fn, y);
  if (!x.allFinite()) {
    for (Eigen::Index j = 0; j < k; ++j)
      for (Eigen::Index i = 0; i < n; ++i)
        if (!std::isfinite(x(i, j)))
          detail::fail(fn, "x(" + std::to_string(i) + ", " + std::to_string(j) + ") is " +
                               std::to_string(x(i, j)) + " (NaN/Inf)");
  }
  if (n <= k + 1)
    detail::fail(fn, "need more observations (" + std::to_string(n) + ") than coefficients (" +
                         std::to_string(k + 1) + ")");
  Eigen::MatrixXd design(n, k + 1);
  design.col(0).setOnes();
  design.rightCols(k) = x;
  LogisticFit f = glm_binomial_fit(design, Eigen::VectorXd::Zero(n), y, fn);
  // glm.fit with an intercept: the null deviance is that of the weighted mean of y.
  double ybar = 0;
  for (int v : y) ybar += v;
  ybar /= static_cast<double>(n);
  f.null_deviance = deviance(y, Eigen::VectorXd::Constant(n, ybar));
  return f;
}

}  // namespace cervirisk::stats
