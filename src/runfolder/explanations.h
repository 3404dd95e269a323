// The files of explain/ (docs/report.md): one variant's explanations.
//   modality_shapley.csv  group Shapley value of each modality, per patient
//   shap_clinical.csv     KernelSHAP value of each clinical feature, per patient
//   examples.json         the report's example patients with their explanations and overlays
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "runfolder/csv_format.h"

namespace cervirisk::runfolder {

struct ModalityShapRow {
  std::string id, cohort, modality;
  double phi = 0;
};
extern const std::vector<std::string> kModalityShapColumns;
void write_modality_shapley(const std::filesystem::path& file, const std::vector<ModalityShapRow>& rows);
std::vector<ModalityShapRow> read_modality_shapley(const std::filesystem::path& file);

struct ClinicalShapRow {
  std::string id, cohort, variant, feature;
  double value = kNaN;  // the feature's value as shown (NaN = missing)
  double phi = 0;
};
extern const std::vector<std::string> kClinicalShapColumns;
void write_clinical_shap(const std::filesystem::path& file, const std::vector<ClinicalShapRow>& rows);
std::vector<ClinicalShapRow> read_clinical_shap(const std::filesystem::path& file);

struct ExampleRecord {
  std::string id, cohort, kind, variant;  // kind: "true positive" | "false negative"
  double probability = kNaN;
  int label = -1;  // -1: not written
  struct Modality {
    std::string name;
    double phi = 0;
  };
  std::vector<Modality> modalities;
  struct Feature {
    std::string name, value;
    double phi = 0;
  };
  std::vector<Feature> clinical;
  std::vector<std::filesystem::path> images;  // overlay PNGs; absolute (inside the run folder)
};
struct Examples {
  static constexpr const char* kFormat = "cervirisk-examples/1";
  std::vector<ExampleRecord> examples;
};
// Image paths are stored relative to run_dir and must lie inside it (OutputError otherwise).
void write_examples(const std::filesystem::path& file, const Examples& e, const std::filesystem::path& run_dir);
// Image paths come back absolute (run_dir / stored path); InputError when one does not exist.
Examples read_examples(const std::filesystem::path& file, const std::filesystem::path& run_dir);

}  // namespace cervirisk::runfolder
