#include "stats/common.h"

#include <algorithm>
#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/fisher_f.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <numeric>

#include "core/error.h"
#include "stats/detail.h"

namespace cervirisk::stats {

double normal_quantile_two_sided(double level) {
  if (!(level > 0 && level < 1))
    detail::fail("normal_quantile_two_sided",
                 "confidence level must be in (0,1), got " + std::to_string(level));
  boost::math::normal n;
  return boost::math::quantile(n, 1 - (1 - level) / 2);
}

double normal_cdf(double z) {
  if (std::isnan(z)) return kNA;
  return 0.5 * std::erfc(-z / std::sqrt(2.0));
}

double normal_two_sided_p(double z) {
  if (std::isnan(z)) return kNA;
  return std::erfc(std::fabs(z) / std::sqrt(2.0));
}

double chisq_upper_p(double x, double df) {
  if (std::isnan(x) || !(df > 0)) return kNA;
  if (x <= 0) return 1.0;
  if (std::isinf(x)) return 0.0;
  return boost::math::cdf(boost::math::complement(boost::math::chi_squared(df), x));
}

double t_two_sided_p(double t, double df) {
  if (std::isnan(t) || !(df > 0)) return kNA;
  if (std::isinf(t)) return 0.0;
  return 2 * boost::math::cdf(boost::math::complement(boost::math::students_t(df), std::fabs(t)));
}

double f_upper_p(double f, double df1, double df2) {
  if (std::isnan(f) || !(df1 > 0) || !(df2 > 0)) return kNA;
  if (f <= 0) return 1.0;
  if (std::isinf(f)) return 0.0;
  return boost::math::cdf(boost::math::complement(boost::math::fisher_f(df1, df2), f));
}

double quantile_type7(std::vector<double> v, double p) {
  if (v.empty()) return kNA;
  std::sort(v.begin(), v.end());
  double h = (v.size() - 1) * p;
  auto lo = static_cast<std::size_t>(std::floor(h));
  std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (h - lo) * (v[hi] - v[lo]);
}

namespace detail {

void fail(const char* fn, const std::string& what) { throw StatsError(std::string(fn) + ": " + what); }

void check_same_size(const char* fn, std::size_t a, std::size_t b, const char* name_a, const char* name_b) {
  if (a != b)
    fail(fn, std::string(name_a) + " has " + std::to_string(a) + " values but " + name_b + " has " +
                 std::to_string(b));
}

void check_finite(const char* fn, const std::vector<double>& v, const char* name) {
  for (std::size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i]))
      fail(fn, std::string(name) + "[" + std::to_string(i) + "] is " + std::to_string(v[i]) +
                   " (NaN/Inf are not allowed; drop missing rows first)");
}

void check_binary(const char* fn, const std::vector<int>& v, const char* name) {
  for (std::size_t i = 0; i < v.size(); ++i)
    if (v[i] != 0 && v[i] != 1)
      fail(fn, std::string(name) + "[" + std::to_string(i) + "] is " + std::to_string(v[i]) +
                   ", expected 0 or 1");
}

void check_two_classes(const char* fn, const std::vector<int>& labels, std::size_t min_each) {
  std::size_t ones = 0;
  for (int l : labels) ones += (l == 1);
  std::size_t zeros = labels.size() - ones;
  if (ones < min_each || zeros < min_each)
    fail(fn, "need at least " + std::to_string(min_each) + " case(s) and control(s), got " +
                 std::to_string(ones) + " case(s) and " + std::to_string(zeros) + " control(s)");
}

void check_scored_labels(const char* fn, const std::vector<double>& scores, const std::vector<int>& labels,
                         const char* scores_name) {
  check_same_size(fn, scores.size(), labels.size(), scores_name, "labels");
  check_finite(fn, scores, scores_name);
  check_binary(fn, labels, "labels");
}

void check_scored_survival(const char* fn, const std::vector<double>& time, const std::vector<int>& event,
                           const std::vector<double>& score) {
  check_same_size(fn, time.size(), event.size(), "time", "event");
  check_same_size(fn, time.size(), score.size(), "time", "score");
  check_finite(fn, time, "time");
  check_finite(fn, score, "score");
  check_binary(fn, event, "event");
  if (time.size() < 2) fail(fn, "need at least 2 observations, got " + std::to_string(time.size()));
}

std::vector<std::size_t> order(const std::vector<double>& v) {
  // Sorting (value, index) pairs keeps the data contiguous (several times faster than an
  // indirect sort at n = 1e6) and the index breaks ties, so the order is stable.
  std::vector<std::pair<double, std::size_t>> kv(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) kv[i] = {v[i], i};
  std::sort(kv.begin(), kv.end());
  std::vector<std::size_t> idx(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) idx[i] = kv[i].second;
  return idx;
}

std::vector<double> midranks(const std::vector<double>& v) {
  std::vector<std::size_t> idx = order(v);
  std::vector<double> r(v.size());
  std::size_t i = 0;
  while (i < idx.size()) {
    std::size_t j = i;
    while (j + 1 < idx.size() && v[idx[j + 1]] == v[idx[i]]) ++j;
    double mid = (i + j) / 2.0 + 1.0;
    for (std::size_t k = i; k <= j; ++k) r[idx[k]] = mid;
    i = j + 1;
  }
  return r;
}

std::vector<double> timefix(const std::vector<double>& time, std::vector<std::size_t>* sorted) {
  std::vector<std::size_t> idx = order(time);
  std::vector<double> out(time);
  if (time.size() >= 2) {
    // distinct values in increasing order, and their mean absolute value (aeqSurv)
    std::vector<double> y;
    y.reserve(time.size());
    for (std::size_t k : idx)
      if (y.empty() || time[k] != y.back()) y.push_back(time[k]);
    double mean_abs = 0;
    for (double t : y) mean_abs += std::fabs(t);
    mean_abs /= y.size();
    const double tol = std::sqrt(std::numeric_limits<double>::epsilon());
    // each value maps onto the first value of its run of near-equal neighbours
    std::vector<double> target(y.size());
    bool any_tied = false;
    for (std::size_t i = 0; i < y.size(); ++i) {
      const double dy = i ? y[i] - y[i - 1] : 0;
      const bool tied = i > 0 && (dy <= tol || dy / mean_abs <= tol);
      any_tied |= tied;
      target[i] = tied ? target[i - 1] : y[i];
    }
    if (any_tied) {
      std::size_t u = 0;
      for (std::size_t k : idx) {
        while (y[u] != time[k]) ++u;
        out[k] = target[u];
      }
    }
  }
  // Merged values keep their original relative order: still sorted (ties by original value).
  if (sorted) *sorted = std::move(idx);
  return out;
}

}  // namespace detail
}  // namespace cervirisk::stats
