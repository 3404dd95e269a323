// Unicode helpers for the BERT tokenizer, backed by ICU. Character classes follow HuggingFace
// tokenizers (tokenizers/src/normalizers/bert.rs, pre_tokenizers/bert.rs), not a locale.
#pragma once

#include <string>
#include <string_view>

namespace cervirisk::text {

// UTF-8 <-> UTF-32. Invalid UTF-8 sequences decode to U+FFFD (which the cleaner then drops).
std::u32string utf8_to_u32(std::string_view s);
std::string u32_to_utf8(std::u32string_view s);
void append_utf8(std::string& out, char32_t c);

// Unicode White_Space, plus \t \n \r.
bool is_whitespace(char32_t c);
// General category C* (Cc, Cf, Cs, Co, Cn) except \t \n \r.
bool is_control(char32_t c);
// ASCII punctuation (33-47, 58-64, 91-96, 123-126) or general category P*.
bool is_punctuation(char32_t c);
// HF's "Chinese character" ranges: CJK Unified Ideographs (+ Extensions A-E) and the CJK
// Compatibility Ideographs (+ Supplement). Kana and Hangul are not included, as in HF.
bool is_cjk(char32_t c);
// NFD, then drops nonspacing marks (Mn).
std::u32string strip_accents(std::u32string_view s);
// Full (one-to-many) lowercase mapping, applied per character without context (as Rust's
// char::to_lowercase: capital sigma always maps to U+03C3).
std::u32string lowercase(std::u32string_view s);
// Canonical composition (NFC).
std::u32string nfc(std::u32string_view s);

}  // namespace cervirisk::text
