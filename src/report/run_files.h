// Writers for the explanation and training files of a run folder (formats: docs/report.md), so
// that the study runner writes exactly what load_run_folder reads, and the choice of the
// example patients shown in the report.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "report/report_data.h"

namespace cervirisk::report {

struct ClinicalShapRow {
  std::string id, cohort, variant, feature;
  double value = kNaN;  // feature value used for the beeswarm colour (NaN = missing)
  double phi = 0;
};
// explain/shap_clinical.csv
void write_shap_clinical_csv(const std::filesystem::path& file, const std::vector<ClinicalShapRow>& rows);

struct ModalityShapRow {
  std::string id, cohort, modality;
  double phi = 0;
};
// explain/modality_shapley.csv
void write_modality_shapley_csv(const std::filesystem::path& file, const std::vector<ModalityShapRow>& rows);

// explain/examples.json; image paths are written relative to run_dir (they must lie inside it).
void write_examples_json(const std::filesystem::path& file, const std::vector<ExamplePatient>& examples,
                         const std::filesystem::path& run_dir);

// models/<variant>/history.csv (epoch, train_loss, val_loss, val_auc).
void write_history_csv(const std::filesystem::path& file, const TrainingHistory& history);

// The example patients of the report: per cohort the true positive with the highest
// probability and the false negative with the lowest (at the training threshold: positive =
// probability >= threshold). Cohorts without such a patient contribute none.
struct ExampleChoice {
  std::string id, cohort, kind;  // kind: "true positive" | "false negative"
  double probability = kNaN;
  int label = 1;
};
std::vector<ExampleChoice> choose_examples(const std::vector<PredictionRow>& predictions, double threshold,
                                           const std::vector<std::string>& cohorts);

// A CSV field quoted when it holds a comma, quote or newline (RFC 4180).
std::string csv_field(const std::string& s);

}  // namespace cervirisk::report
