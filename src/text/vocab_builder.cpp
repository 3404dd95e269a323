#include "text/vocab_builder.h"

#include <algorithm>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"
#include "text/unicode.h"

namespace cervirisk::text {

Vocab build_vocab(const std::vector<std::string>& reports, std::size_t vocab_size, const VocabBuilderOptions& opt) {
  const SpecialTokens& sp = opt.special;
  std::vector<std::string> tokens = {sp.pad, sp.unk, sp.cls, sp.sep, sp.mask};
  if (vocab_size < tokens.size())
    throw ConfigError("text.vocab_size: expected at least " + std::to_string(tokens.size()) + ", got " +
                      std::to_string(vocab_size));
  std::unordered_set<std::string> in_vocab(tokens.begin(), tokens.end());

  // 1. Word counts, as the tokenizer will pre-tokenise.
  std::unordered_map<std::u32string, std::size_t> word_count;
  for (const auto& r : reports)
    for (auto& w : pre_tokenize(normalize(utf8_to_u32(r), opt.normalizer))) ++word_count[w];

  // 2. Alphabet: word-initial characters and '##'-continuation characters.
  std::map<std::string, std::size_t> alphabet;
  for (const auto& [w, n] : word_count)
    for (std::size_t i = 0; i < w.size(); ++i) {
      std::string t = i == 0 ? std::string() : opt.continuing_prefix;
      append_utf8(t, w[i]);
      alphabet[t] += n;
    }
  std::vector<std::pair<std::string, std::size_t>> alpha(alphabet.begin(), alphabet.end());
  std::stable_sort(alpha.begin(), alpha.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  // Every character seen is kept (HF's trainer keeps the whole alphabet) unless the alphabet
  // alone exceeds the budget; then the rarest become [UNK].
  for (const auto& [t, n] : alpha) {
    if (tokens.size() >= vocab_size) break;
    if (in_vocab.insert(t).second) tokens.push_back(t);
  }

  // 3. BPE merges on the words of more than one character.
  struct Word {
    std::vector<std::string> pieces;
    std::size_t count;
  };
  std::vector<Word> words;
  std::vector<std::pair<std::u32string, std::size_t>> sorted_words(word_count.begin(), word_count.end());
  std::sort(sorted_words.begin(), sorted_words.end());
  for (const auto& [w, n] : sorted_words) {
    if (w.size() < 2) continue;
    Word word{{}, n};
    bool known = true;
    for (std::size_t i = 0; i < w.size(); ++i) {
      std::string t = i == 0 ? std::string() : opt.continuing_prefix;
      append_utf8(t, w[i]);
      if (!in_vocab.count(t)) known = false;
      word.pieces.push_back(std::move(t));
    }
    if (known) words.push_back(std::move(word));  // a word with an [UNK] character cannot merge usefully
  }
  const std::size_t plen = opt.continuing_prefix.size();
  auto merged = [&](const std::string& a, const std::string& b) { return a + b.substr(plen); };
  while (tokens.size() < vocab_size) {
    std::unordered_map<std::string, std::size_t> pair_count;  // key: a + '\n' + b
    for (const auto& w : words)
      for (std::size_t i = 0; i + 1 < w.pieces.size(); ++i) pair_count[w.pieces[i] + '\n' + w.pieces[i + 1]] += w.count;
    const std::string* best = nullptr;
    std::size_t best_n = 0;
    for (const auto& [k, n] : pair_count)
      if (n > best_n || (n == best_n && best && k < *best)) best = &k, best_n = n;
    if (!best || best_n < opt.min_frequency) break;
    const std::size_t cut = best->find('\n');
    const std::string a = best->substr(0, cut), b = best->substr(cut + 1), ab = merged(a, b);
    for (auto& w : words) {
      std::vector<std::string> next;
      next.reserve(w.pieces.size());
      for (std::size_t i = 0; i < w.pieces.size(); ++i) {
        if (i + 1 < w.pieces.size() && w.pieces[i] == a && w.pieces[i + 1] == b) {
          next.push_back(ab);
          ++i;
        } else {
          next.push_back(std::move(w.pieces[i]));
        }
      }
      w.pieces = std::move(next);
    }
    words.erase(std::remove_if(words.begin(), words.end(), [](const Word& w) { return w.pieces.size() < 2; }),
                words.end());
    if (in_vocab.insert(ab).second) tokens.push_back(ab);
  }
  return Vocab(std::move(tokens));
}

}  // namespace cervirisk::text
