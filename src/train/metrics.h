// The validation metric the trainer selects on. A small self-contained AUC so the trainer does
// not wait on anything; the study's reported AUCs (with DeLong CIs) come from src/stats.
#pragma once

#include <vector>

namespace cervirisk::train {

// Area under the ROC curve as the Mann-Whitney U statistic / (n1 n0), ties counted 1/2
// (Hanley & McNeil 1982, doi:10.1148/radiology.143.1.7063747), via mid-ranks in O(n log n).
// Returns NaN when a class is absent (the caller decides whether that is an error).
double auc_mann_whitney(const std::vector<double>& scores, const std::vector<float>& labels);

}  // namespace cervirisk::train
