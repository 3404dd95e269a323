#include "stats/tdauc.h"

#include <algorithm>

#include "stats/detail.h"

namespace cervirisk::stats {

std::vector<TdAuc> td_auc(const std::vector<double>& time_in, const std::vector<int>& event,
                          const std::vector<double>& score, const std::vector<double>& horizons) {
  const char* fn = "td_auc";
  detail::check_scored_survival(fn, time_in, event, score);
  detail::check_finite(fn, horizons, "horizons");
  const std::size_t n = time_in.size();
  std::vector<std::size_t> idx;
  std::vector<double> time = detail::timefix(time_in, &idx);

  // Censoring Kaplan-Meier: G_left[i] = G(T_i-) per observation.
  std::vector<double> g_left(n);
  std::vector<double> g_times, g_after;  // step function G at its jump times (right-continuous)
  {
    double at_risk = n, g = 1.0;
    for (std::size_t i = 0; i < n;) {
      std::size_t j = i;
      double cens = 0;
      while (j < n && time[idx[j]] == time[idx[i]]) {
        g_left[idx[j]] = g;
        cens += (event[idx[j]] == 0);
        ++j;
      }
      if (cens > 0) g *= (at_risk - cens) / at_risk;
      g_times.push_back(time[idx[i]]);
      g_after.push_back(g);
      at_risk -= static_cast<double>(j - i);
      i = j;
    }
  }
  std::vector<TdAuc> out;
  for (double t : horizons) {
    TdAuc r;
    r.t = t;
    std::vector<double> controls;
    double wsum = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (time[i] > t)
        controls.push_back(score[i]);
      else if (event[i] == 1)
        ++r.n_cases;
    }
    r.n_controls = controls.size();
    if (r.n_cases > 0 && r.n_controls > 0) {
      std::sort(controls.begin(), controls.end());
      double num = 0;
      for (std::size_t i = 0; i < n; ++i) {
        if (!(time[i] <= t && event[i] == 1)) continue;
        const double w = 1.0 / g_left[i];
        const double below = std::lower_bound(controls.begin(), controls.end(), score[i]) - controls.begin();
        const double upto = std::upper_bound(controls.begin(), controls.end(), score[i]) - controls.begin();
        num += w * (below + 0.5 * (upto - below));
        wsum += w;
      }
      r.auc = num / (wsum * controls.size());
    }
    out.push_back(r);
  }
  return out;
}

}  // namespace cervirisk::stats
