// metrics.json and comparisons.csv: every statistic of a run (docs/report.md), computed by the
// study's evaluate step from the predictions, read by the report. An optional member is a field
// the writer leaves out (the statistic could not be computed: one class, no event, a failed
// fit); NaN is written as null. "format" is the version tag, checked on read.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runfolder/csv_format.h"

namespace cervirisk::runfolder {

struct Interval {
  double lo = kNaN, hi = kNaN;
};

// sensitivity, specificity, PPV, NPV at the training threshold with Clopper-Pearson intervals.
struct AtThreshold {
  double sensitivity = kNaN, specificity = kNaN, ppv = kNaN, npv = kNaN;
  Interval sensitivity_ci, specificity_ci, ppv_ci, npv_ci;
};

// One variant on one cohort ("metrics" entry).
struct MetricsRow {
  std::string variant, cohort;
  int n = 0, events = 0;
  double threshold = kNaN;
  double auc = kNaN;                     // null with one class only
  std::optional<Interval> auc_ci;        // DeLong
  std::optional<AtThreshold> at_threshold;  // present with both classes
  std::optional<double> delong_p;        // paired DeLong against the reference variant
  struct Calibration {
    double brier = kNaN, slope = kNaN, intercept = kNaN;
  };
  std::optional<Calibration> calibration;
  struct CIndex {
    double value = kNaN;
    Interval ci;
  };
  std::optional<CIndex> c_index;  // Harrell's C of the risk score

  // --- honest-validation statistics (docs/stats.md) ---
  int excluded = 0;      // horizon endpoint: censored before the horizon without an event (no binary label)
  int missing_time = 0;  // no follow-up time recorded: left out of every survival statistic
  std::optional<Calibration> calibration_raw;  // before recalibration: sigmoid of the model's logit
  std::optional<double> delong_p_holm;         // delong_p, Holm-adjusted over the variants of the cohort
  // Percentile bootstrap intervals (eval.bootstrap replicates, stratified by outcome).
  struct Bootstrap {
    int replicates = 0;
    Interval sensitivity, specificity, ppv, npv, c_index, calibration_slope;
  };
  std::optional<Bootstrap> bootstrap;
  // Cumulative/dynamic time-dependent AUC with IPCW (stats/tdauc.h) of the risk score.
  struct TdAuc {
    double horizon = kNaN, auc = kNaN;
    Interval ci;  // percentile bootstrap; NaN when eval.bootstrap = 0
    int cases = 0, controls = 0;
  };
  std::vector<TdAuc> td_auc;       // at eval.tdauc_horizons
  std::optional<TdAuc> auc_ipcw;   // horizon endpoint: the IPCW AUC at data.horizon_months
  // Incremental value of this variant's score over the clinical model ("over" = its variant).
  struct Incremental {
    std::string over;
    double nri = kNaN, nri_events = kNaN, nri_nonevents = kNaN;
    Interval nri_ci;
    double idi = kNaN;
    Interval idi_ci;
    double lr_chisq = kNaN, lr_p = kNaN;  // glm(y ~ logit_over) vs glm(y ~ logit_over + logit_variant)
    int lr_df = 1;
  };
  std::optional<Incremental> incremental;

