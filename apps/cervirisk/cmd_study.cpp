// cervirisk study
#include "commands.h"

namespace cervirisk::cli {

void add_study(CLI::App& app, GlobalOptions& g) {
  auto* sub = app.add_subcommand("study", "Train all variants, evaluate, explain, report");
  sub->allow_extras();
  sub->callback([&g] {
    apply_globals(g);
    not_implemented("study", "issue 8");
  });
}

}  // namespace cervirisk::cli
