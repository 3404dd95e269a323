// Nonparametric bootstrap percentile intervals (Efron & Tibshirani 1993), stratified as
// pROC's ci.auc(method = "bootstrap", boot.stratified = TRUE): each replicate resamples every
// stratum (e.g. cases and controls) with replacement to its own size; the interval ends are
// type-7 quantiles of the replicates (R's quantile()).
//
// Reproducible: replicate r draws from its own generator seeded by (seed, r), so the result does
// not depend on the number of threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "stats/common.h"

namespace cervirisk::stats {

struct BootstrapOptions {
  int replicates = 2000;
  std::uint64_t seed = 0;
  double level = 0.95;
  int threads = 0;  // 0 = hardware concurrency
};

struct BootstrapCi {
  double estimate = kNA;  // the statistic on the original rows
  Interval ci;
  std::size_t failed = 0;      // replicates whose statistic was NaN or threw StatsError (dropped)
  std::vector<double> values;  // the successful replicate values, in replicate order
};

// The statistic on a resample, given as row indices into the caller's data (rows may repeat).
// Called concurrently from several threads: it must not modify shared state.
using BootstrapStatistic = std::function<double(const std::vector<std::size_t>& rows)>;

// strata: one stratum id per row (any ints), or empty for simple resampling of n rows.
// Throws StatsError when fewer than half the replicates succeed.
BootstrapCi bootstrap_ci(std::size_t n, const std::vector<int>& strata, const BootstrapStatistic& statistic,
                         const BootstrapOptions& options = {});

// Stratified (cases/controls) bootstrap interval of the AUC.
BootstrapCi bootstrap_ci_auc(const std::vector<double>& scores, const std::vector<int>& labels,
                             const BootstrapOptions& options = {});

}  // namespace cervirisk::stats
