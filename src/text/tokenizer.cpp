#include "text/tokenizer.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/choice.h"
#include "core/error.h"
#include "core/log.h"
#include "text/unicode.h"

namespace cervirisk::text {

namespace {
constexpr ChoiceNames<3> kLongPolicyNames{"truncate", "head_tail", "chunks"};  // in LongPolicy's order
}

LongPolicy long_policy_from_name(const std::string& name) {
  return parse_choice<LongPolicy>(kLongPolicyNames, name, "text.long_policy");
}

const char* long_policy_name(LongPolicy p) { return choice_name(kLongPolicyNames, p); }

Tokenizer::Tokenizer(Vocab vocab, TokenizerOptions options) : vocab_(std::move(vocab)), options_(std::move(options)) {
  auto need = [&](const std::string& tok, const char* role) {
    std::int64_t id = vocab_.id(tok);
    if (id < 0)
      throw ModelError(std::string("the vocabulary has no ") + role + " token '" + tok + "' (" +
                       std::to_string(vocab_.size()) + " tokens)");
    return id;
  };
  const SpecialTokens& s = options_.special;
  pad_id_ = need(s.pad, "padding");
  unk_id_ = need(s.unk, "unknown");
  cls_id_ = need(s.cls, "classification");
  sep_id_ = need(s.sep, "separator");
  mask_id_ = need(s.mask, "mask");
  if (options_.wordpiece.unk_token != s.unk) options_.wordpiece.unk_token = s.unk;
  unsplittable_ = {s.pad, s.unk, s.cls, s.sep, s.mask};
  for (const auto& t : options_.never_split)
    if (!t.empty() && std::find(unsplittable_.begin(), unsplittable_.end(), t) == unsplittable_.end())
      unsplittable_.push_back(t);
  std::stable_sort(unsplittable_.begin(), unsplittable_.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

Tokenizer Tokenizer::from_vocab(const std::filesystem::path& vocab_txt, TokenizerOptions options) {
  return Tokenizer(Vocab::load(vocab_txt), std::move(options));
}

namespace {
using nlohmann::json;

json read_json(const std::filesystem::path& p) {
  std::string content = read_file(p);
  try {
    return json::parse(content);
  } catch (const json::exception& e) {
    throw FormatError("'" + p.string() + "' is not valid JSON: " + e.what());
  }
}

// A special token in tokenizer_config.json is a string or an AddedToken object {"content": ...}.
void read_token(const json& cfg, const char* key, std::string& out) {
  if (!cfg.contains(key)) return;
  const json& v = cfg[key];
  if (v.is_string()) out = v.get<std::string>();
  else if (v.is_object() && v.contains("content") && v["content"].is_string()) out = v["content"].get<std::string>();
}

void read_bool(const json& j, const char* key, bool& out) {
  if (j.contains(key) && j[key].is_boolean()) out = j[key].get<bool>();
}
}  // namespace

Tokenizer Tokenizer::from_pretrained(const std::filesystem::path& dir, TokenizerOptions opt) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) throw InputError("tokenizer folder '" + dir.string() + "' does not exist");
  const fs::path cfg_path = dir / "tokenizer_config.json", tj_path = dir / "tokenizer.json",
                 vocab_path = dir / "vocab.txt";
  if (fs::exists(cfg_path)) {
    json cfg = read_json(cfg_path);
    if (!cfg.is_object()) throw FormatError("'" + cfg_path.string() + "' is not a JSON object");
    read_bool(cfg, "do_lower_case", opt.normalizer.lowercase);
    read_bool(cfg, "tokenize_chinese_chars", opt.normalizer.handle_chinese_chars);
    if (cfg.contains("strip_accents")) {
      if (cfg["strip_accents"].is_boolean()) opt.normalizer.strip_accents = cfg["strip_accents"].get<bool>();
      else if (cfg["strip_accents"].is_null()) opt.normalizer.strip_accents.reset();
    }
    read_token(cfg, "unk_token", opt.special.unk);
    read_token(cfg, "pad_token", opt.special.pad);
    read_token(cfg, "cls_token", opt.special.cls);
    read_token(cfg, "sep_token", opt.special.sep);
    read_token(cfg, "mask_token", opt.special.mask);
    if (cfg.contains("never_split") && cfg["never_split"].is_array())
      for (const auto& t : cfg["never_split"])
        if (t.is_string()) opt.never_split.push_back(t.get<std::string>());
    // HF writes a huge sentinel (1e30) when the model has no limit.
    if (cfg.contains("model_max_length") && cfg["model_max_length"].is_number()) {
      double m = cfg["model_max_length"].get<double>();
      if (m > 0 && m < 1e7) opt.model_max_length = static_cast<std::int64_t>(m);
    }
  }
  std::vector<std::string> json_vocab;
  if (fs::exists(tj_path)) {
    json tj = read_json(tj_path);
    const std::string where = "'" + tj_path.string() + "'";
    if (tj.contains("normalizer") && !tj["normalizer"].is_null()) {
      const json& n = tj["normalizer"];
      std::string type = n.value("type", "");
      if (type != "BertNormalizer")
        throw ModelError(where + ": normalizer type '" + type + "' is not supported (expected BertNormalizer)");
      read_bool(n, "clean_text", opt.normalizer.clean_text);
      read_bool(n, "handle_chinese_chars", opt.normalizer.handle_chinese_chars);
      read_bool(n, "lowercase", opt.normalizer.lowercase);
      if (n.contains("strip_accents")) {
        if (n["strip_accents"].is_boolean()) opt.normalizer.strip_accents = n["strip_accents"].get<bool>();
        else opt.normalizer.strip_accents.reset();
      }
    }
    if (tj.contains("pre_tokenizer") && tj["pre_tokenizer"].is_object()) {
      std::string type = tj["pre_tokenizer"].value("type", "");
      if (type != "BertPreTokenizer")
        log::warn("{}: pre_tokenizer '{}' is treated as BertPreTokenizer", tj_path.string(), type);
    }
    if (tj.contains("model") && tj["model"].is_object()) {
      const json& m = tj["model"];
      std::string type = m.value("type", "WordPiece");
      if (type != "WordPiece")
        throw ModelError(where + ": model type '" + type + "' is not supported (expected WordPiece)");
      if (m.contains("unk_token") && m["unk_token"].is_string()) opt.special.unk = m["unk_token"].get<std::string>();
      if (m.contains("continuing_subword_prefix") && m["continuing_subword_prefix"].is_string())
        opt.wordpiece.continuing_prefix = m["continuing_subword_prefix"].get<std::string>();
      if (m.contains("max_input_chars_per_word") && m["max_input_chars_per_word"].is_number_unsigned())
        opt.wordpiece.max_input_chars_per_word = m["max_input_chars_per_word"].get<std::size_t>();
      if (m.contains("vocab") && m["vocab"].is_object()) {
        for (auto it = m["vocab"].begin(); it != m["vocab"].end(); ++it) {
          if (!it.value().is_number_unsigned()) throw FormatError(where + ": vocab id of '" + it.key() + "' is not an id");
          std::size_t id = it.value().get<std::size_t>();
          if (id >= m["vocab"].size() * 2 + 16) throw FormatError(where + ": vocab id " + std::to_string(id) + " is out of range");
          if (json_vocab.size() <= id) json_vocab.resize(id + 1);
          json_vocab[id] = it.key();
        }
      }
    }
    if (tj.contains("added_tokens") && tj["added_tokens"].is_array())
      for (const auto& a : tj["added_tokens"])
        if (a.is_object() && a.contains("content") && a["content"].is_string())
          opt.never_split.push_back(a["content"].get<std::string>());
  }
  if (fs::exists(vocab_path)) return Tokenizer(Vocab::load(vocab_path), std::move(opt));
  if (!json_vocab.empty()) return Tokenizer(Vocab(std::move(json_vocab)), std::move(opt));
  throw InputError("tokenizer folder '" + dir.string() + "' has neither vocab.txt nor a WordPiece tokenizer.json");
}

std::vector<std::string> Tokenizer::tokenize(std::string_view text) const {
  std::vector<std::string> out;
  auto plain = [&](std::string_view seg) {
    if (seg.empty()) return;
    std::u32string norm = normalize(utf8_to_u32(seg), options_.normalizer);
    for (const auto& w : pre_tokenize(norm)) wordpiece(w, vocab_, options_.wordpiece, out);
  };
  // Special tokens are matched in the raw text, leftmost-longest, before normalisation
  // (tokenizers' AddedVocabulary), so "[MASK]" survives lowercasing and punctuation splitting.
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t best = std::string_view::npos;
    const std::string* hit = nullptr;
    for (const auto& u : unsplittable_) {
      std::size_t f = text.find(u, pos);
      if (f < best) best = f, hit = &u;  // longest first, so ties keep the longest
    }
    if (!hit) break;
    plain(text.substr(pos, best - pos));
    out.push_back(*hit);
    pos = best + hit->size();
  }
  if (pos < text.size()) plain(text.substr(pos));
  return out;
}

