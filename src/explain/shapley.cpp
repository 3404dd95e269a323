#include "explain/shapley.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include "core/error.h"
#include "core/random.h"

namespace cervirisk::explain {
namespace {

// The coalition stream: splitmix64 (core/random.h), trivial to reproduce in the Python reference
// (scripts/explain_shap_golden.py).
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() { return splitmix64(state_); }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // Index drawn with probabilities p (normalised): first i with u < cdf[i].
  std::size_t choice(const std::vector<double>& cdf) {
    double u = uniform() * cdf.back();
    for (std::size_t i = 0; i < cdf.size(); ++i)
      if (u < cdf[i]) return i;
    return cdf.size() - 1;
  }
  // Fisher-Yates (Knuth, TAOCP vol. 2, Algorithm P).
  std::vector<int> permutation(int n) {
    std::vector<int> p(n);
    std::iota(p.begin(), p.end(), 0);
    for (int i = n - 1; i >= 1; --i) {
      int j = static_cast<int>(next() % static_cast<std::uint64_t>(i + 1));
      std::swap(p[i], p[j]);
    }
    return p;
  }

 private:
  std::uint64_t state_;
};

double binom(int n, int k) {
  double r = 1;
  for (int i = 1; i <= k; ++i) r = r * (n - k + i) / i;
  return std::round(r);
}

std::vector<std::vector<int>> resolve_groups(const std::vector<std::vector<int>>& groups, int features) {
  if (groups.empty()) {
    std::vector<std::vector<int>> g(features);
    for (int j = 0; j < features; ++j) g[j] = {j};
    return g;
  }
  std::vector<int> seen(features, 0);
  for (std::size_t i = 0; i < groups.size(); ++i) {
    if (groups[i].empty()) throw ConfigError("shapley: group " + std::to_string(i) + " is empty");
    for (int j : groups[i]) {
      if (j < 0 || j >= features)
        throw ConfigError("shapley: group " + std::to_string(i) + " names feature " + std::to_string(j) +
                          ", expected 0.." + std::to_string(features - 1));
      if (seen[j]++)
        throw ConfigError("shapley: feature " + std::to_string(j) + " belongs to more than one group");
    }
  }
  for (int j = 0; j < features; ++j)
    if (!seen[j]) throw ConfigError("shapley: feature " + std::to_string(j) + " belongs to no group");
  return groups;
}

void check_inputs(const Eigen::VectorXd& x, const Background& bg) {
  if (bg.data.rows() == 0) throw ConfigError("shapley: the background has no rows");
  if (bg.data.cols() != x.size())
    throw ConfigError("shapley: background has " + std::to_string(bg.data.cols()) + " features, x has " +
                      std::to_string(x.size()));
  if (bg.weights.size() != bg.data.rows())
    throw ConfigError("shapley: background has " + std::to_string(bg.data.rows()) + " rows but " +
                      std::to_string(bg.weights.size()) + " weights");
}

Eigen::VectorXd call_model(const BatchModel& model, const Eigen::MatrixXd& rows) {
  Eigen::VectorXd out = model(rows);
  if (out.size() != rows.rows())
    throw ModelError("shapley: the model returned " + std::to_string(out.size()) + " outputs for " +
                     std::to_string(rows.rows()) + " rows");
  return out;
}

// Background-averaged model output for each coalition (row of `masks` over players), the
// model called on at most batch_size rows at a time.
class CoalitionEvaluator {
 public:
  CoalitionEvaluator(const BatchModel& model, const Eigen::VectorXd& x, const Background& bg,
                     const std::vector<std::vector<int>>& players, std::size_t batch_size)
      : model_(model), x_(x), bg_(bg), players_(players), batch_size_(std::max<std::size_t>(batch_size, 1)) {}

  Eigen::VectorXd operator()(const Eigen::MatrixXd& masks) {
    const Eigen::Index nb = bg_.data.rows(), nf = bg_.data.cols(), ns = masks.rows();
    Eigen::VectorXd ey(ns);
    const Eigen::Index per_chunk = std::max<Eigen::Index>(1, static_cast<Eigen::Index>(batch_size_) / nb);
    Eigen::MatrixXd rows;
    for (Eigen::Index s0 = 0; s0 < ns; s0 += per_chunk) {
      const Eigen::Index c = std::min(per_chunk, ns - s0);
      rows.resize(c * nb, nf);
      for (Eigen::Index s = 0; s < c; ++s) {
        rows.middleRows(s * nb, nb) = bg_.data;
        for (std::size_t p = 0; p < players_.size(); ++p)
          if (masks(s0 + s, static_cast<Eigen::Index>(p)) != 0)
            for (int j : players_[p]) rows.block(s * nb, j, nb, 1).setConstant(x_(j));
      }
      Eigen::VectorXd out = call_model(model_, rows);
      rows_ += static_cast<std::size_t>(rows.rows());
      for (Eigen::Index s = 0; s < c; ++s) ey(s0 + s) = out.segment(s * nb, nb).dot(bg_.weights);
    }
    return ey;
  }
  std::size_t rows() const { return rows_; }
  void add_rows(std::size_t n) { rows_ += n; }

