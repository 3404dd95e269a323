#include "stats/logrank.h"

#include <Eigen/Dense>
#include <algorithm>

#include "stats/detail.h"

namespace cervirisk::stats {

Logrank logrank(const std::vector<double>& time_in, const std::vector<int>& event,
                const std::vector<int>& group, double rho) {
  const char* fn = "logrank";
  detail::check_same_size(fn, time_in.size(), event.size(), "time", "event");
  detail::check_same_size(fn, time_in.size(), group.size(), "time", "group");
  detail::check_finite(fn, time_in, "time");
  detail::check_binary(fn, event, "event");
  if (!std::isfinite(rho)) detail::fail(fn, "rho must be finite");
  int k = 0;
  for (int g : group) {
    if (g < 0) detail::fail(fn, "group ids must be >= 0");
    k = std::max(k, g + 1);
  }
  Logrank out;
  out.n.assign(k, 0);
  for (int g : group) out.n[g]++;
  if (k < 2) detail::fail(fn, "need at least 2 groups, got " + std::to_string(k));
  for (int g = 0; g < k; ++g)
    if (out.n[g] == 0) detail::fail(fn, "group " + std::to_string(g) + " is empty");
  std::size_t n_events = 0;
  for (int e : event) n_events += e;
  if (n_events == 0) detail::fail(fn, "no events (every observation is censored)");

  std::vector<std::size_t> idx;
  std::vector<double> time = detail::timefix(time_in, &idx);
  out.observed.assign(k, 0);
  out.expected.assign(k, 0);
  out.var = Eigen::MatrixXd::Zero(k, k);
  std::vector<double> at_risk(k, 0), deaths_k(k), leaving_k(k);
  for (int g : group) at_risk[g] += 1;
  double n_total = group.size(), km = 1.0;
  std::size_t i = 0;
  while (i < idx.size()) {
    const double t = time[idx[i]];
    std::fill(deaths_k.begin(), deaths_k.end(), 0.0);
    std::fill(leaving_k.begin(), leaving_k.end(), 0.0);
    std::size_t j = i;
    double deaths = 0;
    while (j < idx.size() && time[idx[j]] == t) {
      int g = group[idx[j]];
      if (event[idx[j]] == 1) {
        deaths_k[g] += 1;
        deaths += 1;
      }
      leaving_k[g] += 1;
      ++j;
    }
    if (deaths > 0) {
      const double wt = rho == 0 ? 1.0 : std::pow(km, rho);
      for (int g = 0; g < k; ++g) {
        out.observed[g] += wt * deaths_k[g];
        out.expected[g] += wt * deaths * at_risk[g] / n_total;
      }
      if (n_total > 1) {
        const double kk = wt * wt * deaths * (n_total - deaths) / (n_total * (n_total - 1));
        for (int a = 0; a < k; ++a) {
          out.var(a, a) += kk * at_risk[a];
          for (int b = 0; b < k; ++b) out.var(a, b) -= kk * at_risk[a] * at_risk[b] / n_total;
        }
      }
      km *= (n_total - deaths) / n_total;
    }
    for (int g = 0; g < k; ++g) at_risk[g] -= leaving_k[g];
    n_total -= static_cast<double>(j - i);
    i = j;
  }
  // survdiff: keep groups with expected > 0, drop the first of them, solve.
  std::vector<int> keep;
  for (int g = 0; g < k; ++g)
    if (out.expected[g] > 0) keep.push_back(g);
  out.df = static_cast<int>(keep.size()) - 1;
  if (out.df < 1) {
    out.chisq = kNA;
    out.p = kNA;
    return out;
  }
  Eigen::VectorXd d(out.df);
  Eigen::MatrixXd v(out.df, out.df);
  for (int a = 0; a < out.df; ++a) {
    d(a) = out.observed[keep[a + 1]] - out.expected[keep[a + 1]];
    for (int b = 0; b < out.df; ++b) v(a, b) = out.var(keep[a + 1], keep[b + 1]);
  }
  Eigen::VectorXd sol = v.ldlt().solve(d);
  out.chisq = d.dot(sol);
  out.p = chisq_upper_p(out.chisq, out.df);
  return out;
}

}  // namespace cervirisk::stats
