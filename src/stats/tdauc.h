// Time-dependent ROC AUC, cumulative cases / dynamic controls, with inverse probability of
// censoring weights from the Kaplan-Meier curve of the censoring times (Uno et al. 2007,
// doi:10.1198/016214507000000149; Blanche, Dartigues & Jacqmin-Gadda 2013, timeROC,
// doi:10.1002/sim.5958). At horizon t: cases are events with T_i <= t, weighted 1 / G(T_i-);
// controls are T_j > t, weighted 1 / G(t) (a constant, so it cancels); tied scores count 1/2.
#pragma once

#include <cstddef>
#include <vector>

#include "stats/common.h"

namespace cervirisk::stats {

struct TdAuc {
  double t = 0;
  double auc = kNA;  // NA when the horizon has no case or no control
  std::size_t n_cases = 0, n_controls = 0;
};

// score: risk score (higher = earlier event). O(n log n) per horizon.
std::vector<TdAuc> td_auc(const std::vector<double>& time, const std::vector<int>& event,
                          const std::vector<double>& score, const std::vector<double>& horizons);

}  // namespace cervirisk::stats
