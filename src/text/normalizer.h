// The BERT normaliser and pre-tokeniser, in the order of HuggingFace tokenizers' BertNormalizer
// (tokenizers/src/normalizers/bert.rs) and BertPreTokenizer (pre_tokenizers/bert.rs):
//   clean text -> pad CJK ideographs -> strip accents (NFD, drop Mn) -> lowercase
//   -> split on whitespace (removed) and punctuation (isolated).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cervirisk::text {

struct NormalizerOptions {
  bool clean_text = true;            // drop NUL, U+FFFD, controls; whitespace -> ' '
  bool handle_chinese_chars = true;  // surround CJK ideographs with spaces
  bool lowercase = true;
  // Unset: follows `lowercase` (HF's default for strip_accents = None).
  std::optional<bool> strip_accents;
  bool strips_accents() const { return strip_accents.value_or(lowercase); }
};

std::u32string normalize(std::u32string_view text, const NormalizerOptions& opt);
// Words of normalised text: split on whitespace, punctuation characters as words of their own.
std::vector<std::u32string> pre_tokenize(std::u32string_view normalized);

}  // namespace cervirisk::text
