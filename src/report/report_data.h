// What report.html shows, as plain data, and the loader that reads it from a run folder through
// the typed run-folder files (src/runfolder; formats in docs/report.md).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "report/figures.h"
#include "runfolder/explanations.h"
#include "runfolder/metrics.h"
#include "runfolder/model_info.h"
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
  // honest-validation statistics (metrics.json cervirisk-metrics/2; docs/report.md)
  int excluded = 0, missing_time = 0;
  double delong_p_holm = kNaN;  // delong_p, Holm-adjusted over the variants of the cohort
  std::optional<runfolder::MetricsRow::Calibration> calibration_raw;  // before recalibration
  std::optional<runfolder::MetricsRow::Bootstrap> bootstrap;          // percentile bootstrap CIs
  std::vector<runfolder::MetricsRow::TdAuc> td_auc;                   // at eval.tdauc_horizons
  std::optional<runfolder::MetricsRow::TdAuc> auc_ipcw;               // horizon endpoint
  std::optional<runfolder::MetricsRow::Incremental> incremental;      // over the clinical model
};

// Who was analysed in one cohort (the reference variant's metrics row: every variant sees the
// same patients): n with a binary outcome, its events, the horizon endpoint's exclusions and the
// patients without a follow-up time.
struct CohortFlow {
  std::string cohort;
  int n = 0, events = 0, excluded = 0, missing_time = 0;
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
  std::vector<runfolder::SurvivalRow::AtTime> at_times;  // KM survival per group at eval.km_times
  double maxstat_p = kNaN;  // training cohort: the cut-point search's corrected p (logrank_p is not)
};

struct CalibrationSummary {
  std::string variant, cohort;
  CalibrationSeries curve;  // predictions filled from predictions/<variant>.csv when empty
  double slope = kNaN, intercept = kNaN, brier = kNaN, hl_p = kNaN;
  // Before recalibration (sigmoid of the logit); curve_raw.predicted empty = not computed.
  CalibrationSeries curve_raw;
  double slope_raw = kNaN, intercept_raw = kNaN, brier_raw = kNaN, hl_p_raw = kNaN;
};

struct DecisionSummary {
  std::string variant, cohort;
  NetBenefitCurve model, treat_all;
  NetBenefitCurve model_raw;  // before recalibration; empty = not computed
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

  // --- honest validation (metrics.json cervirisk-metrics/2, model.json cervirisk-model/2) ---
  std::optional<runfolder::Design> design;          // how the study ran (absent in hand-made files)
  std::vector<CohortFlow> flow;                     // per cohort, in cohort order
  std::vector<runfolder::CenterRow> centers;        // per-centre subgroups
  std::vector<runfolder::FollowUpRow> follow_up;    // per cohort (center "") and per centre
  std::vector<std::string> warnings;                // design warnings, shown at the top
  std::vector<runfolder::SelectionCheck> selection_check;  // internal AUC: chosen vs best epoch
  std::map<std::string, runfolder::ModelInfo> models;  // models/<variant>/model.json, by variant
  bool seeds_reported = false;                      // metrics.json has "seeds"
  std::set<std::string> files;  // the run-folder files present, relative ("config.toml", "models/msm_tc/weights.safetensors")
};

// Reads a run folder (docs/report.md). Required: run.json, metrics.json; everything else is
// optional and its section is left out when absent. Throws InputError / FormatError naming
// the file, line and field.
ReportData load_run_folder(const std::filesystem::path& dir);

}  // namespace cervirisk::report
