// cervirisk inspect
#include "commands.h"

namespace cervirisk::cli {

void add_inspect(CLI::App& app, GlobalOptions& g) {
  auto* sub = app.add_subcommand("inspect", "Geometry and intensities of a NIfTI file or DICOM series");
  sub->allow_extras();
  sub->callback([&g] {
    apply_globals(g);
    not_implemented("inspect", "issue 3");
  });
}

}  // namespace cervirisk::cli
