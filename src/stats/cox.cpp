#include "stats/cox.h"

#include <Eigen/Dense>
#include <algorithm>

#include "stats/detail.h"

namespace cervirisk::stats {

namespace {

struct Eval {
  double loglik;
  Eigen::VectorXd u;
  Eigen::MatrixXd imat;
};

// Partial log-likelihood, score and information at beta. The rows are copied once in order of
// decreasing time (row-major, contiguous) so that one sweep accumulates the risk-set sums
// S0 = sum r, S1 = sum r x, S2 = sum r x x' (lower triangle) in O(n p^2).
class CoxProblem {
 public:
  CoxProblem(const std::vector<double>& time, const std::vector<int>& event, const Eigen::MatrixXd& xc,
             CoxTies ties)
      : p_(xc.cols()), ties_(ties) {
    std::vector<std::size_t> asc = detail::order(time);
    const std::size_t n = asc.size();
    x_.resize(n * p_);
    event_.resize(n);
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t i = asc[n - 1 - k];
      event_[k] = event[i];
      for (Eigen::Index j = 0; j < p_; ++j) x_[k * p_ + j] = xc(i, j);
    }
    for (std::size_t k = 0; k < n;) {
      std::size_t j = k;
      while (j < n && time[asc[n - 1 - j]] == time[asc[n - 1 - k]]) ++j;
      runs_.push_back({k, j});
      k = j;
    }
  }

  Eval evaluate(const Eigen::VectorXd& beta) const {
    const Eigen::Index p = p_;
    const std::size_t pp = static_cast<std::size_t>(p * p);
    Eval e{0.0, Eigen::VectorXd::Zero(p), Eigen::MatrixXd::Zero(p, p)};
    double s0 = 0;
    std::vector<double> s1(p, 0), s2(pp, 0), d1(p), d2(pp), a(p), u(p, 0), imat(pp, 0);
    for (const auto& run : runs_) {
      double d0 = 0, deaths = 0;
      std::fill(d1.begin(), d1.end(), 0.0);
      std::fill(d2.begin(), d2.end(), 0.0);
      for (std::size_t k = run.first; k < run.second; ++k) {
        const double* xi = &x_[k * p];
        double eta = 0;
        for (Eigen::Index j = 0; j < p; ++j) eta += xi[j] * beta(j);
        const double r = std::exp(eta);
        s0 += r;
        for (Eigen::Index j = 0; j < p; ++j) {
          const double rx = r * xi[j];
          s1[j] += rx;
          for (Eigen::Index l = 0; l <= j; ++l) s2[j * p + l] += rx * xi[l];
        }
        if (event_[k] == 1) {
          deaths += 1;
          d0 += r;
          e.loglik += eta;
          for (Eigen::Index j = 0; j < p; ++j) {
            const double rx = r * xi[j];
            d1[j] += rx;
            u[j] += xi[j];
            for (Eigen::Index l = 0; l <= j; ++l) d2[j * p + l] += rx * xi[l];
          }
        }
      }
      for (double k = 0; k < deaths; k += 1) {
        // Efron: the tied deaths leave the risk set gradually (fraction k/d); Breslow: not at all.
        const double frac = ties_ == CoxTies::kEfron ? k / deaths : 0.0;
        const double den = s0 - frac * d0;
        e.loglik -= std::log(den);
        for (Eigen::Index j = 0; j < p; ++j) {
          a[j] = (s1[j] - frac * d1[j]) / den;
          u[j] -= a[j];
        }
        for (Eigen::Index j = 0; j < p; ++j)
          for (Eigen::Index l = 0; l <= j; ++l)
            imat[j * p + l] += (s2[j * p + l] - frac * d2[j * p + l]) / den - a[j] * a[l];
      }
    }
    for (Eigen::Index j = 0; j < p; ++j) {
      e.u(j) = u[j];
      for (Eigen::Index l = 0; l <= j; ++l) e.imat(j, l) = e.imat(l, j) = imat[j * p + l];
    }
    return e;
  }

 private:
  Eigen::Index p_;
  CoxTies ties_;
  std::vector<double> x_;
  std::vector<int> event_;
  std::vector<std::pair<std::size_t, std::size_t>> runs_;
};

Eigen::LDLT<Eigen::MatrixXd> factor(const Eigen::MatrixXd& imat, const std::vector<std::string>& terms) {
  Eigen::LDLT<Eigen::MatrixXd> ldlt(imat);
  const Eigen::VectorXd d = ldlt.vectorD();
  const double dmax = d.cwiseAbs().maxCoeff();
  for (Eigen::Index i = 0; i < d.size(); ++i)
    if (!(d(i) > dmax * 1e-12) || ldlt.info() != Eigen::Success)
      detail::fail(
          "cox_ph", "the information matrix is singular (constant or collinear covariates among: " + [&] {
            std::string s;
            for (const auto& t : terms) s += (s.empty() ? "" : ", ") + t;
            return s;
          }() + ")");
  return ldlt;
}

}  // namespace

