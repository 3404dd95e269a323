// cervirisk evaluate
#include "commands.h"

namespace cervirisk::cli {

void add_evaluate(CLI::App& app, GlobalOptions& g) {
  auto* sub = app.add_subcommand("evaluate", "Predict every cohort and compute the statistics of a run");
  sub->allow_extras();
  sub->callback([&g] {
    apply_globals(g);
    not_implemented("evaluate", "issue 8");
  });
}

}  // namespace cervirisk::cli