 private:
  const BatchModel& model_;
  const Eigen::VectorXd& x_;
  const Background& bg_;
  const std::vector<std::vector<int>>& players_;
  std::size_t batch_size_;
  std::size_t rows_ = 0;
};

// f(x) and E_bg f, each on the raw output scale.
std::pair<double, double> endpoints(const BatchModel& model, const Eigen::VectorXd& x, const Background& bg,
                                    std::size_t batch_size, std::size_t& rows) {
  Eigen::MatrixXd xr = x.transpose();
  double fx = call_model(model, xr)(0);
  double fnull = 0;
  const Eigen::Index bs = std::max<Eigen::Index>(1, static_cast<Eigen::Index>(batch_size));
  for (Eigen::Index r0 = 0; r0 < bg.data.rows(); r0 += bs) {
    Eigen::Index c = std::min(bs, bg.data.rows() - r0);
    fnull += call_model(model, bg.data.middleRows(r0, c)).dot(bg.weights.segment(r0, c));
  }
  rows += 1 + static_cast<std::size_t>(bg.data.rows());
  return {fx, fnull};
}

// What every estimator starts from: the checked inputs, the players (groups of feature columns)
// and the explanation's two ends on the link scale, f(x) and E f over the background.
struct Start {
  std::vector<std::vector<int>> players;
  Explanation e;
};
// `max_players` >= 0: refuse more players before the model is called (exact_shapley's limit).
Start start_explanation(const BatchModel& model, const Eigen::VectorXd& x, const Background& background,
                        const std::vector<std::vector<int>>& groups, Link link, std::size_t batch_size,
                        int max_players = -1) {
  check_inputs(x, background);
  Start s;
  s.players = resolve_groups(groups, static_cast<int>(x.size()));
  if (max_players >= 0 && static_cast<int>(s.players.size()) > max_players)
    throw ConfigError("exact_shapley: " + std::to_string(s.players.size()) + " players; at most " +
                      std::to_string(max_players) + " (use kernel_shap)");
  auto [fx, fnull] = endpoints(model, x, background, batch_size, s.e.model_rows);
  s.e.fx = apply_link(link, fx);
  s.e.expected = apply_link(link, fnull);
  return s;
}

// np.isclose(a, b) with equal_nan, as shap's KernelExplainer.not_equal uses.
bool close(double a, double b) {
  if (std::isnan(a) && std::isnan(b)) return true;
  return std::abs(a - b) <= 1e-8 + 1e-5 * std::abs(b);
}

}  // namespace

double apply_link(Link link, double p) {
  if (link == Link::kIdentity) return p;
  if (!(p > 0 && p < 1))
    throw ModelError("shapley: logit link needs outputs in (0,1), got " + std::to_string(p));
  return std::log(p / (1 - p));
}

std::string link_name(Link link) { return link == Link::kIdentity ? "identity" : "logit"; }

BatchModel batch_model_from_rows(
    std::function<std::vector<double>(const std::vector<std::vector<double>>&)> f) {
  return [f = std::move(f)](const Eigen::MatrixXd& m) {
    std::vector<std::vector<double>> rows(m.rows(), std::vector<double>(m.cols()));
    for (Eigen::Index i = 0; i < m.rows(); ++i)
      for (Eigen::Index j = 0; j < m.cols(); ++j) rows[i][j] = m(i, j);
    std::vector<double> out = f(rows);
    return Eigen::VectorXd(
        Eigen::Map<const Eigen::VectorXd>(out.data(), static_cast<Eigen::Index>(out.size())));
  };
}

std::vector<std::vector<int>> contiguous_groups(std::size_t players, std::int64_t width) {
  std::vector<std::vector<int>> groups(players);
  for (std::size_t m = 0; m < players; ++m)
    for (std::int64_t j = 0; j < width; ++j) groups[m].push_back(static_cast<int>(static_cast<std::int64_t>(m) * width + j));
  return groups;
}

Background make_background(const Eigen::MatrixXd& data) {
  Background b;
  b.data = data;
  b.weights = Eigen::VectorXd::Constant(data.rows(), data.rows() ? 1.0 / data.rows() : 0.0);
  return b;
}

