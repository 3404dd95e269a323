// cervirisk pretrain-text: masked-language-model pretraining of BERT on report text, so the
// text branch is useful without a downloaded checkpoint (or to adapt one to the domain).
// Output: an HF folder (config.json, model.safetensors in BertForMaskedLM layout, vocab.txt,
// tokenizer_config.json) plus pretrain_history.json (study.h pretrain_text_folder).
#include <cstdio>
#include <iostream>
#include <string>

#include "commands.h"
#include "study/study.h"

namespace cervirisk::cli {

void add_pretrain_text(CLI::App& app, GlobalOptions& g) {
  auto a = std::make_shared<study::PretrainTextOptions>();
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
    const auto epochs = study::pretrain_text_folder(*a);
    std::cout << "epoch  train_loss  held_out_loss  held_out_acc  seconds\n";
    for (const auto& e : epochs) {
      char line[128];
      std::snprintf(line, sizeof line, "%5d  %10.4f  %13.4f  %12.4f  %7.1f\n", e.epoch, e.train_loss, e.held_out_loss,
                    e.held_out_accuracy, e.seconds);
      std::cout << line;
    }
    std::cout << "wrote " << a->out.string() << "\n";
  });
}

}  // namespace cervirisk::cli
