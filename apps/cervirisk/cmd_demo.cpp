// cervirisk demo: a synthetic 445-patient multicentre cohort + the whole study (cpu-small) into
// out/demo, printing the paper-style table (variant x cohort AUC [95% CI]) beside the oracle AUCs.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include <exception>

#include "commands.h"
#include "core/atomic_file.h"
#include "core/progress.h"
#include "data/synth.h"
#include "train/study.h"

namespace cervirisk::cli {

namespace fs = std::filesystem;

// The demo's training settings: sized so the study part runs in minutes on 2 cores (measured in
// docs/training.md). Appended to the synthetic cohort's study.toml (which has no such tables).
extern const char* const kDemoToml;
const char* const kDemoToml = R"(
[preprocess]
tumour_size_px = 48
context_size_px = 64
workers = 2

[augment]
rotate_deg = 10.0

[text]
vocab_size = 1500
max_length = 96
pretrain_epochs = 2
pretrain_batch_size = 32

[model]
preset = "cpu-small"

[train]
epochs = 10
batch_size = 32
lr = 1e-3
backbone_lr = 5e-4
warmup_epochs = 1.0
early_stop_patience = 4
loader_workers = 1
)";

void print_study_table(const train::StudyResult& r);
std::exception_ptr explain_and_report(const std::filesystem::path& run, const std::string& variant);

void add_demo(CLI::App& app, GlobalOptions& g) {
  auto* sub = app.add_subcommand("demo", "Synthetic multicentre cohort + full study (cpu-small) into out/demo");
  auto out = std::make_shared<std::string>("out/demo");
  auto patients = std::make_shared<int>(445);
  auto variants = std::make_shared<std::vector<std::string>>();
  sub->add_option("--out", *out, "Output folder (data/ and run/ inside)");
  sub->add_option("--patients", *patients, "Synthetic patients")->check(CLI::Range(20, 100000));
  sub->add_option("--variants", *variants, "Variants (default: all six)");
  sub->callback([&g, out, patients, variants] {
    apply_globals(g);
    const fs::path root = *out;
    const fs::path data = root / "data";
    data::SynthOptions so;
    so.patients = *patients;
    so.threads = g.threads;
    Progress bar("synth", so.patients);
    const auto s = data::write_synthetic_cohort(so, data, [&](int, int) { bar.tick(); });
    bar.finish();
    std::printf("synthetic cohort: %d patients in %s (%.1f s)\n", static_cast<int>(s.patients.size()), data.string().c_str(),
                s.seconds);
    write_file_atomic(data / "demo.toml", read_file(data / "study.toml") + kDemoToml);
    train::StudyOptions o;
    o.config = data / "demo.toml";
    o.out = root / "run";
    o.variants = *variants;
    o.command = "demo";
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = train::run_study(o);
    const auto t_explain = std::chrono::steady_clock::now();
    // A failed explanation leaves the rest of the run written and exits with its code.
    const std::exception_ptr failed = explain_and_report(r.run_dir, "msm_tc");
    const double explain_secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t_explain).count();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    print_study_table(r);
    std::printf("\n%-9s", "AUC");
    for (const auto& c : s.oracle) std::printf(" | %-22s", c.cohort.c_str());
    std::printf("\n");
    std::vector<std::string> vs;
    for (const auto& row : r.table)
      if (std::find(vs.begin(), vs.end(), row.variant) == vs.end()) vs.push_back(row.variant);
    for (const auto& v : vs) {
      std::printf("%-9s", v.c_str());
      for (const auto& c : s.oracle)
        for (const auto& row : r.table)
          if (row.variant == v && row.cohort == c.cohort)
            std::printf(" | %.3f [%.3f, %.3f]   ", row.auc, row.lo, row.hi);
      std::printf("\n");
    }
    std::printf("%-9s", "oracle");
    for (const auto& c : s.oracle) std::printf(" | %.3f                  ", c.auc_all);
    std::printf("\n(oracle = the simulation's true risk of all modalities; image %s)\n", "/ report / clinical in truth.csv");
    std::printf("explanations + report: %.1f s for the whole cohort\n", explain_secs);
    std::printf("study time %.1f s; report: %s\n", secs, (r.run_dir / "report.html").string().c_str());
    if (failed) std::rethrow_exception(failed);
  });
}

}  // namespace cervirisk::cli
