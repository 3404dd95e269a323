#include "text/normalizer.h"

#include "text/unicode.h"

namespace cervirisk::text {

std::u32string normalize(std::u32string_view text, const NormalizerOptions& opt) {
  std::u32string s;
  s.reserve(text.size() + text.size() / 2);
  for (char32_t c : text) {
    if (opt.clean_text) {
      if (c == 0 || c == 0xFFFD || is_control(c)) continue;
      if (is_whitespace(c)) c = U' ';
    }
    if (opt.handle_chinese_chars && is_cjk(c)) {
      s.push_back(U' ');
      s.push_back(c);
      s.push_back(U' ');
    } else {
      s.push_back(c);
    }
  }
  if (opt.strips_accents()) s = strip_accents(s);
  if (opt.lowercase) s = lowercase(s);
  return s;
}

std::vector<std::u32string> pre_tokenize(std::u32string_view normalized) {
  std::vector<std::u32string> words;
  std::u32string cur;
  for (char32_t c : normalized) {
    if (is_whitespace(c)) {
      if (!cur.empty()) words.push_back(std::move(cur)), cur.clear();
    } else if (is_punctuation(c)) {
      if (!cur.empty()) words.push_back(std::move(cur)), cur.clear();
      words.emplace_back(1, c);
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) words.push_back(std::move(cur));
  return words;
}

}  // namespace cervirisk::text
