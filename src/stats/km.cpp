#include "stats/km.h"

#include <algorithm>
#include <limits>

#include "stats/detail.h"

namespace cervirisk::stats {

namespace {

// The median as print(survfit) / summary(survfit)$table compute it (survival's survmean,
// "minmin"): the first time at which the curve is below 0.5 (+ sqrt(eps)); when it is 0.5
// within tolerance there, the midpoint to the first later time with a lower value. The same rule
// on the lower / upper confidence curves gives the interval. NA values (S = 0 on a log scale)
// are skipped.
double median_time(const std::vector<double>& times, const std::vector<double>& curve) {
  const double tol = std::sqrt(std::numeric_limits<double>::epsilon());
  std::size_t first = times.size();
  for (std::size_t i = 0; i < times.size(); ++i)
    if (!std::isnan(curve[i]) && curve[i] < 0.5 + tol) {
      first = i;
      break;
    }
  if (first == times.size()) return kNA;
  const double y1 = curve[first];
  if (std::fabs(y1 - 0.5) < tol)
    for (std::size_t i = first + 1; i < times.size(); ++i)
      if (!std::isnan(curve[i]) && curve[i] < y1) return (times[first] + times[i]) / 2;
  return times[first];
}

}  // namespace

std::vector<KmRow> KaplanMeier::event_rows() const {
  std::vector<KmRow> out;
  for (const KmRow& r : rows)
    if (r.n_event > 0) out.push_back(r);
  return out;
}

KaplanMeier kaplan_meier(const std::vector<double>& time_in, const std::vector<int>& event,
                         const KmOptions& options) {
  const char* fn = "kaplan_meier";
  detail::check_same_size(fn, time_in.size(), event.size(), "time", "event");
  detail::check_finite(fn, time_in, "time");
  detail::check_binary(fn, event, "event");
  if (time_in.empty()) detail::fail(fn, "no observations");
  std::vector<std::size_t> idx;
  std::vector<double> time = detail::timefix(time_in, &idx);
  const double z = normal_quantile_two_sided(options.level);

  KaplanMeier km;
  km.n = time.size();
  double at_risk = time.size(), surv = 1.0, greenwood = 0.0;
  std::size_t i = 0;
  while (i < idx.size()) {
    KmRow row;
    row.time = time[idx[i]];
    row.n_risk = at_risk;
    std::size_t j = i;
    while (j < idx.size() && time[idx[j]] == row.time) {
      (event[idx[j]] == 1 ? row.n_event : row.n_censor) += 1;
      ++j;
    }
    if (row.n_event > 0) {
      surv *= (at_risk - row.n_event) / at_risk;
      // Greenwood: var(log S) = sum d / (n (n - d)); infinite when everyone left dies.
      greenwood += row.n_event / (at_risk * (at_risk - row.n_event));
    }
    km.events += static_cast<std::size_t>(row.n_event);
    row.surv = surv;
    const double se_log = std::sqrt(greenwood);
    row.std_err = surv * se_log;  // NaN when surv = 0 and se_log = Inf, as R
    switch (options.conf_type) {
      case KmConfType::kLog:
        if (surv > 0) {
          row.lower = std::exp(std::log(surv) - z * se_log);
          row.upper = std::min(1.0, std::exp(std::log(surv) + z * se_log));
        }
        break;
      case KmConfType::kLogLog:
        if (surv > 0 && surv < 1) {
          const double l = std::log(surv), ll = std::log(-l);
          row.lower = std::exp(-std::exp(ll - z * se_log / l));
          row.upper = std::exp(-std::exp(ll + z * se_log / l));
        }
        break;
      case KmConfType::kPlain:
        if (!std::isnan(row.std_err)) {
          row.lower = std::max(0.0, surv - z * row.std_err);
          row.upper = std::min(1.0, surv + z * row.std_err);
        }
        break;
    }
    at_risk -= row.n_event + row.n_censor;
    km.rows.push_back(row);
    i = j;
  }
  std::vector<double> t, s, lo, up;
  for (const KmRow& r : km.rows) {
    t.push_back(r.time);
    s.push_back(r.surv);
    lo.push_back(r.lower);
    up.push_back(r.upper);
  }
  km.median = median_time(t, s);
  km.median_ci = {median_time(t, lo), median_time(t, up)};
  return km;
}

std::vector<KmRow> kaplan_meier_at(const KaplanMeier& fit, const std::vector<double>& times) {
  const char* fn = "kaplan_meier_at";
  for (std::size_t k = 0; k < times.size(); ++k) {
    if (!std::isfinite(times[k])) detail::fail(fn, "times[" + std::to_string(k) + "] is not finite");
    if (k > 0 && times[k] <= times[k - 1]) detail::fail(fn, "times must be strictly increasing");
  }
  std::vector<KmRow> out;
  if (fit.rows.empty()) return out;
  std::size_t next = 0;  // first fit row with time > previous requested time
  for (double t : times) {
    if (t > fit.rows.back().time) break;
    KmRow r;
    r.time = t;
    // rows with time <= t since the previous requested time contribute their counts
    std::size_t j = next;
    while (j < fit.rows.size() && fit.rows[j].time <= t) {
      r.n_event += fit.rows[j].n_event;
      r.n_censor += fit.rows[j].n_censor;
      ++j;
    }
    // n at risk at t: the at-risk count of the first row with time >= t
    std::size_t k = j;
    if (j > 0 && fit.rows[j - 1].time == t) k = j - 1;
    r.n_risk = k < fit.rows.size() ? fit.rows[k].n_risk : 0;
    if (j == 0) {
      r.surv = 1;
      r.std_err = 0;
      r.lower = r.upper = 1;
    } else {
      const KmRow& s = fit.rows[j - 1];
      r.surv = s.surv;
      r.std_err = s.std_err;
      r.lower = s.lower;
      r.upper = s.upper;
    }
    out.push_back(r);
    next = j;
  }
  return out;
}

}  // namespace cervirisk::stats