std::vector<std::int64_t> Tokenizer::convert_tokens_to_ids(const std::vector<std::string>& tokens) const {
  std::vector<std::int64_t> ids;
  ids.reserve(tokens.size());
  for (const auto& t : tokens) {
    std::int64_t id = vocab_.id(t);
    ids.push_back(id < 0 ? unk_id_ : id);
  }
  return ids;
}

bool Tokenizer::is_special(std::int64_t id) const {
  return id == pad_id_ || id == unk_id_ || id == cls_id_ || id == sep_id_ || id == mask_id_;
}

std::string Tokenizer::decode(const std::vector<std::int64_t>& ids, bool skip_special) const {
  std::string out;
  const std::string& prefix = options_.wordpiece.continuing_prefix;
  for (std::int64_t id : ids) {
    if (skip_special && is_special(id) && id != unk_id_) continue;
    const std::string& t = vocab_.token(id);
    if (!prefix.empty() && t.compare(0, prefix.size(), prefix) == 0 && !out.empty()) {
      out += t.substr(prefix.size());
    } else {
      if (!out.empty()) out += ' ';
      out += t;
    }
  }
  return out;
}

Encoded Tokenizer::encode(std::string_view text, std::size_t max_length, LongPolicy policy) const {
  return encode_ids(ids(text), max_length, policy);
}

