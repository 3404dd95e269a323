#include "explain/export.h"

#include "core/error.h"

namespace cervirisk::explain {

namespace {
void check(const CohortExplanation& s, std::size_t ids, std::size_t cohorts, std::size_t names,
           const char* what) {
  if (static_cast<std::size_t>(s.phi.rows()) != ids || ids != cohorts)
    throw ConfigError(std::string(what) + ": " + std::to_string(s.phi.rows()) + " explained patients, " +
                      std::to_string(ids) + " ids and " + std::to_string(cohorts) + " cohorts");
  if (static_cast<std::size_t>(s.phi.cols()) != names)
    throw ConfigError(std::string(what) + ": " + std::to_string(s.phi.cols()) + " players but " +
                      std::to_string(names) + " names");
}
}  // namespace

std::vector<runfolder::ClinicalShapRow> clinical_shap_rows(const CohortExplanation& shap,
                                                        const Eigen::MatrixXd& X,
                                                        const std::vector<std::string>& ids,
                                                        const std::vector<std::string>& cohorts,
                                                        const std::string& variant,
                                                        const std::vector<std::string>& feature_names) {
  check(shap, ids.size(), cohorts.size(), feature_names.size(), "clinical_shap_rows");
  if (X.rows() != shap.phi.rows() || X.cols() != shap.phi.cols())
    throw ConfigError("clinical_shap_rows: feature values are " + std::to_string(X.rows()) + "x" +
                      std::to_string(X.cols()) + ", SHAP values " + std::to_string(shap.phi.rows()) + "x" +
                      std::to_string(shap.phi.cols()));
  std::vector<runfolder::ClinicalShapRow> rows;
  for (Eigen::Index i = 0; i < shap.phi.rows(); ++i)
    for (Eigen::Index j = 0; j < shap.phi.cols(); ++j)
      rows.push_back({ids[i], cohorts[i], variant, feature_names[j], X(i, j), shap.phi(i, j)});
  return rows;
}

std::vector<runfolder::ModalityShapRow> modality_shap_rows(const CohortExplanation& shap,
                                                        const std::vector<std::string>& ids,
                                                        const std::vector<std::string>& cohorts,
                                                        const std::vector<std::string>& modality_names) {
  check(shap, ids.size(), cohorts.size(), modality_names.size(), "modality_shap_rows");
  std::vector<runfolder::ModalityShapRow> rows;
  for (Eigen::Index i = 0; i < shap.phi.rows(); ++i)
    for (Eigen::Index j = 0; j < shap.phi.cols(); ++j)
      rows.push_back({ids[i], cohorts[i], modality_names[j], shap.phi(i, j)});
  return rows;
}

}  // namespace cervirisk::explain
