// predictions/<variant>.csv: one row per patient of every cohort, in cohort order (train,
// internal, external) and manifest order within a cohort. Written by the study, read by
// evaluate, explain, report and the tests. The header is the format tag.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace cervirisk::runfolder {

struct Prediction {
  std::string id, cohort, center;
  int label = 0;            // binary endpoint (0/1); -1 = none (horizon endpoint: censored before the
                            // horizon without an event), written "NA"
  double time_months = 0;   // follow-up; < 0 = not recorded, written "NA"
  int event = 0;            // recurrence observed (0/1)
  double logit = 0;         // the model's logit (before recalibration)
  double probability = 0;   // recalibrated probability (model.json "recalibration")
  double risk = 0;          // risk score (the Cox head's, or the logit without one)
  std::string risk_group;   // "high" (risk > cut-point) | "low" at the training cut-point (stats/cutpoint.h)

  bool has_label() const { return label >= 0; }
  bool has_time() const { return time_months >= 0; }
};

extern const std::vector<std::string> kPredictionColumns;

std::string predictions_csv(const std::vector<Prediction>& rows);
void write_predictions(const std::filesystem::path& file, const std::vector<Prediction>& rows);
// Throws InputError (unreadable) or FormatError naming the file, line and column.
std::vector<Prediction> read_predictions(const std::filesystem::path& file);

}  // namespace cervirisk::runfolder
