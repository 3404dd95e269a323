// cervirisk tokenize: show how the BERT tokenizer splits report text (debugging a vocabulary
// or a pretrained tokenizer folder).
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "core/error.h"
#include "text/tokenizer.h"

namespace cervirisk::cli {

namespace {
struct TokenizeArgs {
  std::string vocab;
  std::vector<std::string> texts;
  bool json = false, special = false;
  bool lowercase = false, no_lowercase = false, strip = false, no_strip = false;
};
}  // namespace

void add_tokenize(CLI::App& app, GlobalOptions& g) {
  auto a = std::make_shared<TokenizeArgs>();
  auto* sub = app.add_subcommand("tokenize", "Debug the WordPiece tokenizer: tokens and ids of each TEXT");
  sub->add_option("--vocab", a->vocab, "vocab.txt, or an HF tokenizer folder (tokenizer_config.json / tokenizer.json)")
      ->required();
  sub->add_flag("--lowercase", a->lowercase, "Lowercase (default, unless the folder's config says otherwise)");
  sub->add_flag("--no-lowercase", a->no_lowercase, "Keep case (accents are then kept unless --strip-accents)");
  sub->add_flag("--strip-accents", a->strip, "Strip accents (NFD, drop nonspacing marks)");
  sub->add_flag("--no-strip-accents", a->no_strip, "Keep accents even when lowercasing");
  sub->add_flag("--json", a->json, "One JSON object per text and line: {\"text\",\"tokens\",\"ids\"}");
  sub->add_flag("--special", a->special, "Add [CLS] and [SEP]");
  sub->add_option("text", a->texts, "Texts to tokenize (UTF-8)")->required();
  sub->callback([a, &g] {
    apply_globals(g);
    if (a->lowercase && a->no_lowercase) throw ConfigError("--lowercase and --no-lowercase exclude each other");
    if (a->strip && a->no_strip) throw ConfigError("--strip-accents and --no-strip-accents exclude each other");
    text::TokenizerOptions opt;
    if (a->lowercase) opt.normalizer.lowercase = true;
    if (a->no_lowercase) opt.normalizer.lowercase = false;
    text::Tokenizer tok = std::filesystem::is_directory(a->vocab) ? text::Tokenizer::from_pretrained(a->vocab, opt)
                                                                  : text::Tokenizer::from_vocab(a->vocab, opt);
    // Command-line flags win over the folder's files.
    text::TokenizerOptions eff = tok.options();
    bool changed = false;
    if (a->lowercase || a->no_lowercase) eff.normalizer.lowercase = a->lowercase, changed = true;
    if (a->strip || a->no_strip) eff.normalizer.strip_accents = a->strip, changed = true;
    if (changed) tok = text::Tokenizer(tok.vocab(), eff);
    for (const auto& t : a->texts) {
      std::vector<std::string> tokens = tok.tokenize(t);
      if (a->special) {
        tokens.insert(tokens.begin(), tok.options().special.cls);
        tokens.push_back(tok.options().special.sep);
      }
      std::vector<std::int64_t> ids = tok.convert_tokens_to_ids(tokens);
      if (a->json) {
        nlohmann::ordered_json j;
        j["text"] = t;
        j["tokens"] = tokens;
        j["ids"] = ids;
        std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
      } else {
        for (std::size_t i = 0; i < tokens.size(); ++i) std::cout << (i ? " " : "") << tokens[i];
        std::cout << "\t";
        for (std::size_t i = 0; i < ids.size(); ++i) std::cout << (i ? " " : "") << ids[i];
        std::cout << "\n";
      }
    }
  });
}

}  // namespace cervirisk::cli
