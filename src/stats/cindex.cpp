#include "stats/cindex.h"

#include <algorithm>

#include "stats/detail.h"

namespace cervirisk::stats {

Concordance harrell_c(const std::vector<double>& time_in, const std::vector<int>& event,
                      const std::vector<double>& score) {
  const char* fn = "harrell_c";
  detail::check_scored_survival(fn, time_in, event, score);
  const std::size_t n = time_in.size();
  std::vector<std::size_t> idx;
  std::vector<double> time = detail::timefix(time_in, &idx);

  // Dense ranks of the score (0..u-1).
  std::vector<double> sorted(score);
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::vector<std::size_t> rank(n);
  for (std::size_t i = 0; i < n; ++i)
    rank[i] = std::lower_bound(sorted.begin(), sorted.end(), score[i]) - sorted.begin();
  const std::size_t u = sorted.size();

  // Per observation: concordant / discordant / tied-on-score comparable pairs it belongs to
  // (either role) -- the influence counts of the infinitesimal jackknife.
  std::vector<double> conc(n), disc(n), tie(n);           // zero-initialised
  std::vector<std::pair<std::size_t, std::size_t>> runs;  // [begin, end) of tied times in idx
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && time[idx[j]] == time[idx[i]]) ++j;
    runs.push_back({i, j});
    i = j;
  }
  // Pass 1, descending time: an event i against the later observations j (risk lower = concordant).
  {
    detail::Fenwick tree(u);
    for (auto r = runs.rbegin(); r != runs.rend(); ++r) {
      for (std::size_t k = r->first; k < r->second; ++k)
        if (event[idx[k]] == 0) tree.add(rank[idx[k]]);
      const double total = tree.total();
      for (std::size_t k = r->first; k < r->second; ++k) {
        const std::size_t i = idx[k];
        if (event[i] != 1) continue;
        const double below = tree.prefix(rank[i]), upto = tree.prefix(rank[i] + 1);
        conc[i] += below;
        tie[i] += upto - below;
        disc[i] += total - upto;
      }
      for (std::size_t k = r->first; k < r->second; ++k)
        if (event[idx[k]] == 1) tree.add(rank[idx[k]]);
    }
  }
  // Pass 2, ascending time: observation j against the earlier events i (risk of i higher = concordant).
  {
    detail::Fenwick tree(u);
    for (const auto& r : runs) {
      for (std::size_t k = r.first; k < r.second; ++k) {
        const std::size_t j = idx[k];
        if (event[j] != 1) continue;
        const double total = tree.total(), below = tree.prefix(rank[j]), upto = tree.prefix(rank[j] + 1);
        conc[j] += total - upto;
        tie[j] += upto - below;
        disc[j] += below;
      }
      for (std::size_t k = r.first; k < r.second; ++k)
        if (event[idx[k]] == 1) tree.add(rank[idx[k]]);
      const double total = tree.total();
      for (std::size_t k = r.first; k < r.second; ++k) {
        const std::size_t j = idx[k];
        if (event[j] != 0) continue;
        const double below = tree.prefix(rank[j]), upto = tree.prefix(rank[j] + 1);
        conc[j] += total - upto;
        tie[j] += upto - below;
        disc[j] += below;
      }
    }
  }
  Concordance c;
  for (std::size_t i = 0; i < n; ++i) {
    c.concordant += conc[i];
    c.discordant += disc[i];
    c.tied_x += tie[i];
  }
  // every comparable pair was counted once from each end
  c.concordant /= 2;
  c.discordant /= 2;
  c.tied_x /= 2;
  // events tied in time: tied_xy when the scores tie as well
  for (const auto& r : runs) {
    std::vector<std::size_t> ranks;
    for (std::size_t k = r.first; k < r.second; ++k)
      if (event[idx[k]] == 1) ranks.push_back(rank[idx[k]]);
    const double d = ranks.size();
    if (d < 2) continue;
    std::sort(ranks.begin(), ranks.end());
    double same = 0;
    for (std::size_t a = 0; a < ranks.size();) {
      std::size_t b = a;
      while (b < ranks.size() && ranks[b] == ranks[a]) ++b;
      const double m = b - a;
      same += m * (m - 1) / 2;
      a = b;
    }
    c.tied_xy += same;
    c.tied_y += d * (d - 1) / 2 - same;
  }
  const double npair = c.concordant + c.discordant + c.tied_x;
  if (npair == 0) detail::fail(fn, "no comparable pairs (no events, or all events tied at one time)");
  // survival's concordancefit: Somers' d and its dfbeta, var(C) = var(d) / 4.
  const double somer = (c.concordant - c.discordant) / npair;
  double var_somer = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double dfb = (conc[i] - disc[i]) / npair - (somer / npair) * (conc[i] + disc[i] + tie[i]);
    var_somer += dfb * dfb;
  }
  c.c = (somer + 1) / 2;
  c.var = var_somer / 4;
  c.se = std::sqrt(c.var);
  return c;
}

}  // namespace cervirisk::stats
