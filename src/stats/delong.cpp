#include "stats/delong.h"

#include <algorithm>
#include <numeric>

#include "stats/detail.h"

namespace cervirisk::stats {

namespace {

// Structural components ("placements"): V10 per case (fraction of controls it beats, ties 1/2)
// and V01 per control (fraction of cases that beat it), from mid-ranks in O(n log n).
struct Placements {
  std::vector<double> v10, v01;
  double auc;
};

Placements placements(const char* fn, const std::vector<double>& scores, const std::vector<int>& labels) {
  detail::check_scored_labels(fn, scores, labels);
  detail::check_two_classes(fn, labels, 2);
  // One sort; within a run of tied scores a case beats the controls below and ties the
  // controls in the run (the mid-rank differences of Sun & Xu, computed by counting).
  std::vector<std::size_t> idx = detail::order(scores);
  const std::size_t total = scores.size();
  double m = 0;
  for (int l : labels) m += l;
  const double n = total - m;
  std::vector<double> v10_at(total), v01_at(total);
  double controls_below = 0, cases_below = 0;
  for (std::size_t i = 0; i < total;) {
    std::size_t j = i;
    double c = 0, k = 0;
    while (j < total && scores[idx[j]] == scores[idx[i]]) {
      (labels[idx[j]] == 1 ? c : k) += 1;
      ++j;
    }
    const double v10 = (controls_below + 0.5 * k) / n;
    const double v01 = 1.0 - (cases_below + 0.5 * c) / m;
    for (std::size_t q = i; q < j; ++q)
      (labels[idx[q]] == 1 ? v10_at : v01_at)[idx[q]] = labels[idx[q]] == 1 ? v10 : v01;
    controls_below += k;
    cases_below += c;
    i = j;
  }
  Placements p;
  p.v10.reserve(static_cast<std::size_t>(m));
  p.v01.reserve(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < total; ++i)
    (labels[i] == 1 ? p.v10 : p.v01).push_back(labels[i] == 1 ? v10_at[i] : v01_at[i]);
  p.auc = std::accumulate(p.v10.begin(), p.v10.end(), 0.0) / m;
  return p;
}

double sample_cov(const std::vector<double>& a, double ma, const std::vector<double>& b, double mb) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += (a[i] - ma) * (b[i] - mb);
  return s / (a.size() - 1.0);
}

double variance(const Placements& p) {
  double m = p.v10.size(), n = p.v01.size();
  return sample_cov(p.v10, p.auc, p.v10, p.auc) / m + sample_cov(p.v01, p.auc, p.v01, p.auc) / n;
}

AucDelong make_auc(const Placements& p, double level) {
  AucDelong a;
  a.auc = p.auc;
  a.var = variance(p);
  a.n_cases = p.v10.size();
  a.n_controls = p.v01.size();
  double z = normal_quantile_two_sided(level), sd = std::sqrt(a.var);
  a.ci = {std::clamp(a.auc - z * sd, 0.0, 1.0), std::clamp(a.auc + z * sd, 0.0, 1.0)};
  return a;
}

}  // namespace

AucDelong auc_delong(const std::vector<double>& scores, const std::vector<int>& labels, double level) {
  return make_auc(placements("auc_delong", scores, labels), level);
}

AucDelongPaired auc_delong_paired(const std::vector<std::vector<double>>& scores,
                                  const std::vector<int>& labels, double level) {
  const char* fn = "auc_delong_paired";
  if (scores.empty()) detail::fail(fn, "no scores given");
  std::vector<Placements> ps;
  for (const auto& s : scores) ps.push_back(placements(fn, s, labels));
  const std::size_t k = ps.size();
  const double m = ps[0].v10.size(), n = ps[0].v01.size();
  AucDelongPaired out;
  out.cov.resize(k, k);
  for (std::size_t a = 0; a < k; ++a) {
    out.aucs.push_back(make_auc(ps[a], level));
    for (std::size_t b = a; b < k; ++b) {
      double s = sample_cov(ps[a].v10, ps[a].auc, ps[b].v10, ps[b].auc) / m +
                 sample_cov(ps[a].v01, ps[a].auc, ps[b].v01, ps[b].auc) / n;
      out.cov(a, b) = out.cov(b, a) = s;
    }
  }
  const double z = normal_quantile_two_sided(level);
  std::vector<double> pv;
  for (std::size_t a = 0; a < k; ++a)
    for (std::size_t b = a + 1; b < k; ++b) {
      AucDelongPair pr;
      pr.a = a;
      pr.b = b;
      pr.diff = ps[a].auc - ps[b].auc;
      double v = out.cov(a, a) + out.cov(b, b) - 2 * out.cov(a, b);
      if (v > 0) {
        double sig = std::sqrt(v);
        pr.z = pr.diff / sig;
        pr.p = normal_two_sided_p(pr.z);
        pr.diff_ci = {pr.diff - z * sig, pr.diff + z * sig};
      }
      pv.push_back(pr.p);
      out.pairs.push_back(pr);
    }
  std::vector<double> adj = p_adjust_holm(pv);
  for (std::size_t i = 0; i < adj.size(); ++i) out.pairs[i].p_holm = adj[i];
  return out;
}

AucDelongUnpaired auc_delong_unpaired(const std::vector<double>& scores1, const std::vector<int>& labels1,
                                      const std::vector<double>& scores2, const std::vector<int>& labels2) {
  Placements r = placements("auc_delong_unpaired", scores1, labels1);
  Placements s = placements("auc_delong_unpaired", scores2, labels2);
  double sr = variance(r), ss = variance(s);
  double ntot_r = r.v10.size() + r.v01.size(), ntot_s = s.v10.size() + s.v01.size();
  AucDelongUnpaired out;
  out.diff = r.auc - s.auc;
  out.t = out.diff / std::sqrt(sr + ss);
  out.df = (sr + ss) * (sr + ss) / (sr * sr / (ntot_r - 1) + ss * ss / (ntot_s - 1));
  out.p = t_two_sided_p(out.t, out.df);
  return out;
}

std::vector<double> p_adjust_holm(const std::vector<double>& p) {
  // R: o <- order(p); pmin(1, cummax((n - i + 1) * p[o]))[order(o)], n = number of non-NA p.
  std::vector<std::size_t> idx;
  for (std::size_t i = 0; i < p.size(); ++i)
    if (!std::isnan(p[i])) idx.push_back(i);
  std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return p[a] < p[b]; });
  std::vector<double> out(p.size(), kNA);
  const double n = idx.size();
  double run = 0;
  for (std::size_t i = 0; i < idx.size(); ++i) {
    run = std::max(run, (n - i) * p[idx[i]]);
    out[idx[i]] = std::min(1.0, run);
  }
  return out;
}

}  // namespace cervirisk::stats
