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
  int label = 0;            // binary endpoint (0/1)
  double time_months = 0;   // follow-up
  int event = 0;            // recurrence observed (0/1)
  double logit = 0, probability = 0;
  double risk = 0;          // risk score (the Cox head's, or the logit without one)
  std::string risk_group;   // "high" | "low" at the training cut-point
};

extern const std::vector<std::string> kPredictionColumns;

std::string predictions_csv(const std::vector<Prediction>& rows);
void write_predictions(const std::filesystem::path& file, const std::vector<Prediction>& rows);
// Throws InputError (unreadable) or FormatError naming the file, line and column.
std::vector<Prediction> read_predictions(const std::filesystem::path& file);

}  // namespace cervirisk::runfolder
