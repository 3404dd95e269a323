// cervirisk synth: write a synthetic multicentre cohort and print its oracle AUCs.
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "core/error.h"
#include "core/progress.h"
#include "data/synth.h"

namespace cervirisk::cli {

void add_synth(CLI::App& app, GlobalOptions& g) {
  auto* sub = app.add_subcommand("synth", "Write a synthetic multicentre cohort (NIfTI + reports + CSV + truth)");
  struct Opts {
    std::string out;
    int patients = -1;
    int centers = 3;
    std::uint64_t seed = 16;
    double rate = 0.15;
    std::string size = "full";
    std::string lang = "auto";
    bool no_images = false;
    std::string report_language;
    int test_patients = 0, test_internal = 0;
  };
  auto o = std::make_shared<Opts>();
  sub->add_option("--out", o->out, "Output folder")->required();
  sub->add_option("--patients", o->patients, "Number of patients (default 445; 40 with --size small)")->check(CLI::Range(1, 100000));
  sub->add_option("--centers", o->centers, "Number of centres (1-8; default 3: A, B, C, Chinese reports in three house styles)")->check(CLI::Range(1, 8));
  sub->add_option("--seed", o->seed, "Seed (the files are byte-identical for a seed)")->check(CLI::Range(0.0, 4294967295.0));
  sub->add_option("--recurrence-rate", o->rate, "Target fraction of patients with an observed recurrence")->check(CLI::Range(0.02, 0.5));
  sub->add_option("--size", o->size, "Image size: full (~200x200x24 voxels) or small (for tests)")->check(CLI::IsMember({"small", "full"}));
  sub->add_option("--lang", o->lang, "Report language of every centre: auto (per centre: Chinese), zh or en")->check(CLI::IsMember({"auto", "zh", "en"}));
  sub->add_option("--report-language", o->report_language,
                  "Per-centre report language after --lang, e.g. C=en (the external centre writes English)");
  sub->add_option("--test-patients", o->test_patients,
                  "Large held-out test set: N patients of the external centre (cohort test_external; 0 = none)")
      ->check(CLI::Range(0, 1000000));
  sub->add_option("--test-internal-patients", o->test_internal,
                  "Large held-out test set from the training centres, in their shares (cohort test_internal)")
      ->check(CLI::Range(0, 1000000));
  sub->add_flag("--no-images", o->no_images, "Tables, reports and truth only (the manifest still names the image files)");
  sub->callback([&g, o] {
    apply_globals(g);
    data::SynthOptions so;
    so.size = o->size == "small" ? data::SynthSize::kSmall : data::SynthSize::kFull;
    so.patients = o->patients > 0 ? o->patients : (so.size == data::SynthSize::kSmall ? 40 : 445);
    so.centers = o->centers;
    so.seed = o->seed;
    so.recurrence_rate = o->rate;
    so.lang = o->lang;
    so.images = !o->no_images;
    if (!o->report_language.empty()) so.report_language = data::parse_report_languages(o->report_language);
    so.test_external = o->test_patients;
    so.test_internal = o->test_internal;
    so.threads = g.threads;
    Progress bar("synth", so.patients + so.test_external + so.test_internal);
    const auto s = data::write_synthetic_cohort(so, o->out, [&](int, int) { bar.tick(); });
    bar.finish();
    int events = 0;
    for (const auto& p : s.patients) events += p.event;
    std::printf("wrote %d patients (%d recurrences, %.1f%%) to %s in %.1f s\n", static_cast<int>(s.patients.size()), events,
                100.0 * events / static_cast<double>(s.patients.size()), o->out.c_str(), s.seconds);
    std::printf("\noracle AUC (ideal reader of each modality; recurrence observed during follow-up)\n");
    std::printf("%-13s %5s %6s  %6s %6s %6s %8s %6s\n", "cohort", "n", "events", "image", "report", "clin.", "img+rep", "all");
    for (const auto& r : s.oracle)
      std::printf("%-13s %5d %6d  %6.3f %6.3f %6.3f %8.3f %6.3f\n", r.cohort.c_str(), r.n, r.events, r.auc_image, r.auc_report,
                  r.auc_clinical, r.auc_image_report, r.auc_all);
    std::printf("\nnext: cervirisk validate --config %s/study.toml\n", o->out.c_str());
  });
}

}  // namespace cervirisk::cli
