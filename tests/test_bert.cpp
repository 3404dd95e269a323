// BERT tests. Parity fixture: tests/data/text/tiny_bert (config.json, model.safetensors and
// reference.safetensors), made by scripts/make_text_bert_reference.py: an independent torch.nn
// BERT in the HF layout (python3-torch 1.13), outputs computed in float64.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <set>

#include "cli_run.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "data/synth.h"
#include "io/safetensors.h"
#include "models/bert.h"
#include "models/mlm.h"
#include "test_util.h"
#include "text/vocab_builder.h"
#include "text_synth_reports.h"

namespace fs = std::filesystem;
using namespace cervirisk;
using namespace cervirisk::models;
using cervirisk::testing::run_cli;
using cervirisk::testing::Stderr;
using cervirisk::testing::TempDir;

namespace {
const fs::path kTiny = fs::path(CERV_TEST_DATA) / "text" / "tiny_bert";

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  EXPECT_EQ(a.sizes(), b.sizes());
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

struct Reference {
  TensorMap t;
  Reference() : t(read_safetensors(kTiny / "reference.safetensors")) {}
  const torch::Tensor& operator[](const std::string& k) const { return t.at(k); }
};
}  // namespace

TEST(Bert, ParameterNamesAreHfKeys) {
  torch::manual_seed(0);
  BertConfig c = BertConfig::from_json_file(kTiny / "config.json");
  Bert bert(c);
  std::set<std::string> mine;
  for (const auto& p : bert->named_parameters()) mine.insert(p.key());
  std::set<std::string> hf;
  for (const auto& [k, v] : read_safetensors(kTiny / "model.safetensors"))
    if (k.rfind("bert.", 0) == 0 && k != "bert.embeddings.position_ids") hf.insert(k.substr(5));
  EXPECT_EQ(mine, hf);
  EXPECT_TRUE(mine.count("encoder.layer.1.attention.self.query.weight"));
  BertForMaskedLM mlm{Bert(c)};
  std::set<std::string> mlm_keys;
  for (const auto& p : mlm->named_parameters()) mlm_keys.insert(p.key());
  EXPECT_TRUE(mlm_keys.count("cls.predictions.transform.LayerNorm.weight"));
  EXPECT_TRUE(mlm_keys.count("cls.predictions.bias"));
  EXPECT_TRUE(mlm_keys.count("bert.pooler.dense.bias"));
}

TEST(Bert, ForwardParityWithPythonReference) {
  Reference ref;
  BertCheckpoint ck = load_bert_pretrained(kTiny);  // "bert." prefixed keys
  EXPECT_TRUE(ck.report.missing.empty());
  EXPECT_TRUE(ck.report.mismatched.empty());
  // The MLM head is unexpected for a BertModel; position_ids and the tied decoder are dropped.
  for (const auto& u : ck.report.unexpected) EXPECT_EQ(u.rfind("cls.predictions.", 0), 0u) << u;
  Bert bert = ck.model;
  bert->eval();
  torch::NoGradGuard ng;
  BertResult r = bert(ref["input_ids"], ref["attention_mask"], ref["token_type_ids"], /*keep_attentions=*/true);
  double d_seq = max_abs_diff(r.sequence, ref["sequence_output"]);
  double d_pool = max_abs_diff(r.pooled, ref["pooled_output"]);
  EXPECT_LT(d_seq, 1e-5);
  EXPECT_LT(d_pool, 1e-5);
  ASSERT_EQ(r.attentions.size(), 2u);
  for (int l = 0; l < 2; ++l) EXPECT_LT(max_abs_diff(r.attentions[l], ref["attentions." + std::to_string(l)]), 1e-5);
  std::cout << "[parity] max |diff| sequence " << d_seq << ", pooled " << d_pool << "\n";
  // Outputs are not trivially flat (the test would be weak otherwise).
  EXPECT_GT(ref["sequence_output"].std().item<double>(), 0.5);

  // MLM head: a BertForMaskedLM loads the file with its own key names.
  BertForMaskedLM mlm{Bert(ck.config)};
  WeightReport wr = load_weights(*mlm, read_safetensors(kTiny / "model.safetensors"), bert_load_options(true));
  EXPECT_TRUE(wr.unexpected.empty()) << wr.summary();
  mlm->eval();
  double d_logits = max_abs_diff(mlm(ref["input_ids"], ref["attention_mask"], ref["token_type_ids"]), ref["mlm_logits"]);
  EXPECT_LT(d_logits, 1e-5);
  std::cout << "[parity] max |diff| mlm logits " << d_logits << "\n";
}

