// Tokenizer tests. Goldens: tests/data/text/tokenizer_goldens.jsonl, made by
// scripts/make_text_tokenizer_goldens.py with the independent Python reference
// scripts/text_reference_tokenizer.py (HF's BertNormalizer/BertPreTokenizer/WordPiece in
// plain Python + unicodedata 14.0, Python 3.11.2).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "cli_run.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "test_util.h"
#include "text/tokenizer.h"
#include "text/unicode.h"
#include "text/vocab_builder.h"
#include "text_synth_reports.h"

namespace fs = std::filesystem;
using namespace cervirisk;
using namespace cervirisk::text;
using cervirisk::testing::error_message;
using cervirisk::testing::run_cli;
using cervirisk::testing::Stderr;
using cervirisk::testing::TempDir;

namespace {
const fs::path kData = fs::path(CERV_TEST_DATA) / "text";

}  // namespace

TEST(TokenizerGoldens, IdenticalToPythonReference) {
  std::ifstream in(kData / "tokenizer_goldens.jsonl");
  ASSERT_TRUE(in) << "missing goldens";
  Vocab vocab = Vocab::load(kData / "vocab.txt");
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    TokenizerOptions opt;
    opt.normalizer.lowercase = j["lowercase"].get<bool>();
    if (!j["strip_accents"].is_null()) opt.normalizer.strip_accents = j["strip_accents"].get<bool>();
    Tokenizer tok(vocab, opt);
    const std::string text = j["text"].get<std::string>();
    EXPECT_EQ(tok.tokenize(text), j["tokens"].get<std::vector<std::string>>()) << j["name"];
    EXPECT_EQ(tok.ids(text), j["ids"].get<std::vector<std::int64_t>>()) << j["name"];
    ++n;
  }
  EXPECT_GE(n, 68);
}

TEST(Unicode, InvalidUtf8DecodesToReplacementAndIsDropped) {
  std::string bad = std::string("ab") + "\xC3" + "cd" + "\xFF" + "\xE5\xAE";  // truncated sequences
  auto u = utf8_to_u32(bad);
  EXPECT_EQ(std::count(u.begin(), u.end(), U'\uFFFD'), 3);
  EXPECT_EQ(u32_to_utf8(normalize(u, {})), "abcd");
  EXPECT_EQ(u32_to_utf8(utf8_to_u32("宫颈𠀀é")), "宫颈𠀀é");
}

TEST(Unicode, CharacterClassesFollowHf) {
  EXPECT_TRUE(is_punctuation(U'$'));      // ASCII symbol counts as punctuation in HF
  EXPECT_FALSE(is_punctuation(U'°'));     // So, not P*
  EXPECT_TRUE(is_punctuation(U'，'));     // Po
  EXPECT_TRUE(is_cjk(0x20000));
  EXPECT_FALSE(is_cjk(U'ひ'));
  EXPECT_TRUE(is_control(0x200B));        // Cf
  EXPECT_FALSE(is_control(U'\t'));
  EXPECT_TRUE(is_whitespace(0x3000));
  EXPECT_EQ(u32_to_utf8(lowercase(U"ΣİA")), "σi\xCC\x87" "a");
}

TEST(Tokenizer, MissingSpecialTokenIsRefusedByName) {
  std::string msg = error_message([] { Tokenizer(Vocab({"[PAD]", "[CLS]", "[SEP]", "[MASK]", "a"}), {}); },
                                  ExitCode::kIncompatibleModel);
  EXPECT_NE(msg.find("unknown token '[UNK]'"), std::string::npos) << msg;
}

TEST(Tokenizer, MissingVocabFileNamesThePath) {
  std::string msg = error_message([] { Tokenizer::from_vocab("/nonexistent/vocab.txt"); }, ExitCode::kInputMissing);
  EXPECT_NE(msg.find("/nonexistent/vocab.txt"), std::string::npos) << msg;
}

TEST(Vocab, DuplicateLineMapsToLastIdAsHf) {
  Vocab v({"[PAD]", "a", "b", "a"});
  EXPECT_EQ(v.id("a"), 3);
  EXPECT_EQ(v.id("zz"), -1);
  EXPECT_EQ(v.size(), 4u);
}

TEST(Encode, ClsSepPaddingAndMask) {
  auto tok = Tokenizer::from_vocab(kData / "vocab.txt");
  Encoded e = tok.encode("宫颈癌", 8, LongPolicy::kHeadTail);
  ASSERT_EQ(e.chunks.size(), 1u);
  const auto& c = e.chunks[0];
  auto ids = tok.ids("宫颈癌");
  std::vector<std::int64_t> expect = {tok.cls_id(), ids[0], ids[1], ids[2], tok.sep_id(), tok.pad_id(), tok.pad_id(), tok.pad_id()};
  EXPECT_EQ(c.ids, expect);
  EXPECT_EQ(c.attention_mask, (std::vector<std::int64_t>{1, 1, 1, 1, 1, 0, 0, 0}));
  EXPECT_EQ(c.token_type_ids, std::vector<std::int64_t>(8, 0));
  EXPECT_FALSE(e.truncated);
  EXPECT_EQ(e.n_tokens, 3u);
  // Exactly full: no padding, no truncation.
  Encoded full = tok.encode("宫颈癌", 5, LongPolicy::kTruncate);
  EXPECT_EQ(full.chunks[0].attention_mask, std::vector<std::int64_t>(5, 1));
  EXPECT_FALSE(full.truncated);
}

