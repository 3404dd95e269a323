// The text step: masked-language-model pretraining of the BERT on the training reports, in a
// study or on its own (`cervirisk pretrain-text`).
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <optional>

#include "core/atomic_file.h"
#include "core/error.h"
#include "text/vocab_builder.h"
#include "core/config.h"
#include "core/log.h"
#include "core/random.h"
#include "core/torch/runtime.h"
#include "models/bert.h"
#include "models/mlm.h"
#include "study/steps.h"

namespace cervirisk::study {

models::TensorMap pretrain_text(const config::Config& cfg, const StudySettings& settings,
                                const std::vector<std::string>& variants, const StudyFeatures& features,
                                const SelectionPlan& plan, StepTimer& timer) {
  const bool any_text = std::any_of(variants.begin(), variants.end(), [](const std::string& v) {
    return models::modalities_of(models::parse_variant(v)).text;
  });
  const auto& spec = features.spec;
  const bool from_checkpoint = !cfg.get_string("text.pretrained").empty();
  if (!any_text || !spec.tokenizer || (cfg.get_int("text.pretrain_epochs") <= 0 && !from_checkpoint)) return {};
  const auto t0 = std::chrono::steady_clock::now();
  seed_everything(derive_seed(settings.seed, "mlm"));
  auto arch = models::arch_from_config(cfg, models::Variant::kMsmT, features.sizes());
  models::Bert bert{nullptr};
  if (from_checkpoint) {
    // The checkpoint's own architecture (arch.text comes from its config.json), every tensor checked.
    const auto dir = cfg.get_path("text.pretrained");
    bert = models::Bert(arch.text);
    try {
      const auto r = models::load_bert_weights(bert, dir, /*strict=*/true);
      log::info("text.pretrained: {} layers x {} hidden, vocabulary {} ({} tensors)", arch.text.num_hidden_layers,
                arch.text.hidden_size, arch.text.vocab_size, r.loaded.size());
    } catch (const ModelError& e) {
      throw FormatError(fmt::format("text.pretrained = '{}': {}", dir.string(), e.what()));
    }
    if (cfg.get_int("text.pretrain_epochs") <= 0) return models::state_dict(*bert);
  } else {
    bert = models::Bert(arch.text);
  }
  models::MlmOptions mo;
  mo.epochs = static_cast<int>(cfg.get_int("text.pretrain_epochs"));
  mo.batch_size = cfg.get_int("text.pretrain_batch_size");
  mo.max_length = static_cast<std::size_t>(spec.max_tokens);
  mo.mask_probability = cfg.get_double("text.mask_probability");
  mo.learning_rate = cfg.get_double("text.pretrain_learning_rate");
  mo.whole_word = cfg.get_bool("text.whole_word_cjk");
  mo.seed = derive_seed(settings.seed, "mlm");
  // The held-out reports only monitor the loss; with train.selection = split / cv they are the
  // validation part's (first fold's) training reports, so no other cohort's report is read.
  std::vector<std::string> train, held;
  if (plan.mode == Selection::kInternal) {
    train = features.train_reports;
    held = features.internal_reports;
  } else {
    const auto& patients = features.by_cohort[0];
    for (std::size_t i = 0; i < patients.size(); ++i) {
      const auto it = features.train_report_of.find(patients[i]->id);
      if (it != features.train_report_of.end()) (plan.fold[i] == (plan.mode == Selection::kSplit ? 1 : 0) ? held : train).push_back(it->second);
    }
  }
  bert->to(parse_device(cfg.get_string("train.device")));  // MLM runs where the BERT is
  auto res = models::pretrain_mlm(bert, *spec.tokenizer, train, held, mo);
  timer.add("pretrain_text", StepTimer::since(t0));
  log::info("MLM pretraining: held-out loss {:.3f} -> {:.3f}", res.epochs.front().held_out_loss,
            res.epochs.back().held_out_loss);
  return models::state_dict(*bert);
}

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
    const std::string all = read_file(p);
    std::size_t pos = 0;
    while (pos <= all.size()) {
      const std::size_t nl = all.find('\n', pos);
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

namespace {

// A pretrained BERT and its vocabulary, or a new model of the preset on a vocabulary built from
// the training reports.
std::pair<models::Bert, text::Tokenizer> start_bert(const PretrainTextOptions& a, const config::Config& cfg,
                                                    const std::vector<std::string>& train, std::uint64_t seed) {
  std::string pretrained = a.pretrained.string();
  if (pretrained.empty() && !cfg.get_string("text.pretrained").empty()) pretrained = cfg.get_path("text.pretrained").string();
  text::TokenizerOptions topt;
  topt.normalizer.lowercase = cfg.get_bool("text.lowercase");
  if (!pretrained.empty()) {
    auto tok = text::Tokenizer::from_pretrained(pretrained, topt);
    models::BertCheckpoint ck = models::load_bert_pretrained(pretrained);
    log::info("continuing from {} ({} parameters)", pretrained, ck.report.parameter_count);
    return {ck.model, std::move(tok)};
  }
  const std::size_t vs = static_cast<std::size_t>(a.vocab_size > 0 ? a.vocab_size : cfg.get_int("text.vocab_size"));
  text::VocabBuilderOptions vo;
  vo.normalizer = topt.normalizer;
  text::Tokenizer tok(text::build_vocab(train, vs, vo), topt);
  const std::string preset = !a.preset.empty() ? a.preset : cfg.get_string("model.preset");
  auto bc = models::BertConfig::preset(preset, static_cast<std::int64_t>(tok.vocab().size()));
  torch::manual_seed(derive_seed(seed, "bert.init"));
  log::info("new {} BERT, vocabulary of {} tokens from {} training reports", preset, tok.vocab().size(), train.size());
  return {models::Bert(bc), std::move(tok)};
}

}  // namespace

std::vector<PretrainTextEpoch> pretrain_text_folder(const PretrainTextOptions& a) {
  const config::Config cfg = a.config.empty() ? config::Config() : config::Config::load(a.config);
  const std::uint64_t seed = a.seed >= 0 ? static_cast<std::uint64_t>(a.seed) : static_cast<std::uint64_t>(cfg.get_int("study.seed"));
  seed_all(seed);
  const std::vector<std::string> train = read_reports(a.reports);
  const std::vector<std::string> held = a.held_out.empty() ? std::vector<std::string>{} : read_reports(a.held_out);
  auto [bert, tok] = start_bert(a, cfg, train, seed);
  models::MlmOptions o;
  o.epochs = static_cast<int>(a.epochs >= 0 ? a.epochs : cfg.get_int("text.pretrain_epochs"));
  o.max_length = static_cast<std::size_t>(a.max_length > 0 ? a.max_length : cfg.get_int("text.max_length"));
  o.batch_size = a.batch_size > 0 ? a.batch_size : cfg.get_int("text.pretrain_batch_size");
  o.learning_rate = a.lr > 0 ? a.lr : cfg.get_double("text.pretrain_learning_rate");
  o.mask_probability = a.mask_probability > 0 ? a.mask_probability : cfg.get_double("text.mask_probability");
  o.whole_word = a.whole_word || cfg.get_bool("text.whole_word_cjk");
  o.seed = seed;
  ensure_writable_dir(a.out);
  const models::MlmResult r = models::pretrain_mlm(bert, tok, train, held, o);
  models::save_bert_pretrained(a.out, bert, r.head, {{"cervirisk", "pretrain-text"}});
  tok.save(a.out);
  std::vector<PretrainTextEpoch> epochs;
  nlohmann::ordered_json hist = nlohmann::ordered_json::array();
  auto num = [](double x) { return std::isnan(x) ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(x); };
  for (const auto& e : r.epochs) {
    epochs.push_back({e.epoch, e.train_loss, e.held_out_loss, e.held_out_accuracy, e.seconds});
    hist.push_back({{"epoch", e.epoch}, {"train_loss", num(e.train_loss)}, {"held_out_loss", num(e.held_out_loss)},
                    {"held_out_accuracy", num(e.held_out_accuracy)}, {"seconds", e.seconds}});
  }
  const nlohmann::ordered_json doc = {{"train_reports", train.size()}, {"held_out_reports", held.size()},
                                      {"vocab_size", tok.vocab().size()}, {"epochs", hist}};
  write_file_atomic(a.out / "pretrain_history.json", doc.dump(2) + "\n");
  return epochs;
}

}  // namespace cervirisk::study
