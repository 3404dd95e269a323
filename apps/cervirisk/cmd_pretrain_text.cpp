// cervirisk pretrain-text
#include "commands.h"

namespace cervirisk::cli {

void add_pretrain_text(CLI::App& app, GlobalOptions& g) {
  auto* sub = app.add_subcommand("pretrain-text", "Masked-language-model pretraining of BERT on the training reports");
  sub->allow_extras();
  sub->callback([&g] {
    apply_globals(g);
    not_implemented("pretrain-text", "issue 6");
  });
}

}  // namespace cervirisk::cli
