// cervirisk study: train every variant, predict every cohort, statistics, explanations, report.
#include <exception>
#include <filesystem>
#include <string>

#include "commands.h"
#include "study/study.h"
#include "study_output.h"

namespace cervirisk::cli {

void add_study(CLI::App& app, GlobalOptions& g) {
  auto* sub = app.add_subcommand("study", "Train all variants, evaluate, explain, report (the run folder of DESIGN.md)");
  auto o = std::make_shared<study::StudyOptions>();
  auto cfg = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  sub->add_option("--config", *cfg, "study.toml")->required();
  sub->add_option("--out", *out, "Run folder (default: study.out_dir)");
  sub->add_option("--variants", o->variants, "Variants (default: train.variants)");
  sub->add_option("--seeds", o->seeds, "Repeat training with N seeds (mean +- sd in metrics.json)")->check(CLI::Range(1, 100));
  sub->add_flag("--resume", o->resume, "Continue from the variants' checkpoints");
  sub->add_flag("--no-report", [o](std::int64_t) { o->report = false; }, "No explanations and no report.html");
  sub->callback([&g, o, cfg, out] {
    apply_globals(g);
    o->config = *cfg;
    o->out = *out;
    o->command = "study";
    const auto r = study::run_study(*o);
    if (r.explained) print_explain_summary(*r.explained);
    print_study_table(r);
    // A failed explanation or report leaves the rest of the run written and exits with its code.
    if (r.failure) std::rethrow_exception(r.failure);
  });
}

}  // namespace cervirisk::cli
