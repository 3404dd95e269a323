// A WordPiece vocabulary learnt from the training cohort's reports, for studies without a
// pretrained checkpoint. As HF tokenizers' WordPieceTrainer: the reports are normalised and
// pre-tokenised like the tokenizer will see them, then byte-pair-encoding merges (Sennrich et
// al. 2016, DOI 10.18653/v1/P16-1162) are learnt on the word counts with '##' marking
// word-internal pieces. CJK ideographs are single-character words after the normaliser, so
// Chinese text contributes single characters; Latin text contributes frequent words and
// subwords.
#pragma once

#include <string>
#include <vector>

#include "text/normalizer.h"
#include "text/tokenizer.h"
#include "text/vocab.h"

namespace cervirisk::text {

struct VocabBuilderOptions {
  NormalizerOptions normalizer;  // must equal the options the tokenizer will use
  SpecialTokens special;
  std::size_t min_frequency = 2;  // merges seen fewer times are not learnt
  std::string continuing_prefix = "##";
};

// Returns a vocabulary of at most vocab_size tokens: the five special tokens first
// ([PAD]=0, [UNK]=1, [CLS]=2, [SEP]=3, [MASK]=4), then every character seen (word-initial and
// '##' forms) by frequency, cut only when the alphabet alone exceeds vocab_size,
// then merged pieces in merge order. Deterministic (ties broken by the pieces' text).
// Pass only training-cohort reports: the vocabulary is fitted data (DESIGN: study rules).
Vocab build_vocab(const std::vector<std::string>& reports, std::size_t vocab_size,
                  const VocabBuilderOptions& options = {});

}  // namespace cervirisk::text
