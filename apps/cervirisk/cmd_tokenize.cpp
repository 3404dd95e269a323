// cervirisk tokenize
#include "commands.h"

namespace cervirisk::cli {

void add_tokenize(CLI::App& app, GlobalOptions& g) {
  auto* sub = app.add_subcommand("tokenize", "Debug the WordPiece tokenizer");
  sub->allow_extras();
  sub->callback([&g] {
    apply_globals(g);
    not_implemented("tokenize", "issue 6");
  });
}

}  // namespace cervirisk::cli
