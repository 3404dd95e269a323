// Explanations → the rows of the run-folder files the report reads (runfolder/explanations.h):
// explain/shap_clinical.csv and explain/modality_shapley.csv.
#pragma once

#include <string>
#include <vector>

#include "explain/shapley.h"
#include "runfolder/explanations.h"

namespace cervirisk::explain {

// One row per patient × clinical feature; X holds the feature values the model saw (its
// columns = the players of `shap`, one feature per player).
std::vector<runfolder::ClinicalShapRow> clinical_shap_rows(const CohortExplanation& shap,
                                                        const Eigen::MatrixXd& X,
                                                        const std::vector<std::string>& ids,
                                                        const std::vector<std::string>& cohorts,
                                                        const std::string& variant,
                                                        const std::vector<std::string>& feature_names);

// One row per patient × modality (group Shapley players, e.g. image, report, clinical).
std::vector<runfolder::ModalityShapRow> modality_shap_rows(const CohortExplanation& shap,
                                                        const std::vector<std::string>& ids,
                                                        const std::vector<std::string>& cohorts,
                                                        const std::vector<std::string>& modality_names);

}  // namespace cervirisk::explain