TEST(Bert, LoadsWithoutPrefixAndSavesSameLayout) {
  Reference ref;
  TempDir d("noprefix");
  TensorMap plain;
  for (const auto& [k, v] : read_safetensors(kTiny / "model.safetensors"))
    if (k.rfind("bert.", 0) == 0) plain[k.substr(5)] = v;
  write_safetensors(d / "model.safetensors", plain);
  fs::copy_file(kTiny / "config.json", d / "config.json");
  BertCheckpoint ck = load_bert_pretrained(d);
  EXPECT_TRUE(ck.report.unexpected.empty()) << ck.report.summary();
  ck.model->eval();
  torch::NoGradGuard ng;
  auto out1 = ck.model(ref["input_ids"], ref["attention_mask"], ref["token_type_ids"]).sequence;
  EXPECT_LT(max_abs_diff(out1, ref["sequence_output"]), 1e-5);

  // Save with an MLM head: BertForMaskedLM keys; reload gives the same outputs.
  BertForMaskedLM mlm{Bert(ck.config)};
  load_weights(*mlm, read_safetensors(kTiny / "model.safetensors"), bert_load_options(true));
  TempDir d2("saved");
  save_bert_pretrained(d2, mlm->bert, mlm->cls);
  std::set<std::string> saved, original;
  for (const auto& [k, v] : read_safetensors(d2 / "model.safetensors")) saved.insert(k);
  for (const auto& [k, v] : read_safetensors(kTiny / "model.safetensors"))
    if (k != "bert.embeddings.position_ids" && k.rfind("cls.predictions.decoder", 0) != 0) original.insert(k);
  EXPECT_EQ(saved, original);
  BertCheckpoint re = load_bert_pretrained(d2);
  re.model->eval();
  EXPECT_LT(max_abs_diff(re.model(ref["input_ids"], ref["attention_mask"], ref["token_type_ids"]).sequence,
                         ref["sequence_output"]), 1e-5);
  EXPECT_EQ(BertConfig::from_json_file(d2 / "config.json").intermediate_size, 48);
}

TEST(Bert, MismatchedCheckpointIsReportedByName) {
  TempDir d("mismatch");
  BertConfig c = BertConfig::from_json_file(kTiny / "config.json");
  c.intermediate_size = 40;
  write_file_atomic(d / "config.json", c.to_json());
  fs::copy_file(kTiny / "model.safetensors", d / "model.safetensors");
  try {
    load_bert_pretrained(d);
    ADD_FAILURE() << "no error";
  } catch (const ModelError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("encoder.layer.0.intermediate.dense.weight expected [40, 32] got [48, 32]"), std::string::npos) << m;
    EXPECT_NE(m.find("model.safetensors"), std::string::npos) << m;
  }
  WeightReport r = check_bert_checkpoint(d);
  EXPECT_EQ(r.mismatched.size(), 6u);  // intermediate weight + bias, output.dense weight; 2 layers
}

TEST(Bert, CheckWithoutConfigInfersShapes) {
  TempDir d("infer");
  fs::copy_file(kTiny / "model.safetensors", d / "model.safetensors");
  WeightReport r = check_bert_checkpoint(d / "model.safetensors");
  EXPECT_TRUE(r.ok()) << r.summary();
  EXPECT_EQ(r.parameter_count, parameter_count(*Bert(BertConfig::from_json_file(kTiny / "config.json"))));
  BertConfig c = infer_bert_config(read_safetensors(kTiny / "model.safetensors"));
  EXPECT_EQ(c.num_hidden_layers, 2);
  EXPECT_EQ(c.intermediate_size, 48);
  EXPECT_EQ(c.max_position_embeddings, 16);
}

