// cervirisk predict
#include "commands.h"

namespace cervirisk::cli {

void add_predict(CLI::App& app, GlobalOptions& g) {
  auto* sub = app.add_subcommand("predict", "Risk for one new patient from a model bundle");
  sub->allow_extras();
  sub->callback([&g] {
    apply_globals(g);
    not_implemented("predict", "issue 8");
  });
}

}  // namespace cervirisk::cli
