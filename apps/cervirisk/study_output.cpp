#include "study_output.h"

#include <cstdio>

namespace cervirisk::cli {

void print_study_table(const study::StudyResult& r) {
  std::printf("\n%-9s %-13s %5s %6s  %s\n", "variant", "cohort", "n", "events", "AUC [95% CI]");
  for (const auto& row : r.table)
    std::printf("%-9s %-13s %5d %6d  %.3f [%.3f, %.3f]\n", row.variant.c_str(), row.cohort.c_str(), row.n, row.events,
                row.auc, row.lo, row.hi);
  std::printf("\ntimings (s):");
  for (const auto& [k, v] : r.timings) std::printf(" %s=%.1f", k.c_str(), v);
  std::printf("\nrun folder: %s\n", r.run_dir.string().c_str());
}

void print_explain_summary(const study::ExplainSummary& s) {
  std::printf("explanations (%s, %d patients):", s.variant.c_str(), s.patients);
  if (s.modality_shapley) std::printf(" modality Shapley %.1f s;", s.modality_seconds);
  if (s.clinical_shap)
    std::printf(" clinical KernelSHAP %.1f s (%zu coalitions/patient, max efficiency error %.1e);", s.clinical_seconds,
                s.clinical_coalitions, s.max_efficiency_error);
  std::printf(" %d overlays of %d example patients %.1f s\n", s.overlays, s.examples, s.overlay_seconds);
}

}  // namespace cervirisk::cli
