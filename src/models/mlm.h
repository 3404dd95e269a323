// Masked-language-model pretraining of BERT on the training cohort's reports (Devlin et al.
// 2019, DOI 10.18653/v1/N19-1423, section 3.1: 15% of the tokens are chosen; of those 80%
// become [MASK], 10% a random token, 10% stay), so the text branch is useful without a
// downloaded checkpoint. A small standalone loop (AdamW, linear warm-up and decay); the
// study's trainer calls it before fine-tuning.
#pragma once

#include <functional>
#include <random>
#include <string>
#include <vector>

#include "models/bert.h"
#include "text/tokenizer.h"

namespace cervirisk::models {

struct MlmOptions {
  int epochs = 8;
  std::int64_t batch_size = 16;
  std::size_t max_length = 128;     // reports longer than this are cut into chunks (all text is used)
  double mask_probability = 0.15;
  double learning_rate = 5e-4;      // from-scratch small model; use ~5e-5 to continue a pretrained one
  double weight_decay = 0.01;
  double warmup_fraction = 0.06;
  double clip_grad_norm = 1.0;
  // Whole-word masking: the '##' pieces of a word are masked together; for CJK (one token per
  // character) runs of 1-3 adjacent ideographs are masked together (n-gram masking, as in
  // Cui et al. 2021, DOI 10.1109/TASLP.2021.3124365, without a word segmenter).
  bool whole_word = false;
  std::uint64_t seed = 42;
  // Called after each epoch (epoch, train loss, held-out loss); for progress reporting.
  std::function<void(int, double, double)> on_epoch;
};

struct MlmEpoch {
  int epoch = 0;                // 0 = before training
  double train_loss = 0;        // mean cross-entropy over masked tokens (NaN for epoch 0)
  double held_out_loss = 0;     // on the held-out reports with fixed masks (comparable across epochs)
  double held_out_accuracy = 0; // fraction of masked held-out tokens predicted exactly
  double seconds = 0;
};

struct MlmResult {
  std::vector<MlmEpoch> epochs;  // epochs[0] is the untrained model
  BertLMHead head{nullptr};      // the trained prediction head (save with save_bert_pretrained)
};

// Trains `bert` in place. Held-out reports are only evaluated (never trained on); pass the
// internal-validation reports, never the external cohort's. Throws ConfigError on bad options
// and when there are no training tokens.
MlmResult pretrain_mlm(Bert& bert, const text::Tokenizer& tokenizer, const std::vector<std::string>& train_reports,
                       const std::vector<std::string>& held_out_reports, const MlmOptions& options = {});

// One masking draw over a batch of encoded rows (exposed for tests): returns the corrupted ids
// and the labels (-100 where not masked). Specials and padding are never chosen.
struct MaskedBatch {
  torch::Tensor input_ids, labels;
};
MaskedBatch mask_tokens(const torch::Tensor& ids, const torch::Tensor& attention_mask,
                        const text::Tokenizer& tokenizer, double mask_probability, bool whole_word,
                        std::mt19937_64& rng);

}  // namespace cervirisk::models
