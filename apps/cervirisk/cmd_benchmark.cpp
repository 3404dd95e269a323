// cervirisk benchmark: synth + study over K seeds, every variant's AUC against the simulation's
// oracle AUCs, and the paper's ladder with paired DeLong tests (docs/benchmark.md).
#include <cstdio>

#include "commands.h"
#include "data/synth.h"
#include "study/study.h"

namespace cervirisk::cli {

void add_benchmark(CLI::App& app, GlobalOptions& g) {
  auto* sub = app.add_subcommand(
      "benchmark", "Synthetic cohorts + studies over K seeds: AUCs against the oracle, the ladder's DeLong tests");
  auto o = std::make_shared<study::BenchmarkOptions>();
  auto out = std::make_shared<std::string>("out/benchmark");
  auto settings = std::make_shared<std::string>();
  auto lang = std::make_shared<std::string>();
  sub->add_option("--out", *out, "Output folder (seed-<s>/data, seed-<s>/run, benchmark.json, benchmark.md)");
  sub->add_option("--seeds", o->seeds, "Number of seeds K (default 5)")->check(CLI::Range(1, 1000));
  sub->add_option("--first-seed", o->first_seed, "First seed (seeds first .. first + K - 1; default 1)")
      ->check(CLI::Range(0.0, 4294967295.0));
  sub->add_option("--patients", o->patients, "Patients of each study cohort draw (default 445)")->check(CLI::Range(20, 100000));
  sub->add_option("--test-patients", o->test_patients, "External-centre test set per seed (default 2000; 0 = none)")
      ->check(CLI::Range(0, 1000000));
  sub->add_option("--test-internal-patients", o->test_internal_patients,
                  "Training-centre test set per seed (default 0)")
      ->check(CLI::Range(0, 1000000));
  sub->add_option("--report-language", *lang, "Per-centre report language, e.g. C=en (default: all Chinese)");
  sub->add_option("--settings", *settings, "TOML laid over the demo's training settings (e.g. [train] epochs = 20)");
  sub->add_option("--variants", o->variants, "Variants (default: all six)");
  sub->add_flag("--resume", o->resume, "Reuse the seeds whose study finished (their metrics.json)");
  sub->callback([&g, o, out, settings, lang] {
    apply_globals(g);
    o->out = *out;
    o->settings = *settings;
    o->threads = g.threads;
    if (!lang->empty()) o->report_language = data::parse_report_languages(*lang);
    const auto b = study::run_benchmark(*o);
    std::printf("%s\nwritten: %s, %s\n", b.text().c_str(), (o->out / "benchmark.json").string().c_str(),
                (o->out / "benchmark.md").string().c_str());
  });
}

}  // namespace cervirisk::cli
