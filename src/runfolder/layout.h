// Where each file of a run folder lives (docs/architecture.md lists who writes and who reads
// each one), and the names shared by all of them.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace cervirisk::runfolder {

// The cohorts in the order of every table and file: train, internal, external, then the held-out
// test sets test_internal and test_external (present only when the manifest marks them).
extern const std::vector<std::string> kCohortNames;

inline std::filesystem::path predictions_file(const std::filesystem::path& run, const std::string& variant) {
  return run / "predictions" / (variant + ".csv");
}
inline std::filesystem::path model_dir(const std::filesystem::path& run, const std::string& variant) {
  return run / "models" / variant;
}
inline std::filesystem::path explain_dir(const std::filesystem::path& run) { return run / "explain"; }
// The internal cohort's loss and AUC after every epoch of the model's training, recorded (not
// used) with train.selection = split / cv: history.csv's format. Outside the bundle.
inline std::filesystem::path internal_trace_file(const std::filesystem::path& run, const std::string& variant) {
  return run / "selection" / (variant + "_internal.csv");
}
inline std::filesystem::path fused_file(const std::filesystem::path& run, const std::string& variant) {
  return explain_dir(run) / ("fused_" + variant + ".safetensors");
}

}  // namespace cervirisk::runfolder