TEST(Encode, LongReportPolicies) {
  auto tok = Tokenizer::from_vocab(kData / "vocab.txt");
  std::vector<std::int64_t> ids(50);
  for (int i = 0; i < 50; ++i) ids[i] = 100 + i;
  const std::size_t L = 18;  // budget 16
  Encoded t = tok.encode_ids(ids, L, LongPolicy::kTruncate);
  ASSERT_EQ(t.chunks.size(), 1u);
  EXPECT_TRUE(t.truncated);
  EXPECT_EQ(t.chunks[0].ids[1], 100);
  EXPECT_EQ(t.chunks[0].ids[16], 115);
  EXPECT_EQ(t.chunks[0].ids[17], tok.sep_id());

  Encoded ht = tok.encode_ids(ids, L, LongPolicy::kHeadTail);
  ASSERT_EQ(ht.chunks.size(), 1u);
  const auto& h = ht.chunks[0].ids;
  // head = 16/4 = 4 tokens (100..103), tail = 12 tokens (138..149)
  EXPECT_EQ(h[0], tok.cls_id());
  EXPECT_EQ(std::vector<std::int64_t>(h.begin() + 1, h.begin() + 5), (std::vector<std::int64_t>{100, 101, 102, 103}));
  EXPECT_EQ(h[5], 138);
  EXPECT_EQ(h[16], 149);
  EXPECT_EQ(h[17], tok.sep_id());
  EXPECT_EQ(ht.chunks[0].attention_mask, std::vector<std::int64_t>(L, 1));

  Encoded ch = tok.encode_ids(ids, L, LongPolicy::kChunks);
  ASSERT_EQ(ch.chunks.size(), 4u);  // 16 + 16 + 16 + 2
  EXPECT_FALSE(ch.truncated);
  std::vector<std::int64_t> covered;
  for (const auto& c : ch.chunks) {
    ASSERT_EQ(c.ids.size(), L);
    EXPECT_EQ(c.ids[0], tok.cls_id());
    for (std::size_t i = 1; i < L && c.attention_mask[i] == 1; ++i)
      if (c.ids[i] != tok.sep_id()) covered.push_back(c.ids[i]);
  }
  EXPECT_EQ(covered, ids);
  EXPECT_EQ(ch.chunks[3].attention_mask[3], 1);  // [CLS] a b [SEP]
  EXPECT_EQ(ch.chunks[3].attention_mask[4], 0);

  std::string msg = error_message([&] { tok.encode_ids(ids, 2, LongPolicy::kChunks); }, ExitCode::kBadArguments);
  EXPECT_NE(msg.find("at least 3"), std::string::npos);
  EXPECT_EQ(long_policy_from_name("chunks"), LongPolicy::kChunks);
  EXPECT_THROW(long_policy_from_name("middle"), ConfigError);
}

TEST(Tokenizer, DecodeJoinsContinuations) {
  auto tok = Tokenizer::from_vocab(kData / "vocab.txt");
  EXPECT_EQ(tok.decode(tok.ids("cervical tumors")), "cervical tumors");
  Encoded e = tok.encode("MRI 宫颈", 10);
  EXPECT_EQ(tok.decode(e.chunks[0].ids), "mri 宫 颈");
}

TEST(FromPretrained, TokenizerConfigSetsCasing) {
  TempDir d("cfg");
  fs::copy_file(kData / "vocab.txt", d / "vocab.txt");
  write_file_atomic(d / "tokenizer_config.json",
                    R"({"do_lower_case": false, "model_max_length": 1000000000000000019884624838656,
                        "unk_token": {"content": "[UNK]", "lstrip": false}})");
  auto tok = Tokenizer::from_pretrained(d);
  EXPECT_FALSE(tok.options().normalizer.lowercase);
  EXPECT_EQ(tok.options().model_max_length, 512);  // HF's "no limit" sentinel ignored
  EXPECT_EQ(tok.tokenize("The Tumor"), (std::vector<std::string>{"The", "Tumor"}));
  // Saving and reloading keeps the settings.
  TempDir d2("cfg2");
  tok.save(d2);
  auto tok2 = Tokenizer::from_pretrained(d2);
  EXPECT_FALSE(tok2.options().normalizer.lowercase);
  EXPECT_EQ(tok2.vocab().tokens(), tok.vocab().tokens());
}

