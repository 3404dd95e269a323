// What report.html shows, as plain data, and the loader that reads it from a run folder through
// the typed run-folder files (src/runfolder; formats in docs/report.md).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "report/figures.h"
#include "runfolder/explanations.h"
#include "runfolder/predictions.h"

namespace cervirisk::report {

// An estimate with its 95% confidence interval (NaN when absent).
struct Estimate {
  double value = kNaN, lo = kNaN, hi = kNaN;
};

// One variant on one cohort (metrics.json "metrics" entry).
struct VariantMetrics {
  std::string variant, cohort;
  int n = 0, events = 0;
  Estimate auc, sensitivity, specificity, ppv, npv;
  double threshold = kNaN;  // fitted on the training cohort
  double delong_p = kNaN;   // paired DeLong against the reference variant (NaN for itself)
  Estimate c_index, brier, calibration_slope, calibration_intercept;
};

// One variant on one cohort over the training seeds (metrics.json "seeds" entry, --seeds N):
// mean and sd (n - 1) per metric name ("auc", "sensitivity", "c_index", ...).
struct SeedSummary {
  std::string variant, cohort;
  int seeds = 0;
  std::map<std::string, std::pair<double, double>> mean_sd;
};

using PredictionRow = runfolder::Prediction;

// Risk groups of one variant on one cohort (metrics.json "survival" entry).
struct SurvivalSummary {
  std::string variant, cohort;
  std::vector<KmGroup> groups;
  double logrank_p = kNaN;
  Estimate hazard_ratio;  // high vs low
  double cutpoint = kNaN;
};

struct CalibrationSummary {
  std::string variant, cohort;
  CalibrationSeries curve;  // predictions filled from predictions/<variant>.csv when empty
  double slope = kNaN, intercept = kNaN, brier = kNaN, hl_p = kNaN;
};

struct DecisionSummary {
  std::string variant, cohort;
  NetBenefitCurve model, treat_all;
};

struct ReportData {
  std::string title = "Postoperative recurrence risk in operable cervical cancer";
  bool synthetic = false;                    // run.json "synthetic": the data are simulated
  std::string reference_variant;             // metrics.json: DeLong comparisons are against it
  std::vector<std::string> variants;         // row order of the tables
  std::vector<std::string> cohorts;          // column order (train, internal, external)
  std::vector<VariantMetrics> metrics;
  std::vector<SeedSummary> seed_summary;  // empty unless the study ran with --seeds N > 1
  std::map<std::string, std::vector<PredictionRow>> predictions;  // by variant
  std::vector<std::string> table1_header;
  std::vector<std::vector<std::string>> table1_rows;
  std::vector<SurvivalSummary> survival;
  std::vector<CalibrationSummary> calibration;
  std::vector<DecisionSummary> decision;
  std::vector<runfolder::ExampleRecord> examples;  // explain/examples.json
  std::optional<ShapData> clinical_shap;  // cohort SHAP of the clinical features (beeswarm, bar)
  std::string clinical_shap_variant;
  std::vector<BarItem> modality_importance;  // mean |φ| per modality over the cohort
  std::vector<TrainingHistory> training;
  // run.json, flattened for display ("runtime.torch" → "1.13.1", ...), and the input hashes
  std::vector<std::pair<std::string, std::string>> manifest;
  std::vector<std::pair<std::string, std::string>> data_hashes;
  std::map<std::string, std::string> model_card;  // optional overrides: intended_use, data, limitations
};

// Reads a run folder (docs/report.md). Required: run.json, metrics.json; everything else is
// optional and its section is left out when absent. Throws InputError / FormatError naming
// the file, line and field.
ReportData load_run_folder(const std::filesystem::path& dir);

}  // namespace cervirisk::report