TEST(Bert, ConfigErrorsNameTheKey) {
  try {
    BertConfig::from_json_text(R"({"hidden_size": 30, "num_attention_heads": 4})", "x/config.json");
    ADD_FAILURE();
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("x/config.json': hidden_size 30 is not a multiple of num_attention_heads 4"),
              std::string::npos) << e.what();
  }
  EXPECT_THROW(BertConfig::from_json_text(R"({"model_type": "roberta"})"), ModelError);
  EXPECT_THROW(BertConfig::from_json_text("{"), FormatError);
  EXPECT_THROW(BertConfig::preset("huge", 100), ConfigError);
  BertConfig s = BertConfig::preset("cpu-small", 1000);
  EXPECT_EQ(s.num_hidden_layers, 2);
  EXPECT_EQ(s.hidden_size, 128);
  auto rt = BertConfig::from_json_text(s.to_json());
  EXPECT_EQ(rt.intermediate_size, s.intermediate_size);
  EXPECT_EQ(rt.vocab_size, 1000);
}

TEST(Bert, AttentionIgnoresPaddingAndEmbeddings) {
  torch::manual_seed(3);
  BertConfig c = BertConfig::preset("cpu-small", 50);
  c.max_position_embeddings = 32;
  Bert bert(c);
  bert->eval();
  torch::NoGradGuard ng;
  auto ids = torch::randint(5, 50, {2, 10}, torch::kLong);
  auto mask = torch::ones({2, 10}, torch::kLong);
  mask[1].slice(0, 6).fill_(0);
  BertResult r = bert(ids, mask, torch::Tensor(), true);
  ASSERT_EQ(r.attentions.size(), 2u);
  EXPECT_EQ(r.attentions[0].sizes(), (std::vector<std::int64_t>{2, 4, 10, 10}));
  EXPECT_LT((r.attentions[1].sum(-1) - 1).abs().max().item<double>(), 1e-5);
  EXPECT_EQ(r.attentions[0][1].slice(-1, 6).abs().max().item<double>(), 0.0);
  // Padding content does not change real tokens' outputs.
  auto ids2 = ids.clone();
  ids2[1].slice(0, 6).fill_(7);
  auto r2 = bert(ids2, mask);
  EXPECT_LT(max_abs_diff(r.sequence[1].slice(0, 0, 6), r2.sequence[1].slice(0, 0, 6)), 1e-6);
  // Token-mean embedding = masked mean of the sequence output.
  auto mean = bert->embed(ids, mask, {}, ReportEmbedding::kMean);
  EXPECT_LT(max_abs_diff(mean[1], r.sequence[1].slice(0, 0, 6).mean(0)), 1e-6);
  EXPECT_LT(max_abs_diff(bert->embed(ids, mask, {}, ReportEmbedding::kCls), r.pooled), 1e-7);
  // Chunks of one report average.
  auto emb = torch::arange(6, torch::kFloat).view({3, 2});
  auto m = mean_by_owner(emb, {0, 0, 1}, 2);
  EXPECT_LT(max_abs_diff(m, torch::tensor({{1.0f, 2.0f}, {4.0f, 5.0f}})), 1e-7);
  EXPECT_THROW(bert(torch::zeros({1, 40}, torch::kLong)), ModelError);  // > max positions
}

TEST(Mlm, MaskingSkipsSpecialsAndPadding) {
  auto reports = cervirisk::testing::synth_reports(50, 1);
  text::Tokenizer tok(text::build_vocab(reports, 300), {});
  std::vector<std::vector<std::int64_t>> rows;
  auto e = tok.encode(reports[0], 64, text::LongPolicy::kTruncate);
  auto ids = torch::tensor(e.chunks[0].ids).view({1, -1});
  auto mask = torch::tensor(e.chunks[0].attention_mask).view({1, -1});
  std::mt19937_64 rng(5);
  double masked = 0, total = 0;
  for (int rep = 0; rep < 200; ++rep) {
    for (bool ww : {false, true}) {
      MaskedBatch mb = mask_tokens(ids, mask, tok, 0.15, ww, rng);
      auto lab = mb.labels[0];
      EXPECT_EQ(lab[0].item<std::int64_t>(), -100);  // [CLS]
      for (std::int64_t t = 0; t < ids.size(1); ++t) {
        std::int64_t l = lab[t].item<std::int64_t>();
        if (mask[0][t].item<std::int64_t>() == 0 || tok.is_special(ids[0][t].item<std::int64_t>())) {
          EXPECT_EQ(l, -100);
        }
        if (l != -100) {
          EXPECT_EQ(l, ids[0][t].item<std::int64_t>());
        } else {
          EXPECT_EQ(mb.input_ids[0][t].item<std::int64_t>(), ids[0][t].item<std::int64_t>());
        }
      }
      if (!ww) {
        masked += lab.ne(-100).sum().item<double>();
        total += mask.sum().item<double>() - 2;
      } else {
        // Whole words: a masked '##' piece has its preceding piece masked too.
        for (std::int64_t t = 2; t < ids.size(1); ++t) {
          const std::string& piece = tok.vocab().token(ids[0][t].item<std::int64_t>());
          if (piece.rfind("##", 0) == 0 && lab[t].item<std::int64_t>() != -100) {
            EXPECT_NE(lab[t - 1].item<std::int64_t>(), -100) << piece;
          }
        }
      }
    }
  }
  EXPECT_NEAR(masked / total, 0.15, 0.03);
}

