// cervirisk weights
#include "commands.h"

namespace cervirisk::cli {

void add_weights(CLI::App& app, GlobalOptions& g) {
  auto* sub = app.add_subcommand("weights", "Load a checkpoint into an architecture; report key/shape problems (check|convert)");
  sub->allow_extras();
  sub->callback([&g] {
    apply_globals(g);
    not_implemented("weights", "issue 7");
  });
}

}  // namespace cervirisk::cli
