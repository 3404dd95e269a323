#include "stats/dca.h"

#include <algorithm>

#include "stats/detail.h"

namespace cervirisk::stats {

std::vector<DecisionCurveRow> decision_curve(const std::vector<double>& probs, const std::vector<int>& labels,
                                             const std::vector<double>& thresholds) {
  const char* fn = "decision_curve";
  detail::check_scored_labels(fn, probs, labels, "probs");
  if (probs.empty()) detail::fail(fn, "no observations");
  for (double t : thresholds)
    if (!(t > 0 && t < 1)) detail::fail(fn, "threshold " + std::to_string(t) + " is outside (0, 1)");
  // Sort once; TP/FP at p >= pt by binary search: O((n + k) log n).
  std::vector<double> cases, controls;
  for (std::size_t i = 0; i < probs.size(); ++i) (labels[i] == 1 ? cases : controls).push_back(probs[i]);
  std::sort(cases.begin(), cases.end());
  std::sort(controls.begin(), controls.end());
  const double n = probs.size(), prev = cases.size() / n;
  std::vector<DecisionCurveRow> out;
  for (double pt : thresholds) {
    const double odds = pt / (1 - pt);
    const double tp = cases.end() - std::lower_bound(cases.begin(), cases.end(), pt);
    const double fp = controls.end() - std::lower_bound(controls.begin(), controls.end(), pt);
    DecisionCurveRow r;
    r.threshold = pt;
    r.net_benefit_model = tp / n - fp / n * odds;
    r.net_benefit_all = prev - (1 - prev) * odds;
    out.push_back(r);
  }
  return out;
}

std::vector<double> decision_curve_grid(double from, double to, double step) {
  if (!(step > 0) || !(to >= from) || !std::isfinite(from) || !std::isfinite(to))
    detail::fail("decision_curve_grid", "need from <= to and step > 0");
  // R's seq(): n = floor((to - from) / by + 1e-10); pmin(from + (0:n) * by, to)
  const auto k = static_cast<long>(std::floor((to - from) / step + 1e-10));
  std::vector<double> g;
  for (long i = 0; i <= k; ++i) g.push_back(std::min(from + i * step, to));
  return g;
}

}  // namespace cervirisk::stats
