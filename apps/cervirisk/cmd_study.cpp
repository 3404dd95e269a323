// cervirisk study: train every variant, predict every cohort, statistics, run folder, report.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include <exception>

#include "commands.h"
#include "train/study.h"

namespace cervirisk::cli {

std::exception_ptr explain_and_report(const std::filesystem::path& run, const std::string& variant);
void print_study_table(const train::StudyResult& r);

void print_study_table(const train::StudyResult& r) {
  std::printf("\n%-9s %-9s %5s %6s  %s\n", "variant", "cohort", "n", "events", "AUC [95% CI]");
  for (const auto& row : r.table)
    std::printf("%-9s %-9s %5d %6d  %.3f [%.3f, %.3f]\n", row.variant.c_str(), row.cohort.c_str(), row.n, row.events,
                row.auc, row.lo, row.hi);
  std::printf("\ntimings (s):");
  for (const auto& [k, v] : r.timings) std::printf(" %s=%.1f", k.c_str(), v);
  std::printf("\nrun folder: %s\n", r.run_dir.string().c_str());
}

void add_study(CLI::App& app, GlobalOptions& g) {
  auto* sub = app.add_subcommand("study", "Train all variants, evaluate, report (the run folder of DESIGN.md)");
  auto o = std::make_shared<train::StudyOptions>();
  auto cfg = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  sub->add_option("--config", *cfg, "study.toml")->required();
  sub->add_option("--out", *out, "Run folder (default: study.out_dir)");
  sub->add_option("--variants", o->variants, "Variants (default: train.variants)");
  sub->add_option("--seeds", o->seeds, "Repeat training with N seeds (mean +- sd in metrics.json)")->check(CLI::Range(1, 100));
  sub->add_flag("--resume", o->resume, "Continue from the variants' checkpoints");
  sub->add_flag("--no-report", [o](std::int64_t) { o->report = false; }, "Do not write report.html");
  sub->callback([&g, o, cfg, out] {
    apply_globals(g);
    o->config = *cfg;
    o->out = *out;
    o->command = "study";
    const auto r = train::run_study(*o);
    // A failed explanation leaves the rest of the run written and exits with its code.
    std::exception_ptr failed = o->report ? explain_and_report(r.run_dir, "msm_tc") : nullptr;
    print_study_table(r);
    if (failed) std::rethrow_exception(failed);
  });
}

}  // namespace cervirisk::cli
