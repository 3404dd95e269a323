#include "stats/group_tests.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "stats/detail.h"

namespace cervirisk::stats {

namespace {

// The groups with data (NaN/Inf rejected); their count goes into `result.groups`.
std::vector<const std::vector<double>*> non_empty(const char* fn, const std::vector<std::vector<double>>& groups,
                                                  GroupTest& result) {
  std::vector<const std::vector<double>*> out;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    detail::check_finite(fn, groups[g], ("groups[" + std::to_string(g) + "]").c_str());
    if (!groups[g].empty()) out.push_back(&groups[g]);
  }
  result.groups = out.size();
  return out;
}

std::vector<double> pooled(const std::vector<const std::vector<double>*>& groups) {
  std::vector<double> out;
  for (const auto* g : groups) out.insert(out.end(), g->begin(), g->end());
  return out;
}

bool all_identical(const std::vector<const std::vector<double>*>& groups) {
  const double first = groups.front()->front();
  for (const auto* g : groups)
    for (double v : *g)
      if (v != first) return false;
  return true;
}

}  // namespace

GroupTest chisq_test(const std::vector<std::vector<double>>& counts, bool correct) {
  constexpr const char* kFn = "chisq_test";
  GroupTest r;
  if (counts.empty()) return r;
  const std::size_t levels = counts.front().size();
  for (std::size_t g = 0; g < counts.size(); ++g) {
    if (counts[g].size() != levels)
      detail::fail(kFn, "counts[" + std::to_string(g) + "] has " + std::to_string(counts[g].size()) +
                            " levels but counts[0] has " + std::to_string(levels));
    for (std::size_t l = 0; l < levels; ++l)
      if (!std::isfinite(counts[g][l]) || counts[g][l] < 0)
        detail::fail(kFn, "counts[" + std::to_string(g) + "][" + std::to_string(l) + "] is " +
                              std::to_string(counts[g][l]) + ", expected a finite count >= 0");
  }
  std::vector<double> row(counts.size(), 0.0), col(levels, 0.0);
  for (std::size_t g = 0; g < counts.size(); ++g)
    for (std::size_t l = 0; l < levels; ++l) {
      row[g] += counts[g][l];
      col[l] += counts[g][l];
    }
  std::vector<std::size_t> rows, cols;
  for (std::size_t g = 0; g < row.size(); ++g)
    if (row[g] > 0) rows.push_back(g);
  for (std::size_t l = 0; l < levels; ++l)
    if (col[l] > 0) cols.push_back(l);
  r.groups = rows.size();
  if (rows.size() < 2 || cols.size() < 2) return r;
  double n = 0;
  for (std::size_t g : rows) n += row[g];

  auto expected = [&](std::size_t g, std::size_t l) { return row[g] * col[l] / n; };
  double yates = 0;
  if (correct && rows.size() == 2 && cols.size() == 2) {
    yates = 0.5;
    for (std::size_t g : rows)
      for (std::size_t l : cols) yates = std::min(yates, std::fabs(counts[g][l] - expected(g, l)));
  }
  double x2 = 0, min_e = INFINITY;
  for (std::size_t l : cols)
    for (std::size_t g : rows) {
      const double e = expected(g, l);
      const double d = std::fabs(counts[g][l] - e) - yates;
      x2 += d * d / e;
      min_e = std::min(min_e, e);
    }
  r.statistic = x2;
  r.df = static_cast<double>((rows.size() - 1) * (cols.size() - 1));
  r.p = chisq_upper_p(x2, r.df);
  r.min_expected = min_e;
  return r;
}

GroupTest kruskal_test(const std::vector<std::vector<double>>& groups) {
  GroupTest r;
  const auto gs = non_empty("kruskal_test", groups, r);
  if (gs.size() < 2) return r;
  r.df = static_cast<double>(gs.size() - 1);  // R reports it with a NaN statistic too
  if (all_identical(gs)) return r;
  std::vector<double> all = pooled(gs);
  const std::vector<double> rank = detail::midranks(all);
  const double n = static_cast<double>(all.size());
  // Sum of squared deviations of the mean ranks from (N + 1) / 2: the same H as the textbook
  // 12 / (N (N + 1)) sum R_i^2 / n_i - 3 (N + 1), without its cancellation.
  double between = 0;
  std::size_t at = 0;
  for (const auto* g : gs) {
    double sum = 0;
    for (std::size_t i = 0; i < g->size(); ++i) sum += rank[at + i];
    at += g->size();
    const double dev = sum / g->size() - (n + 1) / 2;
    between += g->size() * dev * dev;
  }
  // tie correction: runs of equal values in the sorted pooled sample
  std::sort(all.begin(), all.end());
  double ties = 0;
  for (std::size_t i = 0; i < all.size();) {
    std::size_t j = i;
    while (j < all.size() && all[j] == all[i]) ++j;
    const double t = static_cast<double>(j - i);
    ties += t * t * t - t;
    i = j;
  }
  const double h = 12 / (n * (n + 1)) * between / (1 - ties / (n * n * n - n));
  r.statistic = h;
  r.p = chisq_upper_p(h, r.df);
  return r;
}

GroupTest oneway_anova(const std::vector<std::vector<double>>& groups) {
  GroupTest r;
  const auto gs = non_empty("oneway_anova", groups, r);
  if (gs.size() < 2) return r;
  std::size_t n_all = 0;
  for (const auto* g : gs) {
    if (g->size() < 2) return r;
    n_all += g->size();
  }
  r.df = static_cast<double>(gs.size() - 1);  // R reports them with a NaN statistic too
  r.df2 = static_cast<double>(n_all - gs.size());
  if (all_identical(gs)) return r;
  // two-pass means: the second pass removes the rounding error of the first (as R's mean())
  auto mean = [](const double* b, const double* e) {
    double s = 0;
    for (const double* p = b; p != e; ++p) s += *p;
    const double m = s / (e - b);
    double c = 0;
    for (const double* p = b; p != e; ++p) c += *p - m;
    return m + c / (e - b);
  };
  const std::vector<double> all = pooled(gs);
  const double grand = mean(all.data(), all.data() + all.size());
  double between = 0, within = 0;
  for (const auto* g : gs) {
    const double m = mean(g->data(), g->data() + g->size());
    between += g->size() * (m - grand) * (m - grand);
    for (double v : *g) within += (v - m) * (v - m);
  }
  r.statistic = within > 0 ? (between / r.df) / (within / r.df2) : INFINITY;
  r.p = f_upper_p(r.statistic, r.df, r.df2);
  return r;
}

}  // namespace cervirisk::stats
