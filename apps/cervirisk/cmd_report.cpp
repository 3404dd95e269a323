// cervirisk report --run DIR: figures/ (PNG + SVG) and report.html for an existing run folder
// (its files: docs/report.md).
#include <iostream>

#include "commands.h"
#include "report/html.h"
#include "report/report_data.h"

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
    const std::filesystem::path file = out->empty() ? dir / "report.html" : std::filesystem::path(*out);
    auto data = report::load_run_folder(dir);
    if (!*no_figures) {
      auto stems = report::write_report_figures(data, dir / "figures");
      std::cout << "figures: " << stems.size() << " written to " << (dir / "figures").string() << "\n";
    }
    report::write_report_html(data, file);
    std::cout << "report: " << file.string() << "\n";
  });
}

}  // namespace cervirisk::cli
