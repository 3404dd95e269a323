// Kaplan-Meier survival curve with Greenwood variance, as R's survival::survfit (Therneau,
// survival package reference manual; Kaplan & Meier 1958, doi:10.1080/01621459.1958.10501452;
// Greenwood 1926). Times closer than sqrt(eps) are merged first (survival's timefix);
// censoring at an event time happens after the events.
#pragma once

#include <cstddef>
#include <vector>

#include "stats/common.h"

namespace cervirisk::stats {

enum class KmConfType { kLog, kLogLog, kPlain };

struct KmOptions {
  KmConfType conf_type = KmConfType::kLog;  // survfit's default
  double level = 0.95;
};

// One distinct observed time. std_err is the standard error of S (as summary.survfit prints
// it: S times the Greenwood se of log S). Where S = 0 the se is NaN and the log / log-log limits
// are NA, as in R; NaN is also used for the log-log limits where S = 1.
struct KmRow {
  double time = 0;
  double n_risk = 0, n_event = 0, n_censor = 0;
  double surv = 1, std_err = 0, lower = kNA, upper = kNA;
};

struct KaplanMeier {
  std::size_t n = 0;
  std::size_t events = 0;
  std::vector<KmRow> rows;  // every distinct time (event or censoring), increasing
  // Median survival as print(survfit) reports it: the first time with S < 0.5 + sqrt(eps), the
  // midpoint to the next drop where S = 0.5 over a stretch; the interval applies the same rule to
  // the lower and upper confidence curves. NA when not reached.
  double median = kNA;
  Interval median_ci;

  // The rows with at least one event (summary.survfit's default table).
  std::vector<KmRow> event_rows() const;
};

// event: 1 = event, 0 = censored. Needs n >= 1; all-censored data gives S = 1 throughout and an NA median.
KaplanMeier kaplan_meier(const std::vector<double>& time, const std::vector<int>& event,
                         const KmOptions& options = {});

// The curve at given times, as summary(fit, times = ...): surv, std_err and limits of the step
// function at t; n_risk = number with time >= t; n_event / n_censor = counts in (previous t, t].
// Times after the last observed time are dropped (R without extend = TRUE); times must increase.
std::vector<KmRow> kaplan_meier_at(const KaplanMeier& fit, const std::vector<double>& times);

}  // namespace cervirisk::stats