Encoded Tokenizer::encode_ids(const std::vector<std::int64_t>& ids, std::size_t max_length, LongPolicy policy) const {
  if (max_length < 3) throw ConfigError("text.max_length: expected at least 3, got " + std::to_string(max_length));
  const std::size_t budget = max_length - 2;
  Encoded e;
  e.n_tokens = ids.size();
  auto make = [&](auto first, auto last, auto first2, auto last2) {
    EncodedChunk c;
    c.ids.reserve(max_length);
    c.ids.push_back(cls_id_);
    c.ids.insert(c.ids.end(), first, last);
    c.ids.insert(c.ids.end(), first2, last2);
    c.ids.push_back(sep_id_);
    c.attention_mask.assign(c.ids.size(), 1);
    c.ids.resize(max_length, pad_id_);
    c.attention_mask.resize(max_length, 0);
    c.token_type_ids.assign(max_length, 0);
    e.chunks.push_back(std::move(c));
  };
  const auto b = ids.begin(), end = ids.end();
  if (ids.size() <= budget) {
    make(b, end, end, end);
    return e;
  }
  switch (policy) {
    case LongPolicy::kTruncate:
      e.truncated = true;
      make(b, b + static_cast<std::ptrdiff_t>(budget), end, end);
      break;
    case LongPolicy::kHeadTail: {
      e.truncated = true;
      const std::size_t head = budget / 4, tail = budget - head;
      make(b, b + static_cast<std::ptrdiff_t>(head), end - static_cast<std::ptrdiff_t>(tail), end);
      break;
    }
    case LongPolicy::kChunks:
      for (std::size_t s = 0; s < ids.size(); s += budget) {
        std::size_t n = std::min(budget, ids.size() - s);
        make(b + static_cast<std::ptrdiff_t>(s), b + static_cast<std::ptrdiff_t>(s + n), end, end);
      }
      break;
  }
  return e;
}

void Tokenizer::save(const std::filesystem::path& dir) const {
  ensure_writable_dir(dir);
  vocab_.save(dir / "vocab.txt");
  nlohmann::ordered_json cfg;
  cfg["tokenizer_class"] = "BertTokenizer";
  cfg["do_lower_case"] = options_.normalizer.lowercase;
  if (options_.normalizer.strip_accents) cfg["strip_accents"] = *options_.normalizer.strip_accents;
  else cfg["strip_accents"] = nullptr;
  cfg["tokenize_chinese_chars"] = options_.normalizer.handle_chinese_chars;
  cfg["unk_token"] = options_.special.unk;
  cfg["sep_token"] = options_.special.sep;
  cfg["pad_token"] = options_.special.pad;
  cfg["cls_token"] = options_.special.cls;
  cfg["mask_token"] = options_.special.mask;
  cfg["model_max_length"] = options_.model_max_length;
  write_file_atomic(dir / "tokenizer_config.json", cfg.dump(2) + "\n");
}

}  // namespace cervirisk::text
