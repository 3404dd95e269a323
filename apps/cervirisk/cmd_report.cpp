// cervirisk report
#include "commands.h"

namespace cervirisk::cli {

void add_report(CLI::App& app, GlobalOptions& g) {
  auto* sub = app.add_subcommand("report", "Figures and report.html for a run");
  sub->allow_extras();
  sub->callback([&g] {
    apply_globals(g);
    not_implemented("report", "issue 9");
  });
}

}  // namespace cervirisk::cli