Background kmeans_background(const Eigen::MatrixXd& data, int k, std::uint64_t seed, int max_iter) {
  const Eigen::Index n = data.rows();
  if (k <= 0) throw ConfigError("kmeans_background: k must be positive, got " + std::to_string(k));
  if (n <= k) return make_background(data);
  SplitMix64 rng(seed);
  Eigen::MatrixXd centres(k, data.cols());
  // k-means++: first centre uniform, then proportional to squared distance to the nearest.
  centres.row(0) = data.row(static_cast<Eigen::Index>(rng.next() % static_cast<std::uint64_t>(n)));
  Eigen::VectorXd d2 = (data.rowwise() - centres.row(0)).rowwise().squaredNorm();
  for (int c = 1; c < k; ++c) {
    std::vector<double> cdf(n);
    double acc = 0;
    for (Eigen::Index i = 0; i < n; ++i) cdf[i] = (acc += d2(i));
    Eigen::Index pick = acc > 0 ? static_cast<Eigen::Index>(rng.choice(cdf)) : c;
    centres.row(c) = data.row(pick);
    d2 = d2.cwiseMin((data.rowwise() - centres.row(c)).rowwise().squaredNorm());
  }
  std::vector<int> assign(n, -1);
  for (int it = 0; it < max_iter; ++it) {
    bool changed = false;
    for (Eigen::Index i = 0; i < n; ++i) {
      Eigen::Index best;
      (centres.rowwise() - data.row(i)).rowwise().squaredNorm().minCoeff(&best);
      if (assign[i] != best) {
        assign[i] = static_cast<int>(best);
        changed = true;
      }
    }
    if (!changed) break;
    Eigen::MatrixXd sum = Eigen::MatrixXd::Zero(k, data.cols());
    Eigen::VectorXd cnt = Eigen::VectorXd::Zero(k);
    for (Eigen::Index i = 0; i < n; ++i) {
      sum.row(assign[i]) += data.row(i);
      cnt(assign[i]) += 1;
    }
    for (int c = 0; c < k; ++c)
      if (cnt(c) > 0) centres.row(c) = sum.row(c) / cnt(c);
  }
  Eigen::VectorXd cnt = Eigen::VectorXd::Zero(k);
  for (Eigen::Index i = 0; i < n; ++i) cnt(assign[i]) += 1;
  // Drop empty clusters (duplicated points can leave one empty).
  Background b;
  int used = static_cast<int>((cnt.array() > 0).count());
  b.data.resize(used, data.cols());
  b.weights.resize(used);
  for (int c = 0, r = 0; c < k; ++c)
    if (cnt(c) > 0) {
      b.data.row(r) = centres.row(c);
      b.weights(r) = cnt(c) / static_cast<double>(n);
      ++r;
    }
  return b;
}

Explanation exact_shapley(const BatchModel& model, const Eigen::VectorXd& x, const Background& background,
                          const ShapleyOptions& options) {
  auto [players, e] =
      start_explanation(model, x, background, options.groups, options.link, options.batch_size, /*max_players=*/20);
  const int p = static_cast<int>(players.size());
  e.exact = true;
  const std::size_t nc = std::size_t{1} << p;
  std::vector<double> v(nc);
  v[0] = e.expected;
  v[nc - 1] = e.fx;
  if (nc > 2) {
    Eigen::MatrixXd masks(static_cast<Eigen::Index>(nc - 2), p);
    for (std::size_t s = 1; s + 1 < nc; ++s)
      for (int i = 0; i < p; ++i) masks(static_cast<Eigen::Index>(s - 1), i) = (s >> i) & 1U;
    CoalitionEvaluator eval(model, x, background, players, options.batch_size);
    Eigen::VectorXd ey = eval(masks);
    for (std::size_t s = 1; s + 1 < nc; ++s)
      v[s] = apply_link(options.link, ey(static_cast<Eigen::Index>(s - 1)));
    e.model_rows += eval.rows();
    e.coalitions = nc - 2;
  }
  // Shapley weight of a coalition of size s not containing i: s!(p−s−1)!/p!.
  std::vector<double> w(p);
  for (int s = 0; s < p; ++s) w[s] = 1.0 / (p * binom(p - 1, s));
  e.phi = Eigen::VectorXd::Zero(p);
  for (std::size_t s = 0; s < nc; ++s) {
    int size = __builtin_popcountll(s);
    for (int i = 0; i < p; ++i)
      if (!((s >> i) & 1U)) e.phi(i) += w[size] * (v[s | (std::size_t{1} << i)] - v[s]);
  }
  return e;
}

