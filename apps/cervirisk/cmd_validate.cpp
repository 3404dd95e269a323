// cervirisk validate: load the cohort without training, print the cohort table and every guard's
// findings, write them as CSV + JSON; exit 5 when a guard fails.
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "core/atomic_file.h"
#include "core/config.h"
#include "core/error.h"
#include "data/cohort.h"

namespace cervirisk::cli {

void add_validate(CLI::App& app, GlobalOptions& g) {
  auto* sub = app.add_subcommand("validate", "Check the data, print the cohort table and guard results");
  struct Opts {
    std::string config;
    std::string out;
    bool no_images = false;
  };
  auto o = std::make_shared<Opts>();
  sub->add_option("--config", o->config, "Study configuration (study.toml)")->required();
  sub->add_option("--out", o->out, "Where cohort_table.csv/.json and cohorts.csv go (default: <study.out_dir>/validate)");
  sub->add_flag("--no-images", o->no_images, "Skip the guards that read image files (hashes, masks, geometry)");
  sub->callback([&g, o] {
    apply_globals(g);
    const config::Config cfg = config::Config::load(o->config);
    data::Cohort cohort = data::load_cohort(cfg, /*throw_on_error=*/false);
    std::vector<io::Geometry> geometry;
    if (!o->no_images) geometry = data::check_images(cohort, g.threads, cfg.get_string("data.dicom_series"));
    const data::CohortTable table = data::cohort_table(cohort, o->no_images ? nullptr : &geometry);

    std::printf("cohort: %s (%zu patients, %zu centres, split from the %s)\n\n", cohort.manifest.string().c_str(),
                cohort.patients.size(), cohort.centers().size(), cohort.split_source.c_str());
    std::fputs(table.text().c_str(), stdout);
    int errors = 0, warnings = 0;
    for (const auto& f : cohort.findings) (f.severity == data::Severity::kError ? errors : warnings)++;
    std::printf("\nguards: %d error(s), %d warning(s)\n", errors, warnings);
    for (const auto& f : cohort.findings)
      std::printf("  %s [%s] %s\n", f.severity == data::Severity::kError ? "ERROR  " : "warning", f.guard.c_str(), f.message.c_str());

    const std::filesystem::path out = o->out.empty() ? cfg.get_path("study.out_dir") / "validate" : std::filesystem::path(o->out);
    ensure_writable_dir(out);
    write_file_atomic(out / "cohort_table.csv", table.csv());
    write_file_atomic(out / "cohort_table.json", table.json());
    std::string assign = "patient_id,center,cohort,event,time_months\n";
    for (const auto& p : cohort.patients) {
      char t[32] = "";
      if (p.time_months >= 0) std::snprintf(t, sizeof t, "%g", p.time_months);
      assign += p.id + "," + p.center + "," + data::cohort_name(p.cohort) + "," + std::to_string(p.event) + "," + t + "\n";
    }
    write_file_atomic(out / "cohorts.csv", assign);
    std::printf("\nwrote %s, cohort_table.json, cohorts.csv\n", (out / "cohort_table.csv").string().c_str());
    std::fflush(stdout);
    data::throw_if_errors(cohort);
  });
}

}  // namespace cervirisk::cli
