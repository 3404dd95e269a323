// cervirisk report --run DIR: figures/ (PNG + SVG) and report.html for an existing run folder
// (its files: docs/report.md).
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>

#include "commands.h"
#include "core/run_lock.h"
#include "study/study.h"

namespace cervirisk::cli {

void add_report(CLI::App& app, GlobalOptions& g) {
  auto* sub = app.add_subcommand("report", "Figures and report.html for a run");
  auto run = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto no_figures = std::make_shared<bool>(false);
  sub->add_option("--run", *run, "Run folder written by `cervirisk study`")->required();
  sub->add_option("--out", *out, "Output HTML file (default: <run>/report.html)");
  sub->add_flag("--no-figures", *no_figures, "Do not write <run>/figures/*.png|svg");
  sub->callback([&g, run, out, no_figures] {
    apply_globals(g);
    const std::filesystem::path dir = *run;
    std::optional<RunFolderLock> lock;  // the run folder's writer lock (core/run_lock.h)
    if (std::filesystem::is_directory(dir)) lock.emplace(dir, "report");
    const auto r = study::write_report(dir, !*no_figures, *out);
    if (!*no_figures) std::cout << "figures: " << r.figures << " written to " << (dir / "figures").string() << "\n";
    std::cout << "report: " << r.html.string() << "\n";
  });
}

}  // namespace cervirisk::cli
