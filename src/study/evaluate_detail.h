// The statistics of the evaluate step, shared by evaluate.cpp (the per-cohort orchestration and
// the classic metrics) and evaluate_validation.cpp (bootstrap intervals, time-dependent AUC,
// centres, follow-up, incremental value, design warnings). Internal to src/study.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "runfolder/metrics.h"
#include "stats/common.h"
#include "study/steps.h"

namespace cervirisk::study {

inline const std::string kClinicalVariant = "clinical";

// One variant's predictions on one cohort, column-wise. label -1 = no binary label; time < 0 =
// not recorded.
struct CohortPreds {
  std::vector<double> prob, prob_raw, logit, risk, time;
  std::vector<int> label, event;
  std::vector<std::string> center;

  CohortPreds labelled() const;  // the patients with a binary label
  CohortPreds timed() const;     // the patients with a follow-up time
  CohortPreds subset(const std::function<bool(std::size_t)>& keep) const;
};

std::map<std::string, CohortPreds> by_variant(const std::vector<std::string>& variants,
                                              const std::map<std::string, VariantPredictions>& preds,
                                              const std::string& cohort);

runfolder::Interval interval(const stats::Interval& i);

// Kaplan-Meier survival of each group at `times` (times past a group's last follow-up are left out).
struct KmGroup {
  std::string label;
  const std::vector<double>* time;
  const std::vector<int>* event;
};
std::vector<runfolder::SurvivalRow::AtTime> km_at_times(const std::vector<KmGroup>& groups,
                                                        const std::vector<double>& times);

// IPCW time-dependent AUC of the risk score at each horizon (a horizon without a case or a
// control is left out), with percentile bootstrap intervals when `bootstrap`.
std::vector<runfolder::MetricsRow::TdAuc> td_auc_rows(const StudySettings& settings, const CohortPreds& surv,
                                                      const std::vector<double>& horizons, bool bootstrap,
                                                      const std::string& stream);

// Bootstrap intervals of Se/Sp/PPV/NPV at the threshold and the calibration slope (resampling
// the labelled patients within outcome classes) and of the C-index (the timed patients within
// event status).
runfolder::MetricsRow::Bootstrap bootstrap_cis(const StudySettings& settings, const CohortPreds& bin,
                                               const CohortPreds& surv, const runfolder::MetricsRow& row,
                                               const std::string& stream);

// The training cut-point's p-value corrected for the search (maxstat.test, pmethod = "Lau94").
std::optional<double> maxstat_corrected_p(const CohortPreds& surv, const std::string& variant);

// Continuous NRI and IDI of `variant` over `clinical` (with bootstrap intervals), and the LR
// test of adding the variant's logit to a logistic model of the clinical model's logit.
std::optional<runfolder::MetricsRow::Incremental> incremental_value(const StudySettings& settings,
                                                                    const CohortPreds& clinical,
                                                                    const CohortPreds& variant, bool bootstrap,
                                                                    const std::string& stream);

// Per-centre subgroup rows of one variant on one cohort.
void append_centers(const std::string& variant, const std::string& cohort, const CohortPreds& bin,
                    std::vector<runfolder::CenterRow>& out);
// Reverse-KM follow-up of the cohort and of each of its centres.
void append_follow_up(const StudySettings& settings, const std::string& cohort, const CohortPreds& all,
                      std::vector<runfolder::FollowUpRow>& out);

// The internal AUC at the chosen epoch and at the internal cohort's best epoch (none without a trace).
std::optional<runfolder::SelectionCheck> selection_check(const std::string& variant, const SelectionTrace& trace);

runfolder::Design design_of(const StudySettings& settings);
// Follow-up differences between centres, train.selection = internal, too few events.
std::vector<std::string> design_warnings(const StudySettings& settings, const runfolder::Metrics& m);

}  // namespace cervirisk::study
