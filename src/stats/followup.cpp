#include "stats/followup.h"

#include <cmath>
#include <string>

#include "stats/detail.h"

namespace cervirisk::stats {

namespace {

std::vector<int> reversed(const char* fn, const std::vector<double>& time, const std::vector<int>& event) {
  detail::check_same_size(fn, time.size(), event.size(), "time", "event");
  detail::check_finite(fn, time, "time");
  detail::check_binary(fn, event, "event");
  if (time.empty()) detail::fail(fn, "no observations");
  std::vector<int> r(event.size());
  for (std::size_t i = 0; i < event.size(); ++i) r[i] = 1 - event[i];
  return r;
}

}  // namespace

FollowUp median_follow_up(const std::vector<double>& time, const std::vector<int>& event,
                          const KmOptions& options) {
  const std::vector<int> rev = reversed("median_follow_up", time, event);
  const KaplanMeier km = kaplan_meier(time, rev, options);
  FollowUp f;
  f.n = km.n;
  f.censored = km.events;
  f.median = km.median;
  f.median_ci = km.median_ci;
  return f;
}

double fraction_followed_beyond(const std::vector<double>& time, const std::vector<int>& event, double t) {
  const char* fn = "fraction_followed_beyond";
  if (!std::isfinite(t)) detail::fail(fn, "t is not finite");
  const std::vector<int> rev = reversed(fn, time, event);
  const std::vector<KmRow> at = kaplan_meier_at(kaplan_meier(time, rev), {t});
  return at.empty() ? kNA : at.front().surv;
}

}  // namespace cervirisk::stats
