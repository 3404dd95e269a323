// cervirisk demo: a synthetic 445-patient multicentre cohort + the whole study (cpu-small) into
// out/demo, printing the paper-style table (variant x cohort AUC [95% CI]) beside the oracle AUCs.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <exception>
#include <string>
#include <vector>

#include "commands.h"
#include "study/study.h"
#include "study_output.h"

namespace cervirisk::cli {

namespace {

// The AUC table beside the simulation's oracle AUCs, one column per cohort (the large test set's
// too when the cohort has one).
void print_oracle_table(const study::DemoResult& d) {
  const auto& r = d.study;
  std::printf("\n%-9s", "AUC");
  for (const auto& c : d.synth.oracle) std::printf(" | %-22s", c.cohort.c_str());
  std::printf("\n");
  std::vector<std::string> vs;
  for (const auto& row : r.table)
    if (std::find(vs.begin(), vs.end(), row.variant) == vs.end()) vs.push_back(row.variant);
  for (const auto& v : vs) {
    std::printf("%-9s", v.c_str());
    for (const auto& c : d.synth.oracle)
      for (const auto& row : r.table)
        if (row.variant == v && row.cohort == c.cohort) std::printf(" | %.3f [%.3f, %.3f]  ", row.auc, row.lo, row.hi);
    std::printf("\n");
  }
  std::printf("%-9s", "oracle");
  for (const auto& c : d.synth.oracle) std::printf(" | %.3f (image %.3f)   ", c.auc_all, c.auc_image);
  std::printf("\n(oracle = the simulation's true risk of all modalities, and of the image alone; report / clinical in truth.csv)\n");
}

}  // namespace

void add_demo(CLI::App& app, GlobalOptions& g) {
  auto* sub = app.add_subcommand("demo", "Synthetic multicentre cohort + full study (cpu-small) into out/demo");
  auto o = std::make_shared<study::DemoOptions>();
  auto out = std::make_shared<std::string>("out/demo");
  sub->add_option("--out", *out, "Output folder (data/ and run/ inside)");
  sub->add_option("--patients", o->patients, "Synthetic patients")->check(CLI::Range(20, 100000));
  sub->add_option("--variants", o->variants, "Variants (default: all six)");
  sub->add_option("--test-patients", o->test_patients,
                  "Add a large external-centre test set (e.g. 2000; evaluated, never fitted)")
      ->check(CLI::Range(0, 1000000));
  sub->callback([&g, o, out] {
    apply_globals(g);
    o->out = *out;
    o->threads = g.threads;
    const auto d = study::run_demo(*o);
    std::printf("synthetic cohort: %d patients in %s (%.1f s)\n", static_cast<int>(d.synth.patients.size()),
                (o->out / "data").string().c_str(), d.synth.seconds);
    const auto& r = d.study;
    if (r.explained) print_explain_summary(*r.explained);
    print_study_table(r);
    print_oracle_table(d);
    const auto er = r.timings.find("explain+report");
    std::printf("explanations + report: %.1f s for the whole cohort\n", er == r.timings.end() ? 0.0 : er->second);
    std::printf("study time %.1f s; report: %s\n", d.seconds, (r.run_dir / "report.html").string().c_str());
    // The clinic: the demo's bundles behind the service and its viewer (docs/service.md).
    std::string models;
    for (const char* v : {"msm_tc", "clinical"})
      if (std::filesystem::exists(r.run_dir / "models" / v / "model.json"))
        models += " --model " + (r.run_dir / "models" / v).string();
    if (!models.empty())
      std::printf("serve them (viewer at http://127.0.0.1:8080/): build/bin/cervirisk serve%s --token-file %s\n",
                  models.c_str(), (o->out / "serve.token").string().c_str());
    // A failed explanation or report leaves the rest of the run written and exits with its code.
    if (r.failure) std::rethrow_exception(r.failure);
  });
}

}  // namespace cervirisk::cli
