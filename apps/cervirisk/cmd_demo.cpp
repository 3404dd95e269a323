// cervirisk demo
#include "commands.h"

namespace cervirisk::cli {

void add_demo(CLI::App& app, GlobalOptions& g) {
  auto* sub = app.add_subcommand("demo", "Synthetic multicentre cohort + full study (cpu-small) into out/demo");
  sub->allow_extras();
  sub->callback([&g] {
    apply_globals(g);
    not_implemented("demo", "issue 8");
  });
}

}  // namespace cervirisk::cli
