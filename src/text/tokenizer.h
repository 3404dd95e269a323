// The BERT tokenizer: HF-compatible normalisation + WordPiece, and the encoding of a report
// into fixed-length model inputs ([CLS] ... [SEP], padding, attention mask), with a policy for
// reports longer than the token budget.
//
//   auto tok = text::Tokenizer::from_pretrained("bert-base-chinese/");   // or from_vocab(...)
//   text::Encoded e = tok.encode(report, 192, text::LongPolicy::kHeadTail);
//   // e.chunks[0].ids / attention_mask / token_type_ids, each of length 192
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "text/normalizer.h"
#include "text/vocab.h"

namespace cervirisk::text {

struct SpecialTokens {
  std::string pad = "[PAD]", unk = "[UNK]", cls = "[CLS]", sep = "[SEP]", mask = "[MASK]";
};

struct TokenizerOptions {
  NormalizerOptions normalizer;
  WordPieceOptions wordpiece;
  SpecialTokens special;
  // Extra strings never split or normalised (HF's added tokens / never_split).
  std::vector<std::string> never_split;
  std::int64_t model_max_length = 512;  // from tokenizer_config.json when present
};

// Reports longer than the budget (text.long_policy):
//   kTruncate  keep the first max_length-2 tokens;
//   kHeadTail  keep the head quarter and the tail three quarters of the budget (Sun et al. 2019,
//              "How to Fine-Tune BERT for Text Classification?", arXiv:1905.05583: head+tail
//              truncation beats head-only and tail-only on long documents);
//   kChunks    cover the whole report by consecutive windows of the budget; the model averages
//              the chunk embeddings (mean pooling, Sun et al. 2019 hierarchical variant).
enum class LongPolicy { kTruncate, kHeadTail, kChunks };
LongPolicy long_policy_from_name(const std::string& name);  // "truncate" | "head_tail" | "chunks"
const char* long_policy_name(LongPolicy p);

// One model input row: [CLS] tokens [SEP] [PAD]...; all vectors have the encoding's length.
struct EncodedChunk {
  std::vector<std::int64_t> ids;
  std::vector<std::int64_t> attention_mask;  // 1 real token, 0 padding
  std::vector<std::int64_t> token_type_ids;  // all 0 (single segment)
};

struct Encoded {
  std::vector<EncodedChunk> chunks;  // one unless LongPolicy::kChunks and the report is long
  std::size_t n_tokens = 0;          // WordPiece tokens of the whole report (no specials)
  bool truncated = false;            // tokens were dropped (kTruncate / kHeadTail)
};

class Tokenizer {
 public:
  Tokenizer(Vocab vocab, TokenizerOptions options);
  // vocab.txt with the given options.
  static Tokenizer from_vocab(const std::filesystem::path& vocab_txt, TokenizerOptions options = {});
  // An HF folder: vocab.txt plus, when present, tokenizer_config.json (do_lower_case,
  // strip_accents, tokenize_chinese_chars, special tokens, model_max_length) and tokenizer.json
  // (normalizer and WordPiece settings, added tokens; takes precedence, as in HF's fast
  // tokenizer). `defaults` fill what the files do not say. A tokenizer.json whose model is not
  // WordPiece or whose normaliser is not BertNormalizer is refused (ModelError).
  static Tokenizer from_pretrained(const std::filesystem::path& dir, TokenizerOptions defaults = {});

  // Normalise, pre-tokenise, WordPiece. Special tokens in the text stay whole.
  std::vector<std::string> tokenize(std::string_view text) const;
  std::vector<std::int64_t> convert_tokens_to_ids(const std::vector<std::string>& tokens) const;
  std::vector<std::int64_t> ids(std::string_view text) const { return convert_tokens_to_ids(tokenize(text)); }
  std::string decode(const std::vector<std::int64_t>& ids, bool skip_special = true) const;

  // Fixed-length model input(s) for one report; max_length includes [CLS] and [SEP] (>= 3).
  Encoded encode(std::string_view text, std::size_t max_length, LongPolicy policy = LongPolicy::kHeadTail) const;
  // Same from token ids (no specials).
  Encoded encode_ids(const std::vector<std::int64_t>& ids, std::size_t max_length, LongPolicy policy) const;

  const Vocab& vocab() const { return vocab_; }
  const TokenizerOptions& options() const { return options_; }
  std::int64_t pad_id() const { return pad_id_; }
  std::int64_t unk_id() const { return unk_id_; }
  std::int64_t cls_id() const { return cls_id_; }
  std::int64_t sep_id() const { return sep_id_; }
  std::int64_t mask_id() const { return mask_id_; }
  bool is_special(std::int64_t id) const;

  // Writes vocab.txt and tokenizer_config.json (HF layout) into dir.
  void save(const std::filesystem::path& dir) const;

 private:
  Vocab vocab_;
  TokenizerOptions options_;
  std::vector<std::string> unsplittable_;  // specials + never_split, longest first
  std::int64_t pad_id_ = 0, unk_id_ = 0, cls_id_ = 0, sep_id_ = 0, mask_id_ = 0;
};

}  // namespace cervirisk::text
