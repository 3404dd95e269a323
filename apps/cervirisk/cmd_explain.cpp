// cervirisk explain: the explanations of one variant of a run (study.h explain_run): modality
// group Shapley values, KernelSHAP over the clinical features, Grad-CAM and attention-rollout
// overlays of the report's example patients; then report.html again.
#include <cstdio>
#include <filesystem>
#include <optional>

#include "commands.h"
#include "core/error.h"
#include "core/run_lock.h"
#include "models/arch.h"
#include "study/study.h"
#include "study_output.h"

namespace cervirisk::cli {

void add_explain(CLI::App& app, GlobalOptions& g) {
  auto* sub = app.add_subcommand(
      "explain", "Shapley values (modalities, clinical features) and overlays of a run's example patients (explain/)");
  auto run = std::make_shared<std::string>();
  auto variant = std::make_shared<std::string>(models::variant_name(models::kFinalVariant));
  sub->add_option("--run", *run, "Run folder")->required();
  sub->add_option("--variant", *variant, "Variant to explain (default msm_tc; any variant with a trained model)");
  sub->callback([&g, run, variant] {
    apply_globals(g);
    // The run folder's writer lock (core/run_lock.h), when the folder exists.
    std::optional<RunFolderLock> lock;
    if (std::filesystem::is_directory(*run)) lock.emplace(*run, "explain");
    const auto s = study::explain_run(*run, *variant);
    if (!s) throw InputError(*run + "/models/" + *variant + "/model.json missing (train that variant first)");
    study::write_report(*run);
    print_explain_summary(*s);
    std::printf("wrote %s/explain/ and report.html\n", run->c_str());
  });
}

}  // namespace cervirisk::cli
