#include "stats/bootstrap.h"

#include <algorithm>
#include <map>
#include <random>
#include <thread>

#include "core/error.h"
#include "core/random.h"
#include "stats/detail.h"
#include "stats/roc.h"

namespace cervirisk::stats {

BootstrapCi bootstrap_ci(std::size_t n, const std::vector<int>& strata, const BootstrapStatistic& statistic,
                         const BootstrapOptions& options) {
  const char* fn = "bootstrap_ci";
  if (n < 2) detail::fail(fn, "need at least 2 rows, got " + std::to_string(n));
  if (!strata.empty()) detail::check_same_size(fn, strata.size(), n, "strata", "rows");
  if (options.replicates < 1) detail::fail(fn, "replicates must be >= 1");
  // Rows of each stratum, in row order.
  std::map<int, std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < n; ++i) groups[strata.empty() ? 0 : strata[i]].push_back(i);
  std::vector<std::vector<std::size_t>> members;
  for (auto& g : groups) members.push_back(std::move(g.second));

  std::vector<std::size_t> all(n);
  for (std::size_t i = 0; i < n; ++i) all[i] = i;
  BootstrapCi out;
  out.estimate = statistic(all);

  const int reps = options.replicates;
  std::vector<double> values(reps, kNA);
  const std::uint64_t base = derive_seed(options.seed, "stats/bootstrap");
  auto work = [&](int from, int to) {
    std::vector<std::size_t> rows(n);
    for (int r = from; r < to; ++r) {
      std::mt19937_64 gen(base + static_cast<std::uint64_t>(r) * 0x9E3779B97F4A7C15ULL);
      std::size_t k = 0;
      for (const auto& m : members) {
        std::uniform_int_distribution<std::size_t> pick(0, m.size() - 1);
        for (std::size_t j = 0; j < m.size(); ++j) rows[k++] = m[pick(gen)];
      }
      try {
        values[r] = statistic(rows);
      } catch (const StatsError&) {
        values[r] = kNA;
      }
    }
  };
  int threads = options.threads > 0 ? options.threads
                                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads = std::min(threads, reps);
  if (threads <= 1) {
    work(0, reps);
  } else {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) pool.emplace_back(work, reps * t / threads, reps * (t + 1) / threads);
    for (auto& th : pool) th.join();
  }
  for (double v : values) {
    if (std::isnan(v))
      ++out.failed;
    else
      out.values.push_back(v);
  }
  if (out.values.size() * 2 < static_cast<std::size_t>(reps))
    detail::fail(fn, std::to_string(out.failed) + " of " + std::to_string(reps) +
                         " replicates failed (statistic undefined on resamples)");
  const double alpha = 1 - options.level;
  out.ci = {quantile_type7(out.values, alpha / 2), quantile_type7(out.values, 1 - alpha / 2)};
  return out;
}

BootstrapCi bootstrap_ci_auc(const std::vector<double>& scores, const std::vector<int>& labels,
                             const BootstrapOptions& options) {
  roc_auc(scores, labels);  // validates the input once, with roc_auc's messages
  auto stat = [&](const std::vector<std::size_t>& rows) {
    std::vector<double> s(rows.size());
    std::vector<int> l(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      s[i] = scores[rows[i]];
      l[i] = labels[rows[i]];
    }
    return roc_auc(s, l);
  };
  return bootstrap_ci(scores.size(), labels, stat, options);
}

}  // namespace cervirisk::stats
