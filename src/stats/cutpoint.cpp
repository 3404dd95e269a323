#include "stats/cutpoint.h"

#include <algorithm>
#include <cmath>

#include "stats/detail.h"

namespace cervirisk::stats {

namespace {

constexpr double kPi = 3.14159265358979323846;

// Log-rank scores a_i = delta_i - sum_{j: t_j <= t_i} delta_j / (N - r_j + 1), r_j the maximal
// rank of t_j (exactRankTests::cscores.Surv, used by maxstat).
std::vector<double> logrank_scores(const std::vector<double>& time, const std::vector<int>& event) {
  const std::size_t n = time.size();
  std::vector<std::size_t> idx = detail::order(time);
  std::vector<double> a(n);
  double cum = 0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && time[idx[j]] == time[idx[i]]) ++j;
    const double rmax = j;  // 1-based maximal rank of this tie group
    for (std::size_t k = i; k < j; ++k) cum += event[idx[k]] / (n - rmax + 1);
    for (std::size_t k = i; k < j; ++k) a[idx[k]] = event[idx[k]] - cum;
    i = j;
  }
  return a;
}

// Standardised statistic of the first m scores (in score order) under the permutation null.
struct Standardiser {
  double n, ss, ss2;
  double operator()(double cum, double m) const {
    const double e = m / n * ss;
    const double v = m * (n - m) / (n * n * (n - 1)) * (n * ss2 - ss * ss);
    return std::fabs((cum - e) / std::sqrt(v));
  }
};

Cutpoint at_cut(const char* fn, const std::vector<double>& time, const std::vector<int>& event,
                const std::vector<double>& score, double cut, const char* method) {
  std::vector<double> a = logrank_scores(time, event);
  Standardiser st{static_cast<double>(a.size()), 0, 0};
  double cum = 0;
  Cutpoint c;
  c.cut = cut;
  c.method = method;
  for (std::size_t i = 0; i < a.size(); ++i) {
    st.ss += a[i];
    st.ss2 += a[i] * a[i];
    if (score[i] <= cut) {
      cum += a[i];
      ++c.n_low;
    }
  }
  c.n_high = a.size() - c.n_low;
  if (c.n_low == 0 || c.n_high == 0) detail::fail(fn, "the cut leaves one group empty");
  c.statistic = st(cum, c.n_low);
  return c;
}

}  // namespace

Cutpoint cutpoint_maxstat(const std::vector<double>& time, const std::vector<int>& event,
                          const std::vector<double>& score, double minprop, double maxprop) {
  const char* fn = "cutpoint_maxstat";
  detail::check_scored_survival(fn, time, event, score);
  if (!(minprop >= 0 && minprop < maxprop && maxprop <= 1))
    detail::fail(fn, "need 0 <= minprop < maxprop <= 1");
  std::vector<double> a = logrank_scores(time, event);
  const std::size_t n = a.size();
  std::vector<std::size_t> idx = detail::order(score);
  Standardiser st{static_cast<double>(n), 0, 0};
  for (double v : a) {
    st.ss += v;
    st.ss2 += v * v;
  }
  if (!(n * st.ss2 - st.ss * st.ss > 0))
    detail::fail(fn, "the log-rank scores are constant (no events, or all censored)");
  // Candidate m (1-based count of the low group) = positions just before a new distinct score.
  const double lo = std::max(1.0, std::floor(n * minprop)), hi = std::floor(n * maxprop);
  double cum = 0, best = -1;
  Cutpoint c;
  c.method = "maxstat";
  std::vector<std::size_t> ms;  // the low-group sizes of the candidate cut-points
  for (std::size_t k = 0; k + 1 < n; ++k) {
    cum += a[idx[k]];
    const double m = k + 1;
    if (score[idx[k + 1]] == score[idx[k]]) continue;
    if (m < lo || m > hi) continue;
    ms.push_back(k + 1);
    const double s = st(cum, m);
    if (s > best) {
      best = s;
      c.cut = score[idx[k]];
      c.n_low = static_cast<std::size_t>(m);
    }
  }
  if (best < 0)
    detail::fail(fn,
                 "no cut-point leaves between minprop and maxprop of the patients on each side (too few "
                 "distinct scores)");
  c.statistic = best;
  c.n_high = n - c.n_low;
  c.p_lau94 = maxstat_p_lau94(best, n, ms);
  c.p_lau92 = maxstat_p_lau92(best, minprop, maxprop);
  return c;
}

Cutpoint cutpoint_median(const std::vector<double>& time, const std::vector<int>& event,
                         const std::vector<double>& score) {
  const char* fn = "cutpoint_median";
  detail::check_scored_survival(fn, time, event, score);
  std::vector<double> s(score);
  std::sort(s.begin(), s.end());
  const std::size_t n = s.size();
  const double med = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  return at_cut(fn, time, event, score, med, "median");
}

Cutpoint cutpoint_fixed(const std::vector<double>& time, const std::vector<int>& event,
                        const std::vector<double>& score, double cut) {
  const char* fn = "cutpoint_fixed";
  detail::check_scored_survival(fn, time, event, score);
  if (!std::isfinite(cut)) detail::fail(fn, "cut must be finite");
  return at_cut(fn, time, event, score, cut, "fixed");
}

double maxstat_p_lau94(double b, std::size_t n, const std::vector<std::size_t>& m) {
  const char* fn = "maxstat_p_lau94";
  if (!(b >= 0) || std::isinf(b)) detail::fail(fn, "the statistic must be finite and >= 0");
  if (m.empty()) detail::fail(fn, "no cut-point");
  for (std::size_t i = 0; i < m.size(); ++i) {
    if (m[i] < 1 || m[i] >= n) detail::fail(fn, "a cut-point leaves an empty group");
    if (i > 0 && m[i] <= m[i - 1]) detail::fail(fn, "the group sizes m must increase");
  }
  const double nn = static_cast<double>(n);
  const double phi = 1 - 0.5 * std::erfc(b / std::sqrt(2.0));  // Phi(b), rounded as R's pnorm(b)
  const double b2 = b * b, e = std::exp(-b2 / 2) / kPi;
  double d = 0;
  for (std::size_t i = 0; i + 1 < m.size(); ++i) {
    const double m1 = static_cast<double>(m[i]), m2 = static_cast<double>(m[i + 1]);
    const double t = std::sqrt(1 - m1 * (nn - m2) / ((nn - m1) * m2));
    d += e * (t - (b2 / 4 - 1) * t * t * t / 6);
  }
  return 2 * (1 - phi) + d;
}

double maxstat_p_lau92(double b, double minprop, double maxprop) {
  const char* fn = "maxstat_p_lau92";
  if (!(b >= 0) || std::isinf(b)) detail::fail(fn, "the statistic must be finite and >= 0");
  if (!(minprop >= 0 && minprop < maxprop && maxprop <= 1))
    detail::fail(fn, "need 0 <= minprop < maxprop <= 1");
  if (minprop == 0 || maxprop == 1) return kNA;
  if (b < 1) return 1.0;
  const double phi = std::exp(-b * b / 2) / std::sqrt(2 * kPi);
  return 4 * phi / b + phi * (b - 1 / b) * std::log(maxprop * (1 - minprop) / ((1 - maxprop) * minprop));
}

}  // namespace cervirisk::stats
