// cervirisk pretrain-text: masked-language-model pretraining of BERT on report text, so the
// text branch is useful without a downloaded checkpoint (or to adapt one to the domain).
// Output: an HF folder (config.json, model.safetensors in BertForMaskedLM layout, vocab.txt,
// tokenizer_config.json) plus pretrain_history.json.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <algorithm>
#include <iostream>
#include <optional>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "core/atomic_file.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "core/random.h"
#include "models/bert.h"
#include "models/mlm.h"
#include "text/tokenizer.h"
#include "text/vocab_builder.h"

namespace cervirisk::cli {

namespace {
struct PretrainArgs {
  std::string config, reports, held_out, out, pretrained, preset;
  std::int64_t vocab_size = 0, epochs = -1, max_length = 0, batch_size = 0;
  double lr = 0, mask_probability = 0;
  bool whole_word = false;
  std::int64_t seed = -1;
};

// One report per line of a UTF-8 text file, or one per *.txt file of a folder (sorted by name).
std::vector<std::string> read_reports(const std::filesystem::path& p) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  if (fs::is_directory(p)) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(p))
      if (e.is_regular_file() && e.path().extension() == ".txt") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) out.push_back(read_file(f));
  } else {
    std::string all = read_file(p);
    std::size_t pos = 0;
    while (pos <= all.size()) {
      std::size_t nl = all.find('\n', pos);
      std::string line = all.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") != std::string::npos) out.push_back(line);
      if (nl == std::string::npos) break;
      pos = nl + 1;
    }
  }
  if (out.empty()) throw InputError("no reports in '" + p.string() + "'");
  return out;
}
}  // namespace

void add_pretrain_text(CLI::App& app, GlobalOptions& g) {
  auto a = std::make_shared<PretrainArgs>();
  auto* sub = app.add_subcommand("pretrain-text", "Masked-language-model pretraining of BERT on the training reports");
  sub->add_option("--config", a->config, "study.toml: [text] keys and study.seed give the defaults");
  sub->add_option("--reports", a->reports, "Training reports: a UTF-8 file with one report per line, or a folder of .txt files")
      ->required();
  sub->add_option("--held-out", a->held_out, "Held-out reports (same forms), evaluated each epoch, never trained on");
  sub->add_option("--out", a->out, "Output folder (HF layout)")->required();
  sub->add_option("--pretrained", a->pretrained, "Continue from this HF BERT folder instead of a new vocabulary and model");
  sub->add_option("--preset", a->preset, "Architecture of a new model: cpu-small (default) or bert-base");
  sub->add_option("--vocab-size", a->vocab_size, "Vocabulary built from the training reports (default text.vocab_size)");
  sub->add_option("--epochs", a->epochs, "Epochs (default text.pretrain_epochs)");
  sub->add_option("--max-length", a->max_length, "Tokens per row; longer reports are cut into chunks (default text.max_length)");
  sub->add_option("--batch-size", a->batch_size, "Rows per step (default text.pretrain_batch_size)");
  sub->add_option("--lr", a->lr, "Peak learning rate (default text.pretrain_learning_rate)");
  sub->add_option("--mask-probability", a->mask_probability, "Masking rate (default text.mask_probability)");
  sub->add_flag("--whole-word", a->whole_word, "Whole-word masking ('##' pieces and CJK n-grams together)");
  sub->add_option("--seed", a->seed, "Seed (default study.seed)");
  sub->callback([a, &g] {
    apply_globals(g);
    config::Config cfg = a->config.empty() ? config::Config() : config::Config::load(a->config);
    const std::uint64_t seed = a->seed >= 0 ? static_cast<std::uint64_t>(a->seed) : static_cast<std::uint64_t>(cfg.get_int("study.seed"));
    seed_all(seed);
    std::vector<std::string> train = read_reports(a->reports);
    std::vector<std::string> held = a->held_out.empty() ? std::vector<std::string>{} : read_reports(a->held_out);

    std::string pretrained = a->pretrained;
    if (pretrained.empty() && !cfg.get_string("text.pretrained").empty()) pretrained = cfg.get_path("text.pretrained").string();
    text::TokenizerOptions topt;
    topt.normalizer.lowercase = cfg.get_bool("text.lowercase");
    models::Bert bert{nullptr};
    std::optional<text::Tokenizer> tok;
    if (!pretrained.empty()) {
      tok = text::Tokenizer::from_pretrained(pretrained, topt);
      models::BertCheckpoint ck = models::load_bert_pretrained(pretrained);
      bert = ck.model;
      log::info("continuing from {} ({} parameters)", pretrained, ck.report.parameter_count);
    } else {
      const std::size_t vs = static_cast<std::size_t>(a->vocab_size > 0 ? a->vocab_size : cfg.get_int("text.vocab_size"));
      text::VocabBuilderOptions vo;
      vo.normalizer = topt.normalizer;
      tok = text::Tokenizer(text::build_vocab(train, vs, vo), topt);
      std::string preset = !a->preset.empty() ? a->preset : cfg.get_string("model.preset");
      auto bc = models::BertConfig::preset(preset, static_cast<std::int64_t>(tok->vocab().size()));
      torch::manual_seed(derive_seed(seed, "bert.init"));
      bert = models::Bert(bc);
      log::info("new {} BERT, vocabulary of {} tokens from {} training reports", preset, tok->vocab().size(), train.size());
    }
    models::MlmOptions o;
    o.epochs = static_cast<int>(a->epochs >= 0 ? a->epochs : cfg.get_int("text.pretrain_epochs"));
    o.max_length = static_cast<std::size_t>(a->max_length > 0 ? a->max_length : cfg.get_int("text.max_length"));
    o.batch_size = a->batch_size > 0 ? a->batch_size : cfg.get_int("text.pretrain_batch_size");
    o.learning_rate = a->lr > 0 ? a->lr : cfg.get_double("text.pretrain_learning_rate");
    o.mask_probability = a->mask_probability > 0 ? a->mask_probability : cfg.get_double("text.mask_probability");
    o.whole_word = a->whole_word || cfg.get_bool("text.whole_word_cjk");
    o.seed = seed;
    ensure_writable_dir(a->out);
    models::MlmResult r = models::pretrain_mlm(bert, *tok, train, held, o);

    models::save_bert_pretrained(a->out, bert, r.head, {{"cervirisk", "pretrain-text"}});
    tok->save(a->out);
    nlohmann::ordered_json hist = nlohmann::ordered_json::array();
    std::cout << "epoch  train_loss  held_out_loss  held_out_acc  seconds\n";
    for (const auto& e : r.epochs) {
      auto num = [](double x) { return std::isnan(x) ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(x); };
      hist.push_back({{"epoch", e.epoch}, {"train_loss", num(e.train_loss)}, {"held_out_loss", num(e.held_out_loss)},
                      {"held_out_accuracy", num(e.held_out_accuracy)}, {"seconds", e.seconds}});
      char line[128];
      std::snprintf(line, sizeof line, "%5d  %10.4f  %13.4f  %12.4f  %7.1f\n", e.epoch, e.train_loss, e.held_out_loss,
                    e.held_out_accuracy, e.seconds);
      std::cout << line;
    }
    nlohmann::ordered_json doc = {{"train_reports", train.size()}, {"held_out_reports", held.size()},
                                  {"vocab_size", tok->vocab().size()}, {"epochs", hist}};
    write_file_atomic(std::filesystem::path(a->out) / "pretrain_history.json", doc.dump(2) + "\n");
    std::cout << "wrote " << a->out << "\n";
  });
}

}  // namespace cervirisk::cli
