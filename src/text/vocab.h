// A WordPiece vocabulary (vocab.txt: one token per line, the line number is the id) and the
// WordPiece model: greedy longest-match-first with a continuation prefix (Wu et al. 2016,
// arXiv:1609.08144; HuggingFace tokenizers/src/models/wordpiece/mod.rs).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cervirisk::text {

class Vocab {
 public:
  Vocab() = default;
  explicit Vocab(std::vector<std::string> tokens);
  // Reads vocab.txt (UTF-8, '\n' or "\r\n"). Throws InputError / FormatError naming the file.
  static Vocab load(const std::filesystem::path& path);
  // Writes vocab.txt atomically.
  void save(const std::filesystem::path& path) const;

  std::size_t size() const { return tokens_.size(); }
  bool contains(std::string_view token) const { return index_.count(std::string(token)) != 0; }
  // -1 when absent.
  std::int64_t id(std::string_view token) const;
  const std::string& token(std::int64_t id) const;  // throws for an out-of-range id
  const std::vector<std::string>& tokens() const { return tokens_; }

 private:
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, std::int64_t> index_;
  std::size_t duplicates_ = 0;
};

struct WordPieceOptions {
  std::string unk_token = "[UNK]";
  std::string continuing_prefix = "##";
  std::size_t max_input_chars_per_word = 100;  // longer words become one unk token
};

// Appends the pieces of one pre-tokenised word (UTF-32) to `out`; a word with a part that
// matches nothing becomes a single unk token (HF: the whole word, not only the part).
void wordpiece(std::u32string_view word, const Vocab& vocab, const WordPieceOptions& opt,
               std::vector<std::string>& out);

}  // namespace cervirisk::text
