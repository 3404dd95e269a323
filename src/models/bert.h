// BERT (Devlin et al. 2019, "BERT: Pre-training of Deep Bidirectional Transformers", NAACL,
// DOI 10.18653/v1/N19-1423) laid out exactly as HuggingFace transformers' BertModel
// (modeling_bert.py): module and parameter names equal the HF state-dict keys
// ("encoder.layer.3.attention.self.query.weight"), post-LN encoder, erf GELU, tanh pooler, so
// an HF folder (config.json + model.safetensors [+ vocab.txt]) loads as is, with or without
// the "bert." prefix of BertForMaskedLM / BertForPreTraining checkpoints.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/choice.h"
#include "models/rng.h"
#include "models/weights.h"

namespace cervirisk::models {

struct BertConfig {
  std::int64_t vocab_size = 21128;  // bert-base-chinese
  std::int64_t hidden_size = 768;
  std::int64_t num_hidden_layers = 12;
  std::int64_t num_attention_heads = 12;
  std::int64_t intermediate_size = 3072;
  std::int64_t max_position_embeddings = 512;
  std::int64_t type_vocab_size = 2;
  std::int64_t pad_token_id = 0;
  double hidden_dropout_prob = 0.1;
  double attention_probs_dropout_prob = 0.1;
  double layer_norm_eps = 1e-12;
  double initializer_range = 0.02;
  std::string hidden_act = "gelu";  // "gelu" (erf) or "gelu_new" / "gelu_pytorch_tanh" (tanh approximation)

  // "cpu-small" (2 layers, hidden 128, 4 heads, intermediate 512) or "bert-base" (12/768/12/3072).
  static BertConfig preset(const std::string& name, std::int64_t vocab_size);
  // HF config.json. Unknown keys are ignored; unsupported values (model_type other than bert,
  // position_embedding_type other than absolute, another activation) throw ModelError.
  static BertConfig from_json_file(const std::filesystem::path& path);
  static BertConfig from_json_text(const std::string& json, const std::string& where = "config.json");
  std::string to_json() const;  // HF config.json (model_type "bert", architectures)
  void validate() const;        // throws ModelError
  std::int64_t head_dim() const { return hidden_size / num_attention_heads; }
};

// How a report becomes one vector (text.embedding): the pooler output of [CLS] (tanh(W h_CLS))
// or the mean of the last hidden states over real (unmasked) tokens.
enum class ReportEmbedding { kCls, kMean };
inline constexpr ChoiceNames<2> kReportEmbeddingNames{"cls", "mean"};
const char* report_embedding_name(ReportEmbedding e);
ReportEmbedding report_embedding_from_name(const std::string& name);  // throws ConfigError

struct BertResult {
  torch::Tensor sequence;                 // [B, T, H] last hidden states
  torch::Tensor pooled;                   // [B, H] tanh(dense(h_CLS))
  std::vector<torch::Tensor> attentions;  // per layer [B, heads, T, T] (empty unless asked)
};

class BertEmbeddingsImpl : public torch::nn::Module {
 public:
  explicit BertEmbeddingsImpl(const BertConfig& c);
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& token_type);
  torch::nn::Embedding word_embeddings{nullptr}, position_embeddings{nullptr}, token_type_embeddings{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};
  Dropout dropout{nullptr};
};
TORCH_MODULE(BertEmbeddings);

class BertSelfAttentionImpl : public torch::nn::Module {
 public:
  explicit BertSelfAttentionImpl(const BertConfig& c);
  // Returns the context [B, T, H] and the attention probabilities [B, heads, T, T].
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x, const torch::Tensor& additive_mask);
  torch::nn::Linear query{nullptr}, key{nullptr}, value{nullptr};
  Dropout dropout{nullptr};
  std::int64_t heads, head_dim;
};
TORCH_MODULE(BertSelfAttention);

// Dense + dropout + residual + LayerNorm (HF's BertSelfOutput and BertOutput).
class BertResidualImpl : public torch::nn::Module {
 public:
  BertResidualImpl(std::int64_t in, std::int64_t out, const BertConfig& c);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& residual);
  torch::nn::Linear dense{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};
  Dropout dropout{nullptr};
};
TORCH_MODULE(BertResidual);

class BertAttentionImpl : public torch::nn::Module {
 public:
  explicit BertAttentionImpl(const BertConfig& c);
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x, const torch::Tensor& additive_mask);
  BertSelfAttention self{nullptr};
  BertResidual output{nullptr};
};
TORCH_MODULE(BertAttention);

class BertIntermediateImpl : public torch::nn::Module {
 public:
  explicit BertIntermediateImpl(const BertConfig& c);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Linear dense{nullptr};
  bool tanh_gelu = false;
};
TORCH_MODULE(BertIntermediate);

class BertLayerImpl : public torch::nn::Module {
 public:
  explicit BertLayerImpl(const BertConfig& c);
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x, const torch::Tensor& additive_mask);
  BertAttention attention{nullptr};
  BertIntermediate intermediate{nullptr};
  BertResidual output{nullptr};
};
TORCH_MODULE(BertLayer);

class BertEncoderImpl : public torch::nn::Module {
 public:
  explicit BertEncoderImpl(const BertConfig& c);
  torch::nn::ModuleList layer{nullptr};
};
TORCH_MODULE(BertEncoder);