  // The finite scalar metrics by their metrics.json name (auc, sensitivity, ..., c_index);
  // n, events, threshold and p-values are not metrics of the model.
  std::map<std::string, double> scalars() const;
};

// A Kaplan-Meier curve as drawn: steps at event times, with the pointwise band.
struct KmCurve {
  std::string label;
  std::vector<double> time, surv, lower, upper, censor_times, follow_up;
};

// Risk groups of one variant on one cohort ("survival" entry), split at the training cut-point.
struct SurvivalRow {
  std::string variant, cohort;
  double cutpoint = kNaN;
  std::vector<KmCurve> groups;  // low, high
  std::optional<double> logrank_p;
  std::optional<double> hr;  // Cox hazard ratio high vs low, with hr_ci
  Interval hr_ci;
  // Kaplan-Meier survival of each group at eval.km_times (summary(fit, times)), log intervals.
  struct AtTime {
    std::string group;  // the KmCurve label
    double time = kNaN, n_risk = kNaN, surv = kNaN;
    Interval ci;
  };
  std::vector<AtTime> at_times;
  // Training cohort with eval.cutpoint = maxstat: the p-value of the maximally selected
  // statistic corrected for the search (maxstat.test, pmethod = "Lau94"); logrank_p is not.
  std::optional<double> maxstat_p;
};

// Calibration of one variant on one cohort ("calibration" entry).
struct CalibrationRow {
  std::string variant, cohort;
  std::optional<MetricsRow::Calibration> fit;
  std::optional<std::vector<double>> predicted, observed;  // decile bins
  std::optional<double> hl_p;                              // Hosmer-Lemeshow
  // The same before recalibration (probabilities = sigmoid of the logit).
  std::optional<MetricsRow::Calibration> fit_raw;
  std::optional<std::vector<double>> predicted_raw, observed_raw;
  std::optional<double> hl_p_raw;
};

// Decision curve of one variant on one cohort ("decision_curve" entry).
struct DecisionCurveRow {
  std::string variant, cohort;
  std::vector<double> threshold, net_benefit, treat_all;
  std::vector<double> net_benefit_raw;  // before recalibration; empty = not computed
};

// One variant on the patients of one centre within a cohort ("centers" entry).
struct CenterRow {
  std::string variant, cohort, center;
  int n = 0, events = 0;
  double auc = kNaN;                  // NaN with one class
  std::optional<Interval> auc_ci;     // DeLong
  std::optional<double> citl;         // calibration-in-the-large (intercept with the logit as offset)
};

// Follow-up of one cohort, or one centre ("follow_up" entry): reverse Kaplan-Meier.
struct FollowUpRow {
  std::string cohort, center;  // center "" = the whole cohort
  int n = 0, events = 0, missing_time = 0;
  double median = kNaN;        // months; NaN when not reached
  Interval ci;
  double followed_at_horizon = kNaN;  // reverse-KM probability of still being followed at the horizon
};

// The optimism that selection on the internal cohort would add, per variant ("selection_check"):
// the internal AUC after each epoch of the model's training (recorded, never used, with
// train.selection = split / cv; the selection history itself with internal), at the chosen epoch
// and at the epoch the internal cohort would have chosen (its maximum over the epochs trained).
struct SelectionCheck {
  std::string variant, selection;
  int chosen_epoch = -1;          // 0-based; the last epoch for the cv refit
  double internal_auc_chosen = kNaN;
  int internal_best_epoch = -1;
  double internal_auc_best = kNaN;
  int epochs = 0;
};

// How the run was designed, as the study ran it ("design"): the report's methods, its TRIPOD+AI
// section and the limitations are written from it.
struct Design {
  std::string endpoint;               // data.endpoint: "event" | "horizon"
  double horizon_months = kNaN;       // data.horizon_months
  std::string selection;              // train.selection: "split" | "cv" | "internal"
  double validation_fraction = kNaN;  // split
  int folds = 0;                      // cv
  std::string loss;                   // train.loss
  std::string class_balance;          // train.class_balance: "weighted" | "sampler" | "none"
  std::string recalibration;          // eval.recalibration
  std::string threshold, cutpoint;    // eval.threshold, eval.cutpoint
  int bootstrap = 0;                  // eval.bootstrap
  int seeds = 1;
  bool synthetic = false;
  std::vector<double> tdauc_horizons, km_times;
};

// One variant on one cohort over the training seeds (--seeds N; "seeds" entry).
struct SeedRow {
  std::string variant, cohort;
  int seeds = 0;
  struct MeanSd {
    double mean = kNaN, sd = kNaN;
    std::vector<double> values;
  };
  std::map<std::string, MeanSd> metrics;  // by MetricsRow::scalars() name
};

struct Metrics {
  static constexpr const char* kFormat = "cervirisk-metrics/2";
  std::optional<Design> design;
  std::string reference_variant;
  std::vector<std::string> variants, cohorts;
  std::vector<MetricsRow> metrics;
  std::vector<SurvivalRow> survival;
  std::vector<CalibrationRow> calibration;
  std::vector<DecisionCurveRow> decision_curve;
  std::optional<std::vector<SeedRow>> seeds;
  std::vector<CenterRow> centers;
  std::vector<FollowUpRow> follow_up;
  std::vector<std::string> warnings;  // design warnings for the report (follow-up, selection, events)
  std::vector<SelectionCheck> selection_check;

  const MetricsRow* find(const std::string& variant, const std::string& cohort) const;
};

nlohmann::json to_json(const Metrics& m);
void write_metrics(const std::filesystem::path& file, const Metrics& m);
// Throws InputError (missing / unreadable) or FormatError naming the file and the field.
Metrics read_metrics(const std::filesystem::path& file);

// comparisons.csv: paired DeLong test of each variant against the reference, per cohort.
struct Comparison {
  std::string variant, reference, cohort;
  double auc = kNaN, auc_reference = kNaN, diff = kNaN, diff_lo = kNaN, diff_hi = kNaN, p = kNaN;
};
extern const std::vector<std::string> kComparisonColumns;
void write_comparisons(const std::filesystem::path& file, const std::vector<Comparison>& rows);
std::vector<Comparison> read_comparisons(const std::filesystem::path& file);

}  // namespace cervirisk::runfolder
