// Cut-points of a continuous score for survival data. "maxstat": the maximally selected
// standardised log-rank statistic over cut-points leaving at least minprop of the patients on
// each side, as R's maxstat::maxstat.test(Surv ~ x, smethod = "LogRank", minprop, maxprop)
// and survminer::surv_cutpoint (Lausen & Schumacher 1992, doi:10.2307/2532402; Hothorn &
// Lausen 2003, doi:10.1016/S0167-9473(02)00241-6). "median" / "fixed": the standardised
// statistic at that cut. Patients with score <= cut form the low group.
// p-values of the maximally selected statistic (the statistic is selected, so the plain
// log-rank p is far too small): maxstat.test(..., pmethod = "Lau94") and pmethod = "Lau92".
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
  // maxstat only (NA for median / fixed): the improved Bonferroni bound of Lausen, Sauerbrei &
  // Schumacher 1994 over the candidate cut-points (maxstat_p_lau94) and the asymptotic
  // approximation of Lausen & Schumacher 1992 (maxstat_p_lau92). As in R, neither is capped at 1.
  double p_lau94 = kNA;
  double p_lau92 = kNA;
};

Cutpoint cutpoint_maxstat(const std::vector<double>& time, const std::vector<int>& event,
                          const std::vector<double>& score, double minprop = 0.1, double maxprop = 0.9);
// R's median() of the score.
Cutpoint cutpoint_median(const std::vector<double>& time, const std::vector<int>& event,
                         const std::vector<double>& score);
Cutpoint cutpoint_fixed(const std::vector<double>& time, const std::vector<int>& event,
                        const std::vector<double>& score, double cut);

// Lausen, Sauerbrei & Schumacher 1994 (in Dirschedl & Ostermann (eds.), Computational
// Statistics, Physica, pp. 483-496), Worsley's improved Bonferroni inequality for the maximum of
// |Z| over k cut-points leaving m_1 < ... < m_k patients in the low group (of n):
//   P(M >= b) <= 2 (1 - Phi(b)) + sum_{i<k} phi(b) sqrt(2/pi) (t_i - (b^2/4 - 1) t_i^3 / 6),
//   t_i = sqrt(1 - m_i (n - m_{i+1}) / ((n - m_i) m_{i+1}))
// (phi(b) sqrt(2/pi) = exp(-b^2/2) / pi). 1 - Phi(b) is formed by subtraction from Phi(b), as R's
// maxstat does, so that tiny p-values agree with R to rounding. m must increase; one cut-point
// gives the unadjusted two-sided normal p.
double maxstat_p_lau94(double b, std::size_t n, const std::vector<std::size_t>& m);
// Lausen & Schumacher 1992 (doi:10.2307/2532402), after Miller & Siegmund 1982: with
// e1 = minprop, e2 = maxprop,
//   P(M >= b) ~ phi(b) (b - 1/b) log(e2 (1 - e1) / ((1 - e2) e1)) + 4 phi(b) / b,
// and 1 for b < 1 (maxstat's convention). NA when minprop = 0 or maxprop = 1.
double maxstat_p_lau92(double b, double minprop, double maxprop);

}  // namespace cervirisk::stats