class BertPoolerImpl : public torch::nn::Module {
 public:
  explicit BertPoolerImpl(const BertConfig& c);
  torch::Tensor forward(const torch::Tensor& sequence);
  torch::nn::Linear dense{nullptr};
};
TORCH_MODULE(BertPooler);

// HF BertModel: named_parameters() are "embeddings.*", "encoder.layer.N.*", "pooler.dense.*".
class BertImpl : public torch::nn::Module {
 public:
  explicit BertImpl(BertConfig config);
  // ids, attention_mask (1 = token, 0 = padding; undefined = all tokens) and token_type_ids
  // (undefined = zeros), all [B, T] int64. Attention probabilities are kept when asked
  // (explanations); they cost B*heads*T*T floats per layer.
  BertResult forward(const torch::Tensor& ids, const torch::Tensor& attention_mask = {},
                     const torch::Tensor& token_type_ids = {}, bool keep_attentions = false);
  // One vector per row [B, H] (ReportEmbedding).
  torch::Tensor embed(const torch::Tensor& ids, const torch::Tensor& attention_mask,
                      const torch::Tensor& token_type_ids, ReportEmbedding kind);
  const BertConfig& config() const { return config_; }
  // HF's _init_weights: N(0, initializer_range) for Linear/Embedding weights, zero biases and
  // padding row, LayerNorm 1/0. Deterministic under torch::manual_seed.
  void init_weights();

  BertEmbeddings embeddings{nullptr};
  BertEncoder encoder{nullptr};
  BertPooler pooler{nullptr};

 private:
  BertConfig config_;
};
TORCH_MODULE(Bert);

// Rows of chunk embeddings [N, H] averaged per report: owner[i] = report index of chunk i.
torch::Tensor mean_by_owner(const torch::Tensor& chunk_embeddings, const std::vector<std::int64_t>& owner,
                            std::int64_t n_reports);

class BertPredictionTransformImpl : public torch::nn::Module {
 public:
  explicit BertPredictionTransformImpl(const BertConfig& c);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Linear dense{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};
  bool tanh_gelu = false;
};
TORCH_MODULE(BertPredictionTransform);

class BertLMPredictionHeadImpl : public torch::nn::Module {
 public:
  explicit BertLMPredictionHeadImpl(const BertConfig& c);
  torch::Tensor forward(const torch::Tensor& sequence, const torch::Tensor& word_embeddings);
  BertPredictionTransform transform{nullptr};
  torch::Tensor bias;
};
TORCH_MODULE(BertLMPredictionHead);

// HF's BertOnlyMLMHead (registered as "cls"): transform (dense, GELU, LayerNorm), then a
// decoder tied to the word embeddings plus a bias. named_parameters():
// "predictions.transform.dense.*", "predictions.transform.LayerNorm.*", "predictions.bias".
class BertLMHeadImpl : public torch::nn::Module {
 public:
  explicit BertLMHeadImpl(const BertConfig& c);
  // logits [.., V] from hidden states and the (tied) word-embedding matrix [V, H]
  torch::Tensor forward(const torch::Tensor& sequence, const torch::Tensor& word_embeddings);
  BertLMPredictionHead predictions{nullptr};
};
TORCH_MODULE(BertLMHead);

// HF BertForMaskedLM: "bert.*" and "cls.predictions.*". Shares the Bert it is given.
class BertForMaskedLMImpl : public torch::nn::Module {
 public:
  explicit BertForMaskedLMImpl(Bert bert);
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& attention_mask,
                        const torch::Tensor& token_type_ids = {});  // logits [B, T, V]
  Bert bert{nullptr};
  BertLMHead cls{nullptr};
};
TORCH_MODULE(BertForMaskedLM);

// Loading options for HF checkpoints: tries the "bert." prefix, maps TF-era names
// (LayerNorm.gamma/beta) and drops the position_ids buffer and tied decoder copies.
LoadOptions bert_load_options(bool strict);
// The safetensors file of an HF folder (model.safetensors) or the file itself.
std::filesystem::path bert_weights_file(const std::filesystem::path& dir_or_file);

struct BertCheckpoint {
  BertConfig config;
  Bert model{nullptr};
  WeightReport report;
};
// Builds the architecture from DIR/config.json and loads DIR/model.safetensors (strict: a
// missing or mis-shaped tensor throws ModelError listing them).
BertCheckpoint load_bert_pretrained(const std::filesystem::path& dir, bool strict = true);
// Loads weights into an existing model (file or folder); returns the report.
WeightReport load_bert_weights(Bert& model, const std::filesystem::path& dir_or_file, bool strict = true);
// For `cervirisk weights check --arch bert --weights DIR_OR_FILE`: builds the architecture from
// config.json (beside the file, or in the folder; without one: from the checkpoint's shapes)
// and compares, copying nothing.
WeightReport check_bert_checkpoint(const std::filesystem::path& dir_or_file);
// Infers a config from a state dict's shapes (vocab, hidden, layers, intermediate, positions,
// type vocab; heads = hidden/64, at least 1) when no config.json is at hand.
BertConfig infer_bert_config(const TensorMap& tensors);

// Writes DIR/config.json and DIR/model.safetensors in HF layout: BertModel keys, or
// BertForMaskedLM keys ("bert." + "cls.predictions.*") when a head is given.
void save_bert_pretrained(const std::filesystem::path& dir, Bert& model, BertLMHead head = nullptr,
                          const std::map<std::string, std::string>& metadata = {});

}  // namespace cervirisk::models
