// cervirisk stats
#include "commands.h"

namespace cervirisk::cli {

void add_stats(CLI::App& app, GlobalOptions& g) {
  auto* sub = app.add_subcommand("stats", "Statistics on a CSV: auc|threshold|roc-test|km|logrank|cox|cindex|tdauc|calibration|dca|cutpoint");
  sub->allow_extras();
  sub->callback([&g] {
    apply_globals(g);
    not_implemented("stats", "issue 5");
  });
}

}  // namespace cervirisk::cli