// MLM pretraining lowers the held-out masked-token loss on synthetic reports.
TEST(Mlm, PretrainingLowersHeldOutLoss) {
  auto train = cervirisk::testing::synth_reports(240, 11);
  auto held = cervirisk::testing::synth_reports(60, 12);  // other seed: unseen reports
  text::Tokenizer tok(text::build_vocab(train, 400), {});
  // One intra-op thread: the numbers below are then reproducible, and OpenMP spin-waiting on a
  // shared 2-core CI machine slowed this test 15-fold with two.
  const int threads = torch::get_num_threads();
  torch::set_num_threads(1);
  torch::manual_seed(1);
  BertConfig c = BertConfig::preset("cpu-small", static_cast<std::int64_t>(tok.vocab().size()));
  c.hidden_size = 64;
  c.intermediate_size = 128;
  c.max_position_embeddings = 128;
  Bert bert(c);
  MlmOptions o;
  o.epochs = 8;
  o.batch_size = 8;
  o.max_length = 96;
  o.learning_rate = 4e-3;
  o.seed = 9;
  MlmResult r = pretrain_mlm(bert, tok, train, held, o);
  ASSERT_EQ(r.epochs.size(), static_cast<std::size_t>(o.epochs + 1));
  for (const auto& e : r.epochs)
    std::cout << "[mlm] epoch " << e.epoch << " train " << e.train_loss << " held-out " << e.held_out_loss
              << " acc " << e.held_out_accuracy << " (" << e.seconds << " s)\n";
  // Baseline without context: cross-entropy of the held-out tokens under the training
  // unigram frequencies (add-one smoothed). A model that only learnt token frequencies would
  // stop there; going below it means the context is used.
  std::vector<double> freq(tok.vocab().size(), 1.0);
  double total = static_cast<double>(freq.size());
  for (const auto& rep : train)
    for (auto id : tok.ids(rep)) freq[static_cast<std::size_t>(id)] += 1, total += 1;
  double unigram = 0, n = 0;
  for (const auto& rep : held)
    for (auto id : tok.ids(rep)) unigram -= std::log(freq[static_cast<std::size_t>(id)] / total), n += 1;
  unigram /= n;
  std::cout << "[mlm] unigram baseline on held-out tokens " << unigram << "\n";
  EXPECT_NEAR(r.epochs[0].held_out_loss, std::log(static_cast<double>(tok.vocab().size())), 1.0);
  EXPECT_LT(r.epochs.back().held_out_loss, 0.7 * r.epochs[0].held_out_loss);
  EXPECT_LT(r.epochs.back().held_out_loss, r.epochs[2].held_out_loss);
  EXPECT_LT(r.epochs.back().held_out_loss, unigram - 0.3);
  EXPECT_GT(r.epochs.back().held_out_accuracy, 10 * r.epochs[0].held_out_accuracy);
  // The pretrained encoder + head save and reload in the HF layout.
  TempDir d("mlm");
  save_bert_pretrained(d, bert, r.head);
  tok.save(d);
  BertCheckpoint ck = load_bert_pretrained(d);
  EXPECT_TRUE(ck.report.ok());
  EXPECT_TRUE(fs::exists(d / "vocab.txt"));
  torch::set_num_threads(threads);
}

