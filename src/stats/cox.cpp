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

// Partial log-likelihood, score and information at beta. `order` sorts by decreasing time;
// `group_end[k]` ends the run of tied times starting at k (in `order` positions).
class CoxProblem {
 public:
  CoxProblem(const std::vector<double>& time, const std::vector<int>& event, const Eigen::MatrixXd& xc, CoxTies ties)
      : event_(event), x_(xc), ties_(ties) {
    std::vector<std::size_t> asc = detail::order(time);
    order_.assign(asc.rbegin(), asc.rend());
    for (std::size_t i = 0; i < order_.size();) {
      std::size_t j = i;
      while (j < order_.size() && time[order_[j]] == time[order_[i]]) ++j;
      runs_.push_back({i, j});
      i = j;
    }
  }

  Eval evaluate(const Eigen::VectorXd& beta) const {
    const Eigen::Index p = x_.cols();
    Eval e{0.0, Eigen::VectorXd::Zero(p), Eigen::MatrixXd::Zero(p, p)};
    double s0 = 0;
    Eigen::VectorXd s1 = Eigen::VectorXd::Zero(p), d1(p), xi(p), a(p);
    Eigen::MatrixXd s2 = Eigen::MatrixXd::Zero(p, p), d2(p, p);
    for (const auto& run : runs_) {
      double d0 = 0, deaths = 0;
      d1.setZero();
      d2.setZero();
      for (std::size_t k = run.first; k < run.second; ++k) {
        const std::size_t i = order_[k];
        xi = x_.row(i).transpose();
        const double eta = xi.dot(beta);
        const double r = std::exp(eta);
        s0 += r;
        s1.noalias() += r * xi;
        s2.selfadjointView<Eigen::Lower>().rankUpdate(xi, r);
        if (event_[i] == 1) {
          deaths += 1;
          d0 += r;
          d1.noalias() += r * xi;
          d2.selfadjointView<Eigen::Lower>().rankUpdate(xi, r);
          e.loglik += eta;
          e.u += xi;
        }
      }
      for (double k = 0; k < deaths; k += 1) {
        // Efron: the tied deaths leave the risk set gradually (fraction k/d); Breslow: not at all.
        const double frac = ties_ == CoxTies::kEfron ? k / deaths : 0.0;
        const double den = s0 - frac * d0;
        a = (s1 - frac * d1) / den;
        e.loglik -= std::log(den);
        e.u -= a;
        e.imat.triangularView<Eigen::Lower>() += (s2 - frac * d2) / den;
        e.imat.selfadjointView<Eigen::Lower>().rankUpdate(a, -1.0);
      }
    }
    e.imat = e.imat.selfadjointView<Eigen::Lower>();
    return e;
  }

 private:
  const std::vector<int>& event_;
  const Eigen::MatrixXd& x_;
  CoxTies ties_;
  std::vector<std::size_t> order_;
  std::vector<std::pair<std::size_t, std::size_t>> runs_;
};

Eigen::LDLT<Eigen::MatrixXd> factor(const Eigen::MatrixXd& imat, const std::vector<std::string>& terms) {
  Eigen::LDLT<Eigen::MatrixXd> ldlt(imat);
  const Eigen::VectorXd d = ldlt.vectorD();
  const double dmax = d.cwiseAbs().maxCoeff();
  for (Eigen::Index i = 0; i < d.size(); ++i)
    if (!(d(i) > dmax * 1e-12) || ldlt.info() != Eigen::Success)
      detail::fail("cox_ph", "the information matrix is singular (constant or collinear covariates among: " + [&] {
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
  if (time_in.size() < 2) detail::fail(fn, "need at least 2 observations, got " + std::to_string(time_in.size()));
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
