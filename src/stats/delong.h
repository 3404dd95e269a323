// DeLong variance of the AUC and DeLong tests comparing AUCs, in the fast O(n log n) form of
// Sun & Xu 2014 (doi:10.1109/LSP.2014.2337313) of DeLong, DeLong & Clarke-Pearson 1988
// (doi:10.2307/2531595). Numbers equal pROC's var(roc, method = "delong"), ci.auc(method =
// "delong") and roc.test(method = "delong").
#pragma once

#include <Eigen/Core>
#include <cstddef>
#include <vector>

#include "stats/common.h"

namespace cervirisk::stats {

// AUC with its DeLong variance and Wald interval auc +- z sqrt(var), clipped to [0, 1].
// Needs >= 2 cases and >= 2 controls (the variance uses m-1, n-1 denominators).
struct AucDelong {
  double auc = kNA;
  double var = kNA;
  Interval ci;
  std::size_t n_cases = 0, n_controls = 0;
};
AucDelong auc_delong(const std::vector<double>& scores, const std::vector<int>& labels, double level = 0.95);

// Paired comparison of two AUCs on the same patients: z = d / sqrt(L S L'), L = (1, -1);
// d's interval is d +- z sqrt(L S L') (not clipped). When both scores give the same
// placements (L S L' = 0) z, p and the interval are NA.
struct AucDelongPair {
  std::size_t a = 0, b = 0;  // indices into the score list
  double diff = kNA, z = kNA, p = kNA, p_holm = kNA;
  Interval diff_ci;
};
struct AucDelongPaired {
  std::vector<AucDelong> aucs;       // one per score
  Eigen::MatrixXd cov;               // DeLong covariance matrix S of the AUCs
  std::vector<AucDelongPair> pairs;  // all pairs a < b, in order (0,1), (0,2), ..., (1,2), ...
};
// scores[k][i] = score k of patient i. p_holm is the Holm-adjusted p over all pairs.
AucDelongPaired auc_delong_paired(const std::vector<std::vector<double>>& scores,
                                  const std::vector<int>& labels, double level = 0.95);

// Unpaired comparison (two independent samples): pROC's Welch-type statistic
// t = d / sqrt(S1 + S2) with Satterthwaite degrees of freedom, p from Student's t.
struct AucDelongUnpaired {
  double diff = kNA, t = kNA, df = kNA, p = kNA;
};
AucDelongUnpaired auc_delong_unpaired(const std::vector<double>& scores1, const std::vector<int>& labels1,
                                      const std::vector<double>& scores2, const std::vector<int>& labels2);

// Holm's step-down adjustment, as R's p.adjust(p, "holm") (Holm 1979). NA stays NA.
std::vector<double> p_adjust_holm(const std::vector<double>& p);

}  // namespace cervirisk::stats
