#include "train/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.h"

namespace cervirisk::train {

double auc_mann_whitney(const std::vector<double>& scores, const std::vector<float>& labels) {
  if (scores.size() != labels.size())
    throw StatsError("AUC: " + std::to_string(scores.size()) + " scores but " + std::to_string(labels.size()) +
                     " labels");
  const std::size_t n = scores.size();
  std::vector<std::size_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });
  double rank_sum_pos = 0, n_pos = 0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j + 1 < n && scores[idx[j + 1]] == scores[idx[i]]) ++j;
    const double mid_rank = 0.5 * static_cast<double>(i + j) + 1.0;  // 1-based mid-rank of the tie group
    for (std::size_t k = i; k <= j; ++k)
      if (labels[idx[k]] > 0.5f) {
        rank_sum_pos += mid_rank;
        n_pos += 1;
      }
    i = j + 1;
  }
  const double n_neg = static_cast<double>(n) - n_pos;
  if (n_pos == 0 || n_neg == 0) return std::numeric_limits<double>::quiet_NaN();
  return (rank_sum_pos - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg);
}

}  // namespace cervirisk::train
