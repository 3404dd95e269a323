// cervirisk train
#include "commands.h"

namespace cervirisk::cli {

void add_train(CLI::App& app, GlobalOptions& g) {
  auto* sub = app.add_subcommand("train", "Train one variant");
  sub->allow_extras();
  sub->callback([&g] {
    apply_globals(g);
    not_implemented("train", "issue 8");
  });
}

}  // namespace cervirisk::cli
