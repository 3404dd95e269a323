// `cervirisk explain` on a run folder (docs/report.md): modality group Shapley values on the
// stored fused vectors, KernelSHAP over the clinical features of every patient, the example
// patients of the report (per cohort a true positive and a false negative) with Grad-CAM and
// attention-rollout overlays on their MRI slice. Writes explain/modality_shapley.csv,
// explain/shap_clinical.csv, explain/overlays/*.png and explain/examples.json.
//
// Inputs beyond the run folder: the cohort (manifest, images, masks) named by the run's
// config.toml, resolved against the folder of the config the run was made from (run.json
// "config.path"); the preprocessed crops come from the run's image cache.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace cervirisk::explain {

struct ExplainSummary {
  std::string variant;
  int patients = 0;
  int examples = 0;
  int overlays = 0;                // PNG files written
  bool modality_shapley = false;   // the variant fuses several modalities
  bool clinical_shap = false;      // the variant has a clinical path
  double modality_seconds = 0, clinical_seconds = 0, overlay_seconds = 0;
  std::size_t clinical_coalitions = 0;  // per patient
  double max_efficiency_error = 0;      // max |Σφ − (f(x) − E f)| over patients (clinical)
};

// Throws cervirisk::Error subclasses whose message starts with the step that failed
// ("explain (clinical KernelSHAP): ..."), keeping the original exit code. Returns nullopt
// when the run has no bundle models/<variant>/.
std::optional<ExplainSummary> explain_run(const std::filesystem::path& run, const std::string& variant);

}  // namespace cervirisk::explain
