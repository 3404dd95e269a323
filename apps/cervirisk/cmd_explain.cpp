// cervirisk explain
#include "commands.h"

namespace cervirisk::cli {

void add_explain(CLI::App& app, GlobalOptions& g) {
  auto* sub = app.add_subcommand("explain", "SHAP, attention rollout and Grad-CAM for a run");
  sub->allow_extras();
  sub->callback([&g] {
    apply_globals(g);
    not_implemented("explain", "issue 9");
  });
}

}  // namespace cervirisk::cli
