// Cut-points of a continuous score for survival data. "maxstat": the maximally selected
// standardised log-rank statistic over cut-points leaving at least minprop of the patients on
// each side, as R's maxstat::maxstat.test(Surv ~ x, smethod = "LogRank", minprop, maxprop)
// and survminer::surv_cutpoint (Lausen & Schumacher 1992, doi:10.2307/2532402; Hothorn &
// Lausen 2003, doi:10.1016/S0167-9473(02)00241-6). "median" / "fixed": the standardised
// statistic at that cut. Patients with score <= cut form the low group.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "stats/common.h"

namespace cervirisk::stats {

struct Cutpoint {
  double cut = kNA;
  double statistic = kNA;  // |standardised log-rank statistic| (maxstat's M)
  std::string method;
  std::size_t n_low = 0, n_high = 0;
};

Cutpoint cutpoint_maxstat(const std::vector<double>& time, const std::vector<int>& event,
                          const std::vector<double>& score, double minprop = 0.1, double maxprop = 0.9);
// R's median() of the score.
Cutpoint cutpoint_median(const std::vector<double>& time, const std::vector<int>& event,
                         const std::vector<double>& score);
Cutpoint cutpoint_fixed(const std::vector<double>& time, const std::vector<int>& event,
                        const std::vector<double>& score, double cut);

}  // namespace cervirisk::stats
