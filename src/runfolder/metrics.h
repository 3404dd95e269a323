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
};

// Calibration of one variant on one cohort ("calibration" entry).
struct CalibrationRow {
  std::string variant, cohort;
  std::optional<MetricsRow::Calibration> fit;
  std::optional<std::vector<double>> predicted, observed;  // decile bins
  std::optional<double> hl_p;                              // Hosmer-Lemeshow
};

// Decision curve of one variant on one cohort ("decision_curve" entry).
struct DecisionCurveRow {
  std::string variant, cohort;
  std::vector<double> threshold, net_benefit, treat_all;
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
  static constexpr const char* kFormat = "cervirisk-metrics/1";
  std::string reference_variant;
  std::vector<std::string> variants, cohorts;
  std::vector<MetricsRow> metrics;
  std::vector<SurvivalRow> survival;
  std::vector<CalibrationRow> calibration;
  std::vector<DecisionCurveRow> decision_curve;
  std::optional<std::vector<SeedRow>> seeds;

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
