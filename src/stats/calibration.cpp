#include "stats/calibration.h"

#include <Eigen/Core>
#include <algorithm>

#include "stats/detail.h"
#include "stats/logistic.h"

namespace cervirisk::stats {

namespace {

void check(const char* fn, const std::vector<double>& probs, const std::vector<int>& labels) {
  detail::check_scored_labels(fn, probs, labels, "probs");
  if (probs.size() < 2) detail::fail(fn, "need at least 2 observations, got " + std::to_string(probs.size()));
  for (std::size_t i = 0; i < probs.size(); ++i)
    if (probs[i] < 0 || probs[i] > 1)
      detail::fail(fn,
                   "probs[" + std::to_string(i) + "] = " + std::to_string(probs[i]) + " is outside [0, 1]");
}

}  // namespace

Brier calibration_brier(const std::vector<double>& probs, const std::vector<int>& labels) {
  check("calibration_brier", probs, labels);
  Brier b;
  double s = 0, ybar = 0;
  for (std::size_t i = 0; i < probs.size(); ++i) {
    s += (probs[i] - labels[i]) * (probs[i] - labels[i]);
    ybar += labels[i];
  }
  b.brier = s / probs.size();
  ybar /= probs.size();
  const double ref = ybar * (1 - ybar);
  b.scaled = ref > 0 ? 1 - b.brier / ref : kNA;
  return b;
}

CalibrationFit calibration_logistic(const std::vector<double>& probs, const std::vector<int>& labels) {
  const char* fn = "calibration_logistic";
  check(fn, probs, labels);
  detail::check_two_classes(fn, labels);
  const Eigen::Index n = probs.size();
  Eigen::VectorXd lp(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    if (probs[i] <= 0 || probs[i] >= 1)
      detail::fail(fn, "probs[" + std::to_string(i) + "] = " + std::to_string(probs[i]) +
                           " has an infinite logit (need 0 < p < 1)");
    lp(i) = std::log(probs[i] / (1 - probs[i]));
  }
  if (lp.maxCoeff() == lp.minCoeff()) detail::fail(fn, "all predictions are equal: the slope is undefined");
  CalibrationFit f;
  Eigen::MatrixXd x2(n, 2);
  x2.col(0).setOnes();
  x2.col(1) = lp;
  // glm.fit's IRLS (logistic.cpp), shared with logistic_regression.
  auto fit = [&](const Eigen::MatrixXd& design, const Eigen::VectorXd& offset) {
    LogisticFit g = glm_binomial_fit(design, offset, labels, fn);
    if (!g.converged)
      detail::fail(fn, "the logistic recalibration did not converge in 25 iterations (separation?)");
    return g.coef;
  };
  const Eigen::VectorXd c2 = fit(x2, Eigen::VectorXd::Zero(n));
  f.slope_intercept = c2(0);
  f.slope = c2(1);
  f.intercept = fit(Eigen::MatrixXd::Ones(n, 1), lp)(0);
  return f;
}

std::vector<CalibrationBin> calibration_curve(const std::vector<double>& probs,
                                              const std::vector<int>& labels, int bins,
                                              BinStrategy strategy) {
  const char* fn = "calibration_curve";
  check(fn, probs, labels);
  if (bins < 1) detail::fail(fn, "bins must be >= 1");
  std::vector<double> edges(bins + 1);
  if (strategy == BinStrategy::kUniform) {
    const double step = 1.0 / bins;  // np.linspace(0, 1, bins + 1)
    for (int i = 0; i <= bins; ++i) edges[i] = i * step;
    edges[bins] = 1.0;
  } else {
    // np.percentile(p, linspace(0, 1, bins + 1) * 100), method "linear".
    std::vector<double> s(probs);
    std::sort(s.begin(), s.end());
    const double step = 1.0 / bins;
    for (int i = 0; i <= bins; ++i) {
      double q = (i == bins ? 1.0 : i * step) * 100;
      double v = (q / 100) * (s.size() - 1);
      double prev = std::floor(v);
      auto lo = static_cast<std::size_t>(std::min<double>(prev, s.size() - 1));
      std::size_t hi = std::min(lo + 1, s.size() - 1);
      double g = v - prev, a = s[lo], b = s[hi], d = b - a;
      edges[i] = g >= 0.5 ? b - d * (1 - g) : a + d * g;
    }
  }
  std::vector<double> sum_p(bins, 0), sum_y(bins, 0), cnt(bins, 0);
  for (std::size_t i = 0; i < probs.size(); ++i) {
    // searchsorted(edges[1:-1], p, "left"): the number of inner edges < p
    auto id = std::lower_bound(edges.begin() + 1, edges.end() - 1, probs[i]) - (edges.begin() + 1);
    sum_p[id] += probs[i];
    sum_y[id] += labels[i];
    cnt[id] += 1;
  }
  std::vector<CalibrationBin> out;
  for (int b = 0; b < bins; ++b)
    if (cnt[b] > 0) out.push_back({sum_p[b] / cnt[b], sum_y[b] / cnt[b], static_cast<std::size_t>(cnt[b])});
  return out;
}

HosmerLemeshow hosmer_lemeshow(const std::vector<double>& probs, const std::vector<int>& labels, int groups) {
  const char* fn = "hosmer_lemeshow";
  check(fn, probs, labels);
  if (groups < 3) detail::fail(fn, "groups must be >= 3");
  std::vector<double> s(probs);
  std::sort(s.begin(), s.end());
  const std::size_t n = s.size();
  std::vector<double> edges;
  for (int i = 0; i <= groups; ++i) {
    // R quantile type 7 of seq(0, 1, by = 1/g)
    const double prob = i * (1.0 / groups);
    const double index = (n - 1) * prob;  // 0-based
    const double lo = std::floor(index), hi = std::ceil(index);
    double q = s[static_cast<std::size_t>(lo)];
    const double xh = s[static_cast<std::size_t>(std::min<double>(hi, n - 1))];
    if (index > lo && xh != q) {
      const double h = index - lo;
      q = (1 - h) * q + h * xh;
    }
    edges.push_back(q);
  }
  edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
  const std::size_t k = edges.size() - 1;
  if (k < 1) detail::fail(fn, "all predictions are equal: no groups can be formed");
  std::vector<double> obs(k, 0), expct(k, 0), cnt(k, 0);
  for (std::size_t i = 0; i < n; ++i) {
    // (e_{g-1}, e_g], the first group closed on the left
    std::size_t g = std::lower_bound(edges.begin() + 1, edges.end(), probs[i]) - (edges.begin() + 1);
    g = std::min(g, k - 1);
    obs[g] += labels[i];
    expct[g] += probs[i];
    cnt[g] += 1;
  }
  HosmerLemeshow hl;
  hl.chisq = 0;
  for (std::size_t g = 0; g < k; ++g) {
    if (cnt[g] == 0) continue;
    ++hl.groups;
    const double e1 = expct[g], e0 = cnt[g] - expct[g], o1 = obs[g], o0 = cnt[g] - obs[g];
    if (e1 <= 0 || e0 <= 0)
      detail::fail(fn, "a group has an expected count of 0 (predictions of exactly 0 or 1)");
    hl.chisq += (o1 - e1) * (o1 - e1) / e1 + (o0 - e0) * (o0 - e0) / e0;
  }
  hl.df = static_cast<int>(hl.groups) - 2;
  if (hl.df < 1) detail::fail(fn, "fewer than 3 distinct groups (too few distinct predictions)");
  hl.p = chisq_upper_p(hl.chisq, hl.df);
  return hl;
}

}  // namespace cervirisk::stats