TEST(FromPretrained, TokenizerJsonOverridesAndVocabFromJson) {
  TempDir d("tj");
  write_file_atomic(d / "tokenizer_config.json", R"({"do_lower_case": true})");
  write_file_atomic(d / "tokenizer.json", R"({
    "added_tokens": [{"id": 5, "content": "<NUM>", "special": true}],
    "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                   "strip_accents": null, "lowercase": false},
    "pre_tokenizer": {"type": "BertPreTokenizer"},
    "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
              "max_input_chars_per_word": 5,
              "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4, "<NUM>": 5,
                        "Tu": 6, "##mor": 7, "tumor": 8, "宫": 9}}})");
  auto tok = Tokenizer::from_pretrained(d);
  EXPECT_EQ(tok.vocab().size(), 10u);
  EXPECT_EQ(tok.tokenize("Tumor tumor<NUM>宫 tumors"),
            (std::vector<std::string>{"Tu", "##mor", "tumor", "<NUM>", "宫", "[UNK]"}));  // 6 chars > 5
  write_file_atomic(d / "tokenizer.json", R"({"model": {"type": "BPE", "vocab": {}}})");
  std::string msg = error_message([&] { Tokenizer::from_pretrained(d); }, ExitCode::kIncompatibleModel);
  EXPECT_NE(msg.find("model type 'BPE'"), std::string::npos) << msg;
  write_file_atomic(d / "tokenizer.json", "{not json");
  msg = error_message([&] { Tokenizer::from_pretrained(d); }, ExitCode::kCorruptInput);
  EXPECT_NE(msg.find("tokenizer.json"), std::string::npos) << msg;
}

TEST(VocabBuilder, CjkCharactersAndFrequentLatinWords) {
  auto reports = cervirisk::testing::synth_reports(300, 7);
  Vocab v = build_vocab(reports, 400);
  EXPECT_LE(v.size(), 400u);
  EXPECT_GE(v.size(), 200u);
  EXPECT_EQ(v.token(0), "[PAD]");
  EXPECT_EQ(v.token(1), "[UNK]");
  EXPECT_EQ(v.token(4), "[MASK]");
  for (const char* t : {"宫", "颈", "信", "号", "the", "signal", "lymph"}) EXPECT_TRUE(v.contains(t)) << t;
  // No multi-character CJK token: the normaliser splits ideographs.
  for (const auto& t : v.tokens()) {
    auto u = utf8_to_u32(t);
    if (u.size() > 1) {
      for (char32_t c : u) EXPECT_FALSE(is_cjk(c)) << t;
    }
  }
  // The training reports tokenise without [UNK] and more compactly than characters.
  Tokenizer tok(v, {});
  std::size_t n_tokens = 0, n_unk = 0, n_chars = 0;
  for (const auto& r : reports) {
    auto ids = tok.ids(r);
    n_tokens += ids.size();
    n_unk += static_cast<std::size_t>(std::count(ids.begin(), ids.end(), tok.unk_id()));
    n_chars += utf8_to_u32(r).size();
  }
  EXPECT_EQ(n_unk, 0u);
  EXPECT_LT(static_cast<double>(n_tokens), 0.8 * static_cast<double>(n_chars));
  // Deterministic.
  EXPECT_EQ(build_vocab(reports, 400).tokens(), v.tokens());
  // Held-out reports from another seed: few unknowns.
  EXPECT_THROW(build_vocab(reports, 3), ConfigError);
}

TEST(Cli, TokenizeJsonOutput) {
  auto r = run_cli("tokenize --vocab " + (kData / "vocab.txt").string() + " --json 'MRI示宫颈癌' 'Café tumors'",
                   Stderr::kMerged);
  ASSERT_EQ(r.code, 0) << r.out;
  std::istringstream lines(r.out);
  std::string l1, l2;
  std::getline(lines, l1);
  std::getline(lines, l2);
  auto j1 = nlohmann::json::parse(l1), j2 = nlohmann::json::parse(l2);
  EXPECT_EQ(j1["text"], "MRI示宫颈癌");
  EXPECT_EQ(j1["tokens"], (std::vector<std::string>{"mri", "示", "宫", "颈", "癌"}));
  auto tok = Tokenizer::from_vocab(kData / "vocab.txt");
  EXPECT_EQ(j1["ids"].get<std::vector<std::int64_t>>(), tok.ids("MRI示宫颈癌"));
  EXPECT_EQ(j2["tokens"], (std::vector<std::string>{"cafe", "tumor", "##s"}));
  // --special adds [CLS]/[SEP]; --no-lowercase keeps case (accents then kept too).
  r = run_cli("tokenize --vocab " + (kData / "vocab.txt").string() + " --json --special --no-lowercase 'Café'",
              Stderr::kMerged);
  ASSERT_EQ(r.code, 0) << r.out;
  auto j3 = nlohmann::json::parse(r.out);
  EXPECT_EQ(j3["tokens"], (std::vector<std::string>{"[CLS]", "Café", "[SEP]"}));
  // A missing vocabulary exits 3 with the path.
  r = run_cli("tokenize --vocab /nonexistent/v.txt x", Stderr::kMerged);
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.out.find("/nonexistent/v.txt"), std::string::npos);
}
