#include "stats/roc.h"

#include <algorithm>
#include <limits>

#include "stats/detail.h"
#include "stats/proportion.h"

namespace cervirisk::stats {

double roc_auc(const std::vector<double>& scores, const std::vector<int>& labels) {
  detail::check_scored_labels("roc_auc", scores, labels);
  detail::check_two_classes("roc_auc", labels);
  std::vector<double> r = detail::midranks(scores);
  double m = 0, rank_sum = 0;
  for (std::size_t i = 0; i < r.size(); ++i)
    if (labels[i] == 1) {
      m += 1;
      rank_sum += r[i];
    }
  double n = static_cast<double>(labels.size()) - m;
  return (rank_sum - m * (m + 1) / 2) / (m * n);
}

std::vector<RocPoint> roc_curve(const std::vector<double>& scores, const std::vector<int>& labels) {
  detail::check_scored_labels("roc_curve", scores, labels);
  detail::check_two_classes("roc_curve", labels);
  std::vector<std::size_t> idx = detail::order(scores);
  double m = 0;
  for (int l : labels) m += l;
  double n = labels.size() - m;
  std::vector<RocPoint> out;
  const double inf = std::numeric_limits<double>::infinity();
  // Walk upwards: below threshold t (negative calls) are the scores < t.
  double cases_below = 0, controls_below = 0;
  out.push_back({-inf, 1.0, 0.0});
  std::size_t i = 0;
  while (i < idx.size()) {
    double v = scores[idx[i]];
    std::size_t j = i;
    while (j < idx.size() && scores[idx[j]] == v) {
      (labels[idx[j]] == 1 ? cases_below : controls_below) += 1;
      ++j;
    }
    double t = j < idx.size() ? (v + scores[idx[j]]) / 2 : inf;
    out.push_back({t, (m - cases_below) / m, controls_below / n});
    i = j;
  }
  return out;
}

double roc_youden_threshold(const std::vector<double>& scores, const std::vector<int>& labels) {
  std::vector<RocPoint> pts = roc_curve(scores, labels);
  double best = -1, thr = kNA;
  for (const RocPoint& p : pts) {
    double s = p.sensitivity + p.specificity;
    if (s > best) {
      best = s;
      thr = p.threshold;
    }
  }
  return thr;
}

OperatingPoint roc_operating_point(const std::vector<double>& scores, const std::vector<int>& labels,
                                   double threshold, double level) {
  const char* fn = "roc_operating_point";
  detail::check_scored_labels(fn, scores, labels);
  if (std::isnan(threshold)) detail::fail(fn, "threshold is NaN");
  if (scores.empty()) detail::fail(fn, "no observations");
  OperatingPoint op;
  op.threshold = threshold;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    bool pos = scores[i] >= threshold;
    if (labels[i] == 1)
      (pos ? op.tp : op.fn) += 1;
    else
      (pos ? op.fp : op.tn) += 1;
  }
  auto ratio = [](std::size_t a, std::size_t b) { return b == 0 ? kNA : static_cast<double>(a) / b; };
  op.sensitivity = ratio(op.tp, op.tp + op.fn);
  op.specificity = ratio(op.tn, op.tn + op.fp);
  op.ppv = ratio(op.tp, op.tp + op.fp);
  op.npv = ratio(op.tn, op.tn + op.fn);
  op.accuracy = ratio(op.tp + op.tn, scores.size());
  op.f1 = ratio(2 * op.tp, 2 * op.tp + op.fp + op.fn);
  auto fill = [&](OperatingPoint::Cis& c, Interval (*ci)(std::size_t, std::size_t, double)) {
    c.sensitivity = ci(op.tp, op.tp + op.fn, level);
    c.specificity = ci(op.tn, op.tn + op.fp, level);
    c.ppv = ci(op.tp, op.tp + op.fp, level);
    c.npv = ci(op.tn, op.tn + op.fn, level);
    c.accuracy = ci(op.tp + op.tn, scores.size(), level);
  };
  fill(op.ci_wilson, proportion_ci_wilson);
  fill(op.ci_clopper_pearson, proportion_ci_clopper_pearson);
  return op;
}

}  // namespace cervirisk::stats