CoxFit cox_ph(const std::vector<double>& time_in, const std::vector<int>& event, const Eigen::MatrixXd& x,
              const std::vector<std::string>& terms, const CoxOptions& options) {
  const char* fn = "cox_ph";
  detail::check_same_size(fn, time_in.size(), event.size(), "time", "event");
  detail::check_same_size(fn, time_in.size(), static_cast<std::size_t>(x.rows()), "time", "covariate rows");
  detail::check_same_size(fn, terms.size(), static_cast<std::size_t>(x.cols()), "terms", "covariate columns");
  detail::check_finite(fn, time_in, "time");
  detail::check_binary(fn, event, "event");
  if (x.cols() < 1) detail::fail(fn, "no covariates");
  if (!x.allFinite()) detail::fail(fn, "covariates contain NaN/Inf (drop missing rows first)");
  if (time_in.size() < 2)
    detail::fail(fn, "need at least 2 observations, got " + std::to_string(time_in.size()));
  CoxFit fit;
  fit.n = time_in.size();
  for (int e : event) fit.events += e;
  if (fit.events == 0) detail::fail(fn, "no events (every observation is censored)");
  fit.terms = terms;

  // coxph centres the covariates (the partial likelihood is invariant; exp() stays in range).
  const Eigen::RowVectorXd means = x.colwise().mean();
  const Eigen::MatrixXd xc = x.rowwise() - means;
  std::vector<double> time = detail::timefix(time_in);
  CoxProblem prob(time, event, xc, options.ties);

  const Eigen::Index p = x.cols();
  Eigen::VectorXd beta = Eigen::VectorXd::Zero(p);
  Eval e = prob.evaluate(beta);
  fit.loglik_null = e.loglik;
  auto ldlt = factor(e.imat, terms);
  fit.score = e.u.dot(ldlt.solve(e.u));

  // Newton-Raphson exactly as coxph's C routine iterates (coxfit6).
  double lold = e.loglik;
  Eigen::VectorXd newbeta = beta + ldlt.solve(e.u);
  bool halving = false;
  int iter = 0;
  for (iter = 1; iter <= options.max_iter; ++iter) {
    e = prob.evaluate(newbeta);
    if (std::fabs(1 - lold / e.loglik) <= options.eps && !halving) {
      fit.converged = true;
      break;
    }
    if (iter == options.max_iter) break;
    if (e.loglik < lold) {
      halving = true;
      newbeta = (newbeta + beta) / 2;
    } else {
      halving = false;
      lold = e.loglik;
      ldlt = factor(e.imat, terms);
      beta = newbeta;
      newbeta = newbeta + ldlt.solve(e.u);
    }
  }
  fit.iterations = std::min(iter, options.max_iter);
  fit.loglik = e.loglik;
  fit.coef = newbeta;
  ldlt = factor(e.imat, terms);
  fit.var = ldlt.solve(Eigen::MatrixXd::Identity(p, p));
  fit.se = fit.var.diagonal().cwiseSqrt();
  fit.df = static_cast<int>(p);
  fit.lr = 2 * (fit.loglik - fit.loglik_null);
  fit.lr_p = chisq_upper_p(fit.lr, p);
  fit.wald = fit.coef.dot(fit.var.ldlt().solve(fit.coef));
  fit.wald_p = chisq_upper_p(fit.wald, p);
  fit.score_p = chisq_upper_p(fit.score, p);
  const double zq = normal_quantile_two_sided(options.level);
  fit.hr = fit.coef.array().exp();
  fit.z = fit.coef.cwiseQuotient(fit.se);
  fit.p.resize(p);
  for (Eigen::Index j = 0; j < p; ++j) {
    fit.p(j) = normal_two_sided_p(fit.z(j));
    fit.hr_ci.push_back({std::exp(fit.coef(j) - zq * fit.se(j)), std::exp(fit.coef(j) + zq * fit.se(j))});
  }
  fit.linear_predictor = xc * fit.coef;
  return fit;
}

}  // namespace cervirisk::stats