TEST(Cli, PretrainTextWritesAnHfFolder) {
  TempDir d("cli");
  auto reports = cervirisk::testing::synth_reports(40, 21);
  std::string train, held;
  for (std::size_t i = 0; i < reports.size(); ++i) (i < 32 ? train : held) += reports[i] + "\n";
  write_file_atomic(d / "train.txt", train);
  write_file_atomic(d / "held.txt", held);
  auto r = run_cli("-q --threads 1 pretrain-text --reports " + (d / "train.txt").string() + " --held-out " +
                       (d / "held.txt").string() + " --out " + (d / "out").string() +
                       " --epochs 1 --vocab-size 200 --max-length 32 --whole-word",
                   Stderr::kMerged);
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* f : {"config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json", "pretrain_history.json"})
    EXPECT_TRUE(fs::exists(d / "out" / f)) << f;
  BertCheckpoint ck = load_bert_pretrained(d / "out");
  EXPECT_EQ(ck.config.num_hidden_layers, 2);
  auto tok = text::Tokenizer::from_pretrained(d / "out");
  EXPECT_EQ(static_cast<std::int64_t>(tok.vocab().size()), ck.config.vocab_size);
  // No reports: exit 3 naming the file.
  write_file_atomic(d / "empty.txt", "\n\n");
  r = run_cli("pretrain-text --reports " + (d / "empty.txt").string() + " --out " + (d / "out2").string(),
              Stderr::kMerged);
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.out.find("empty.txt"), std::string::npos);
}

TEST(Weights, ReadSafetensorsCopiesMisalignedTensors) {
  // In the fixture the F32 / I64 / F64 data sit at offsets that are not multiples of their
  // element size (bool and f16 before them have odd lengths).
  io::SafetensorsFile raw(fs::path(CERV_TEST_DATA) / "safetensors" / "dtypes.safetensors");
  EXPECT_NE(reinterpret_cast<std::uintptr_t>(raw.at("f32").data) % 4, 0u);
  TensorMap t = read_safetensors(fs::path(CERV_TEST_DATA) / "safetensors" / "dtypes.safetensors");
  EXPECT_EQ(t.at("f32").scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::equal(t.at("f32"), torch::tensor({0.1f, -7.5f, 65504.0f})));
  EXPECT_TRUE(torch::equal(t.at("i64"), torch::tensor({-(std::int64_t{1} << 62), std::int64_t{0}, (std::int64_t{1} << 53) + 1})));
  EXPECT_EQ(t.at("f64").scalar_type(), torch::kFloat64);
  EXPECT_EQ(t.at("f64")[1][1].item<double>(), 3.141592653589793);
  EXPECT_EQ(t.at("f16").scalar_type(), torch::kFloat32);
  EXPECT_EQ(t.at("bf16")[1].item<float>(), -3.5f);
  EXPECT_EQ(t.at("empty").sizes(), (std::vector<std::int64_t>{0, 3}));
  EXPECT_EQ(t.at("scalar").dim(), 0);
}

// The same on the cohort generator's reports (src/data/synth: Chinese and English house styles
// of three centres); held-out = every fifth patient's report.
TEST(Mlm, PretrainingLowersHeldOutLossOnCohortReports) {
  data::SynthOptions so;
  so.patients = 300;
  so.images = false;
  auto centers = data::center_profiles(so.centers, so.lang);
  std::vector<std::string> train, held;
  int i = 0;
  for (const auto& p : data::synth_biology(so, centers)) {
    std::string r = data::synth_report(p, centers[static_cast<std::size_t>(p.center)]);
    if (r.empty()) continue;
    (i++ % 5 == 4 ? held : train).push_back(r);
  }
  ASSERT_GT(held.size(), 30u);
  text::Tokenizer tok(text::build_vocab(train, 600), {});
  const int threads = torch::get_num_threads();
  torch::set_num_threads(1);
  torch::manual_seed(2);
  BertConfig c = BertConfig::preset("cpu-small", static_cast<std::int64_t>(tok.vocab().size()));
  c.hidden_size = 64;
  c.intermediate_size = 128;
  c.max_position_embeddings = 128;
  Bert bert(c);
  MlmOptions o;
  o.epochs = 6;
  o.batch_size = 8;
  o.max_length = 128;
  o.learning_rate = 4e-3;
  o.seed = 3;
  MlmResult r = pretrain_mlm(bert, tok, train, held, o);
  for (const auto& e : r.epochs)
    std::cout << "[mlm-cohort] epoch " << e.epoch << " train " << e.train_loss << " held-out " << e.held_out_loss
              << " acc " << e.held_out_accuracy << "\n";
  EXPECT_LT(r.epochs.back().held_out_loss, 0.75 * r.epochs[0].held_out_loss);
  EXPECT_LT(r.epochs.back().held_out_loss, r.epochs[2].held_out_loss);
  torch::set_num_threads(threads);
}
