// The study runner (`cervirisk study`, `train`, `evaluate`, `predict`, `demo`).
//
// Flow of run_study():
//   1. load_cohort (src/data)                             -> cohorts.csv, table1.csv, guards (exit 5)
//   2. fit_features on the TRAINING cohort only           -> imaging params, vocabulary (+ MLM
//      pretraining of the cpu-small BERT on training reports), clinical encoder
//   3. per-patient features (imaging cache of src/imaging) for every patient of every cohort
//   4. per variant (x seed): Trainer on train, selection on internal -> models/<variant>/ bundle
//   5. predictions of every patient of every cohort      -> predictions/<variant>.csv
//   6. statistics (src/stats)                             -> metrics.json, comparisons.csv
//   7. run.json (core/run_manifest.h), report.html (src/report)
//
// Study-design rules (DESIGN.md): the external cohort is never seen by fitting, early stopping,
// the threshold or the cut-point; everything fitted is fitted on the training cohort and frozen
// into the bundle. The code keeps it structurally: the fitting functions receive only the
// training (and internal) patients.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cervirisk::train {

struct StudyOptions {
  std::filesystem::path config, out;  // out empty = study.out_dir of the config
  std::vector<std::string> variants;  // empty = train.variants
  int seeds = 1;
  bool resume = false;
  bool report = true;                 // write report.html
  std::string command = "study";
};

struct StudyResult {
  std::filesystem::path run_dir;
  // AUC [lo, hi] per variant x cohort of the first seed (for the CLI's table).
  struct Row {
    std::string variant, cohort;
    double auc = 0, lo = 0, hi = 0;
    int n = 0, events = 0;
  };
  std::vector<Row> table;
  std::map<std::string, double> timings;
};

// Writes the run folder of DESIGN.md "Outputs of a study run".
StudyResult run_study(const StudyOptions& options);

// Recomputes metrics.json and comparisons.csv from predictions/*.csv and the bundles' model.json.
void evaluate_run(const std::filesystem::path& run_dir);

// One patient, for `cervirisk predict`.
struct PredictInput {
  std::filesystem::path image, mask;
  std::optional<std::string> report;          // text; nullopt = no report
  std::map<std::string, std::string> clinical;  // raw values by column; empty = no clinical data
};
struct PredictOutput {
  double probability = 0, logit = 0, threshold = 0, cutpoint = 0;
  std::string risk_group;
  std::vector<std::string> modalities_present;
};
PredictOutput predict_patient(const std::filesystem::path& bundle, const PredictInput& input);

}  // namespace cervirisk::train
