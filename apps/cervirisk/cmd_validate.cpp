// cervirisk validate
#include "commands.h"

namespace cervirisk::cli {

void add_validate(CLI::App& app, GlobalOptions& g) {
  auto* sub = app.add_subcommand("validate", "Check the data, print the cohort table and guard results");
  sub->allow_extras();
  sub->callback([&g] {
    apply_globals(g);
    not_implemented("validate", "issue 4");
  });
}

}  // namespace cervirisk::cli