CoalitionSample kernel_shap_coalitions(int m, std::size_t nsamples, std::uint64_t seed) {
  if (m < 2) throw ConfigError("kernel_shap: need at least 2 players, got " + std::to_string(m));
  if (nsamples == 0) nsamples = 2 * static_cast<std::size_t>(m) + 2048;
  if (m <= 30) nsamples = std::min<std::size_t>(nsamples, (std::size_t{1} << m) - 2);
  std::vector<std::vector<double>> masks;
  std::vector<double> weights;
  auto add = [&](const std::vector<double>& mask, double w) {
    masks.push_back(mask);
    weights.push_back(w);
  };

  const int num_subset_sizes = (m - 1 + 1) / 2;  // ceil((m−1)/2)
  const int num_paired = (m - 1) / 2;            // floor((m−1)/2)
  std::vector<double> weight_vector(num_subset_sizes);
  for (int i = 1; i <= num_subset_sizes; ++i) weight_vector[i - 1] = (m - 1.0) / (i * (m - i));
  for (int i = 0; i < num_paired; ++i) weight_vector[i] *= 2;
  double tot = std::accumulate(weight_vector.begin(), weight_vector.end(), 0.0);
  for (double& w : weight_vector) w /= tot;

  // Complete enumeration of the smallest subset sizes (and their complements) while the
  // expected number of draws for every subset of that size is at least one.
  int num_full = 0;
  double samples_left_d = static_cast<double>(nsamples);
  std::vector<double> remaining = weight_vector;
  for (int size = 1; size <= num_subset_sizes; ++size) {
    double nsubsets = binom(m, size);
    if (size <= num_paired) nsubsets *= 2;
    if (samples_left_d * remaining[size - 1] / nsubsets < 1.0 - 1e-8) break;
    ++num_full;
    samples_left_d -= nsubsets;
    if (remaining[size - 1] < 1.0) {
      const double divisor = 1 - remaining[size - 1];
      for (double& r : remaining) r /= divisor;
    }
    double w = weight_vector[size - 1] / binom(m, size);
    if (size <= num_paired) w /= 2.0;
    // combinations in lexicographic order (itertools.combinations)
    std::vector<int> idx(size);
    std::iota(idx.begin(), idx.end(), 0);
    while (true) {
      std::vector<double> mask(m, 0.0);
      for (int j : idx) mask[j] = 1;
      add(mask, w);
      if (size <= num_paired) {
        for (double& v : mask) v = 1 - v;
        add(mask, w);
      }
      int i = size - 1;
      while (i >= 0 && idx[i] == m - size + i) --i;
      if (i < 0) break;
      ++idx[i];
      for (int j = i + 1; j < size; ++j) idx[j] = idx[j - 1] + 1;
    }
  }
  const std::size_t nfixed = masks.size();
  std::size_t samples_left = nsamples - nfixed;
  if (num_full != num_subset_sizes && samples_left > 0) {
    std::vector<double> rw = weight_vector;
    for (int i = 0; i < num_paired; ++i) rw[i] /= 2;  // each draw adds a sample and its complement
    rw.erase(rw.begin(), rw.begin() + num_full);
    std::vector<double> cdf(rw.size());
    double acc = 0;
    for (std::size_t i = 0; i < rw.size(); ++i) cdf[i] = (acc += rw[i]);
    SplitMix64 rng(seed);
    std::vector<std::size_t> ind_set(4 * samples_left);
    for (auto& ind : ind_set) ind = rng.choice(cdf);
    std::map<std::vector<double>, std::size_t> used;
    for (std::size_t pos = 0; samples_left > 0 && pos < ind_set.size(); ++pos) {
      const int size = static_cast<int>(ind_set[pos]) + num_full + 1;
      std::vector<double> mask(m, 0.0);
      auto perm = rng.permutation(m);
      for (int j = 0; j < size; ++j) mask[perm[j]] = 1;
      bool fresh = false;
      auto it = used.find(mask);
      std::size_t at = 0;
      if (it == used.end()) {
        fresh = true;
        at = masks.size();
        used.emplace(mask, at);
        --samples_left;
        add(mask, 1.0);
      } else {
        at = it->second;
        weights[at] += 1.0;
      }
      if (samples_left > 0 && size <= num_paired) {
        for (double& v : mask) v = 1 - v;
        if (fresh) {
          --samples_left;
          add(mask, 1.0);
        } else {
          weights[at + 1] += 1.0;  // the complement was added right after the original
        }
      }
    }
    double weight_left = std::accumulate(weight_vector.begin() + num_full, weight_vector.end(), 0.0);
    double sampled =
        std::accumulate(weights.begin() + static_cast<std::ptrdiff_t>(nfixed), weights.end(), 0.0);
    for (std::size_t i = nfixed; i < weights.size(); ++i) weights[i] *= weight_left / sampled;
  }
  CoalitionSample out;
  out.fixed = nfixed;
  out.masks.resize(static_cast<Eigen::Index>(masks.size()), m);
  out.weights.resize(static_cast<Eigen::Index>(masks.size()));
  for (std::size_t r = 0; r < masks.size(); ++r) {
    for (int j = 0; j < m; ++j) out.masks(static_cast<Eigen::Index>(r), j) = masks[r][j];
    out.weights(static_cast<Eigen::Index>(r)) = weights[r];
  }
  return out;
}

