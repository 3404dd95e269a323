// cervirisk synth
#include "commands.h"

namespace cervirisk::cli {

void add_synth(CLI::App& app, GlobalOptions& g) {
  auto* sub = app.add_subcommand("synth", "Write a synthetic multicentre cohort (NIfTI + reports + CSV + truth)");
  sub->allow_extras();
  sub->callback([&g] {
    apply_globals(g);
    not_implemented("synth", "issue 4");
  });
}

}  // namespace cervirisk::cli
