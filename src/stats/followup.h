// Follow-up of a survival cohort by the reverse Kaplan-Meier method (Schemper & Smith 1996,
// Control Clin Trials 17:343-346, doi:10.1016/0197-2456(96)00075-X): the Kaplan-Meier estimate
// of the "censoring survival" P(C > t), fitted with the event indicator reversed (a censored
// patient's time is the "event", an event censors the follow-up), as R's
// survfit(Surv(time, 1 - event) ~ 1). Its median is the median potential follow-up; unlike the
// median observed time it is not shortened by early events.
#pragma once

#include <cstddef>
#include <vector>

#include "stats/common.h"
#include "stats/km.h"

namespace cervirisk::stats {

struct FollowUp {
  std::size_t n = 0;
  std::size_t censored = 0;  // patients censored (still under follow-up at their last contact)
  double median = kNA;       // print(survfit(Surv(time, 1 - event) ~ 1)): median and its CI
  Interval median_ci;        // (conf.type of options, log by default); NA where not reached
};

// event: 1 = event, 0 = censored. Throws StatsError as kaplan_meier does (sizes differ, NaN/Inf,
// event not 0/1, no observations). With no censored patient every value is NA.
FollowUp median_follow_up(const std::vector<double>& time, const std::vector<int>& event,
                          const KmOptions& options = {});

// The reverse Kaplan-Meier estimate at t: the estimated probability of still being under
// follow-up (neither censored nor, had there been no event, lost) at t, as
// summary(survfit(Surv(time, 1 - event) ~ 1), times = t)$surv. 1 before the first time, NA for
// t after the last observed time (R drops such times). Throws StatsError for a non-finite t.
double fraction_followed_beyond(const std::vector<double>& time, const std::vector<int>& event, double t);

}  // namespace cervirisk::stats
