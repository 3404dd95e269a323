// cervirisk explain: the explanations of a run's fusion model (src/explain/run_explain.h):
// modality group Shapley values, KernelSHAP over the clinical features, Grad-CAM and
// attention-rollout overlays of the report's example patients; then report.html again.
#include <cstdio>
#include <exception>
#include <filesystem>

#include "commands.h"
#include "core/error.h"
#include "core/log.h"
#include "explain/run_explain.h"
#include "report/html.h"
#include "report/report_data.h"

namespace cervirisk::cli {

namespace fs = std::filesystem;

// One line: what was explained and how long each part took.
void print_explain_summary(const explain::ExplainSummary& s);
void print_explain_summary(const explain::ExplainSummary& s) {
  std::printf("explanations (%s, %d patients):", s.variant.c_str(), s.patients);
  if (s.modality_shapley) std::printf(" modality Shapley %.1f s;", s.modality_seconds);
  if (s.clinical_shap)
    std::printf(" clinical KernelSHAP %.1f s (%zu coalitions/patient, max efficiency error %.1e);", s.clinical_seconds,
                s.clinical_coalitions, s.max_efficiency_error);
  std::printf(" %d overlays of %d example patients %.1f s\n", s.overlays, s.examples, s.overlay_seconds);
}

// Re-renders report.html after the explanations were added.
void rerender_report(const fs::path& run);
void rerender_report(const fs::path& run) {
  auto data = report::load_run_folder(run);
  report::write_report_figures(data, run / "figures");
  report::write_report_html(data, run / "report.html");
}

// Explanations + report of a finished study run (study, demo). A failure is logged naming the
// step and returned, so the caller can finish its own output before exiting with its code;
// the study's other outputs (predictions, metrics, the report without explanations) stay.
std::exception_ptr explain_and_report(const fs::path& run, const std::string& variant);
std::exception_ptr explain_and_report(const fs::path& run, const std::string& variant) {
  try {
    const auto s = explain::explain_run(run, variant);
    if (!s) {
      log::info("explain: no {} model in {}, explanations skipped", variant, run.string());
      return nullptr;
    }
    try {
      rerender_report(run);
    } catch (const Error& e) {
      throw Error(e.code(), std::string("explain (report): ") + e.what());
    }
    print_explain_summary(*s);
    return nullptr;
  } catch (const std::exception& e) {
    log::error("{} (the study's other outputs are written)", e.what());
    return std::current_exception();
  }
}

void add_explain(CLI::App& app, GlobalOptions& g) {
  auto* sub = app.add_subcommand(
      "explain", "Shapley values (modalities, clinical features) and overlays of a run's example patients (explain/)");
  auto run = std::make_shared<std::string>();
  auto variant = std::make_shared<std::string>("msm_tc");
  sub->add_option("--run", *run, "Run folder")->required();
  sub->add_option("--variant", *variant, "Variant to explain (default msm_tc; any variant with a trained model)");
  sub->callback([&g, run, variant] {
    apply_globals(g);
    const auto s = explain::explain_run(*run, *variant);
    if (!s) throw InputError(*run + "/models/" + *variant + "/model.json missing (train that variant first)");
    rerender_report(*run);
    print_explain_summary(*s);
    std::printf("wrote %s/explain/ and report.html\n", run->c_str());
  });
}

}  // namespace cervirisk::cli
