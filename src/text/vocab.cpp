#include "text/vocab.h"

#include <fstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"
#include "text/unicode.h"

namespace cervirisk::text {

Vocab::Vocab(std::vector<std::string> tokens) : tokens_(std::move(tokens)) {
  index_.reserve(tokens_.size() * 2);
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    // A duplicate line maps to its last id, as in HF (BertTokenizer's load_vocab and
    // tokenizers' WordPiece::read_file both overwrite); some published vocab.txt files have them.
    auto [it, fresh] = index_.emplace(tokens_[i], static_cast<std::int64_t>(i));
    if (!fresh) {
      it->second = static_cast<std::int64_t>(i);
      ++duplicates_;
    }
  }
}

Vocab Vocab::load(const std::filesystem::path& path) {
  std::string content = read_file(path);
  std::vector<std::string> tokens;
  std::size_t pos = 0;
  while (pos < content.size()) {
    std::size_t nl = content.find('\n', pos);
    std::size_t end = nl == std::string::npos ? content.size() : nl;
    std::string line = content.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    tokens.push_back(std::move(line));
    pos = end + 1;
  }
  if (tokens.empty()) throw FormatError("vocabulary '" + path.string() + "' is empty");
  Vocab v(std::move(tokens));
  if (v.duplicates_ > 0)
    log::warn("vocabulary '{}' has {} duplicate lines (the last id of each is used, as in HF)", path.string(),
              v.duplicates_);
  return v;
}

void Vocab::save(const std::filesystem::path& path) const {
  std::string out;
  for (const auto& t : tokens_) out += t + "\n";
  write_file_atomic(path, out);
}

std::int64_t Vocab::id(std::string_view token) const {
  auto it = index_.find(std::string(token));
  return it == index_.end() ? -1 : it->second;
}

const std::string& Vocab::token(std::int64_t id) const {
  if (id < 0 || id >= static_cast<std::int64_t>(tokens_.size()))
    throw Error(ExitCode::kFailure, "token id " + std::to_string(id) + " outside the vocabulary of " +
                                        std::to_string(tokens_.size()));
  return tokens_[static_cast<std::size_t>(id)];
}

void wordpiece(std::u32string_view word, const Vocab& vocab, const WordPieceOptions& opt,
               std::vector<std::string>& out) {
  if (word.size() > opt.max_input_chars_per_word) {
    out.push_back(opt.unk_token);
    return;
  }
  // Byte offsets of each character in the UTF-8 form, so candidates are substrings.
  std::string utf8;
  std::vector<std::size_t> offs;
  offs.reserve(word.size() + 1);
  for (char32_t c : word) {
    offs.push_back(utf8.size());
    append_utf8(utf8, c);
  }
  offs.push_back(utf8.size());
  const std::size_t first = out.size();
  std::string candidate;
  std::size_t start = 0;
  while (start < word.size()) {
    std::size_t end = word.size();
    bool found = false;
    while (start < end) {
      candidate.clear();
      if (start > 0) candidate = opt.continuing_prefix;
      candidate.append(utf8, offs[start], offs[end] - offs[start]);
      if (vocab.contains(candidate)) {
        found = true;
        break;
      }
      --end;
    }
    if (!found) {
      out.resize(first);
      out.push_back(opt.unk_token);
      return;
    }
    out.push_back(candidate);
    start = end;
  }
}

}  // namespace cervirisk::text