Explanation kernel_shap(const BatchModel& model, const Eigen::VectorXd& x, const Background& background,
                        const KernelShapOptions& options) {
  auto [players, e] = start_explanation(model, x, background, options.groups, options.link, options.batch_size);
  const int p = static_cast<int>(players.size());
  e.phi = Eigen::VectorXd::Zero(p);
  const double total = e.fx - e.expected;

  // Players equal to every background row cannot change the output: φ = 0, and they are left
  // out of the regression (shap's varying_groups).
  std::vector<int> varying;
  for (int g = 0; g < p; ++g) {
    bool differs = false;
    for (int j : players[g])
      for (Eigen::Index b = 0; b < background.data.rows() && !differs; ++b)
        differs = !close(x(j), background.data(b, j));
    if (differs) varying.push_back(g);
  }
  const int m = static_cast<int>(varying.size());
  if (m == 0) {
    e.exact = true;
    return e;
  }
  if (m == 1) {
    e.phi(varying[0]) = total;
    e.exact = true;
    return e;
  }

  CoalitionSample cs = kernel_shap_coalitions(m, options.nsamples, options.seed);
  std::vector<std::vector<int>> vplayers;
  for (int g : varying) vplayers.push_back(players[g]);
  CoalitionEvaluator eval(model, x, background, vplayers, options.batch_size);
  Eigen::VectorXd ey = eval(cs.masks);
  e.model_rows += eval.rows();
  e.coalitions = static_cast<std::size_t>(cs.masks.rows());
  e.exact = m <= 30 && e.coalitions == (std::size_t{1} << m) - 2;

  const Eigen::Index n = cs.masks.rows();
  Eigen::VectorXd y(n);
  for (Eigen::Index s = 0; s < n; ++s) y(s) = apply_link(options.link, ey(s)) - e.expected;
  // Efficiency constraint: φ_last = total − Σ others, substituted into the regression.
  const Eigen::Index last = m - 1;
  Eigen::VectorXd y2 = y - cs.masks.col(last) * total;
  Eigen::MatrixXd E = cs.masks.leftCols(last).colwise() - cs.masks.col(last);
  Eigen::MatrixXd WE = cs.weights.asDiagonal() * E;
  Eigen::MatrixXd A = E.transpose() * WE;
  Eigen::VectorXd rhs = WE.transpose() * y2;
  Eigen::VectorXd w = A.colPivHouseholderQr().solve(rhs);
  for (Eigen::Index i = 0; i < last; ++i) e.phi(varying[i]) = w(i);
  e.phi(varying[last]) = total - w.sum();
  return e;
}

namespace {
template <typename Fn>
CohortExplanation cohort(const Eigen::MatrixXd& X, Fn&& one) {
  CohortExplanation c;
  c.fx.resize(X.rows());
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    Explanation e = one(Eigen::VectorXd(X.row(i).transpose()));
    if (i == 0) c.phi.resize(X.rows(), e.phi.size());
    c.phi.row(i) = e.phi.transpose();
    c.fx(i) = e.fx;
    c.expected = e.expected;
  }
  c.mean_abs = X.rows() ? Eigen::VectorXd(c.phi.cwiseAbs().colwise().mean().transpose()) : Eigen::VectorXd();
  return c;
}
}  // namespace

CohortExplanation exact_shapley_cohort(const BatchModel& model, const Eigen::MatrixXd& X,
                                       const Background& background, const ShapleyOptions& options) {
  return cohort(X, [&](const Eigen::VectorXd& x) { return exact_shapley(model, x, background, options); });
}

CohortExplanation kernel_shap_cohort(const BatchModel& model, const Eigen::MatrixXd& X,
                                     const Background& background, const KernelShapOptions& options) {
  return cohort(X, [&](const Eigen::VectorXd& x) { return kernel_shap(model, x, background, options); });
}

}  // namespace cervirisk::explain
