#include "models/bert.h"

#include <cmath>
#include <limits>
#include <type_traits>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/fields.h"
#include "core/log.h"
#include "core/torch_compat.h"

namespace cervirisk::models {

namespace {
bool is_tanh_gelu(const std::string& act) { return act == "gelu_new" || act == "gelu_pytorch_tanh"; }

torch::Tensor gelu(const torch::Tensor& x, bool tanh_approx) {
  // HF "gelu" is the exact erf form; "gelu_new" the tanh approximation (Hendrycks & Gimpel 2016,
  // arXiv:1606.08415).
  return tanh_approx ? torch::gelu(x, "tanh") : torch::gelu(x);
}

torch::nn::LayerNorm layer_norm(const BertConfig& c) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps));
}

// The config.json keys, in the order HF's BertConfig writes them; to_json writes and
// from_json_text reads this one list. C is BertConfig or const BertConfig.
template <typename C, typename F>
void hf_fields(C& c, F&& f) {
  for_each_field(f, field("vocab_size", c.vocab_size), field("hidden_size", c.hidden_size),
                 field("num_hidden_layers", c.num_hidden_layers), field("num_attention_heads", c.num_attention_heads),
                 field("intermediate_size", c.intermediate_size), field("hidden_act", c.hidden_act),
                 field("hidden_dropout_prob", c.hidden_dropout_prob),
                 field("attention_probs_dropout_prob", c.attention_probs_dropout_prob),
                 field("max_position_embeddings", c.max_position_embeddings),
                 field("type_vocab_size", c.type_vocab_size), field("initializer_range", c.initializer_range),
                 field("layer_norm_eps", c.layer_norm_eps), field("pad_token_id", c.pad_token_id));
}
}  // namespace

// ---------------------------------------------------------------------------------------------
// Config

BertConfig BertConfig::preset(const std::string& name, std::int64_t vocab_size) {
  BertConfig c;
  c.vocab_size = vocab_size;
  if (name == "cpu-small") {
    c.hidden_size = 128;
    c.num_hidden_layers = 2;
    c.num_attention_heads = 4;
    c.intermediate_size = 512;
  } else if (name == "bert-base" || name == "paper") {
    // defaults are bert-base
  } else {
    throw ConfigError("unknown BERT preset '" + name + "' (expected cpu-small or bert-base)");
  }
  return c;
}

BertConfig BertConfig::from_json_file(const std::filesystem::path& path) {
  return from_json_text(read_file(path), path.string());
}

BertConfig BertConfig::from_json_text(const std::string& text, const std::string& where) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw FormatError("'" + where + "' is not valid JSON: " + e.what());
  }
  if (!j.is_object()) throw FormatError("'" + where + "' is not a JSON object");
  if (j.contains("model_type") && j["model_type"].is_string() && j["model_type"] != "bert")
    throw ModelError("'" + where + "': model_type '" + j["model_type"].get<std::string>() + "' is not bert");
  if (j.contains("position_embedding_type") && j["position_embedding_type"].is_string() &&
      j["position_embedding_type"] != "absolute")
    throw ModelError("'" + where + "': position_embedding_type '" + j["position_embedding_type"].get<std::string>() +
                     "' is not supported (expected absolute)");
  BertConfig c;
  hf_fields(c, [&](const char* k, auto& v) {
    using T = std::decay_t<decltype(v)>;
    if (!j.contains(k) || j[k].is_null()) return;
    if constexpr (std::is_same_v<T, std::string>) {
      if (j[k].is_string()) v = j[k].get<std::string>();  // another type: keep the default
    } else if constexpr (std::is_integral_v<T>) {
      if (!j[k].is_number_integer()) throw FormatError("'" + where + "': " + k + " must be an integer");
      v = j[k].get<T>();
    } else {
      if (!j[k].is_number()) throw FormatError("'" + where + "': " + k + " must be a number");
      v = j[k].get<T>();
    }
  });
  try {
    c.validate();
  } catch (const ModelError& e) {
    throw ModelError("'" + where + "': " + e.what());
  }
  return c;
}

std::string BertConfig::to_json() const {
  nlohmann::ordered_json j;
  j["architectures"] = {"BertModel"};
  j["model_type"] = "bert";
  hf_fields(*this, [&j](const char* k, const auto& v) { j[k] = v; });
  j["position_embedding_type"] = "absolute";
  return j.dump(2) + "\n";
}

void BertConfig::validate() const {
  auto positive = [](std::int64_t v, const char* k) {
    if (v <= 0) throw ModelError(std::string(k) + " must be positive, got " + std::to_string(v));
  };
  positive(vocab_size, "vocab_size");
  positive(hidden_size, "hidden_size");
  positive(num_hidden_layers, "num_hidden_layers");
  positive(num_attention_heads, "num_attention_heads");
  positive(intermediate_size, "intermediate_size");
  positive(max_position_embeddings, "max_position_embeddings");
  positive(type_vocab_size, "type_vocab_size");
  if (hidden_size % num_attention_heads != 0)
    throw ModelError("hidden_size " + std::to_string(hidden_size) + " is not a multiple of num_attention_heads " +
                     std::to_string(num_attention_heads));
  if (hidden_act != "gelu" && !is_tanh_gelu(hidden_act))
    throw ModelError("hidden_act '" + hidden_act + "' is not supported (gelu, gelu_new, gelu_pytorch_tanh)");
  if (pad_token_id < 0 || pad_token_id >= vocab_size)
    throw ModelError("pad_token_id " + std::to_string(pad_token_id) + " outside the vocabulary");
}

const char* report_embedding_name(ReportEmbedding e) { return choice_name(kReportEmbeddingNames, e); }

ReportEmbedding report_embedding_from_name(const std::string& name) {
  return parse_choice<ReportEmbedding>(kReportEmbeddingNames, name, "text.embedding");
}

// ---------------------------------------------------------------------------------------------
// Modules

BertEmbeddingsImpl::BertEmbeddingsImpl(const BertConfig& c) {
  word_embeddings = register_module(
      "word_embeddings", torch::nn::Embedding(torch::nn::EmbeddingOptions(c.vocab_size, c.hidden_size).padding_idx(c.pad_token_id)));
  position_embeddings =
      register_module("position_embeddings", torch::nn::Embedding(c.max_position_embeddings, c.hidden_size));
  token_type_embeddings = register_module("token_type_embeddings", torch::nn::Embedding(c.type_vocab_size, c.hidden_size));
  LayerNorm = register_module("LayerNorm", layer_norm(c));
  dropout = register_module("dropout", Dropout(c.hidden_dropout_prob));
}

torch::Tensor BertEmbeddingsImpl::forward(const torch::Tensor& ids, const torch::Tensor& token_type) {
  const std::int64_t T = ids.size(1);
  if (T > position_embeddings->weight.size(0))
    throw ModelError("sequence of " + std::to_string(T) + " tokens exceeds max_position_embeddings " +
                     std::to_string(position_embeddings->weight.size(0)));
  auto pos = torch::arange(T, ids.options().dtype(torch::kLong)).unsqueeze(0);
  auto x = word_embeddings(ids) + token_type_embeddings(token_type) + position_embeddings(pos);
  return dropout(LayerNorm(x));
}

BertSelfAttentionImpl::BertSelfAttentionImpl(const BertConfig& c)
    : heads(c.num_attention_heads), head_dim(c.head_dim()) {
  query = register_module("query", torch::nn::Linear(c.hidden_size, c.hidden_size));
  key = register_module("key", torch::nn::Linear(c.hidden_size, c.hidden_size));
  value = register_module("value", torch::nn::Linear(c.hidden_size, c.hidden_size));
  dropout = register_module("dropout", Dropout(c.attention_probs_dropout_prob));
}

std::pair<torch::Tensor, torch::Tensor> BertSelfAttentionImpl::forward(const torch::Tensor& x,
                                                                       const torch::Tensor& additive_mask) {
  const auto B = x.size(0), T = x.size(1);
  auto split = [&](const torch::Tensor& t) { return t.view({B, T, heads, head_dim}).transpose(1, 2); };
  auto q = split(query(x)), k = split(key(x)), v = split(value(x));
  torch::Tensor ctx, probs;
  if (is_training() && dropout->p > 0) {
    // Dropout acts on the probabilities before they weight the values (HF), so the fused
    // helper (which returns undropped probabilities with its context) is not used here.
    auto scores = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(head_dim));
    if (additive_mask.defined()) scores = scores + additive_mask;
    probs = torch::softmax(scores, -1);
    ctx = torch::matmul(dropout(probs), v);
  } else {
    std::tie(ctx, probs) = compat::attention_with_probs(q, k, v, additive_mask);
  }
  ctx = ctx.transpose(1, 2).contiguous().view({B, T, heads * head_dim});
  return {ctx, probs};
}

BertResidualImpl::BertResidualImpl(std::int64_t in, std::int64_t out, const BertConfig& c) {
  dense = register_module("dense", torch::nn::Linear(in, out));
  LayerNorm = register_module("LayerNorm", layer_norm(c));
  dropout = register_module("dropout", Dropout(c.hidden_dropout_prob));
}

torch::Tensor BertResidualImpl::forward(const torch::Tensor& x, const torch::Tensor& residual) {
  return LayerNorm(dropout(dense(x)) + residual);
}

BertAttentionImpl::BertAttentionImpl(const BertConfig& c) {
  self = register_module("self", BertSelfAttention(c));
  output = register_module("output", BertResidual(c.hidden_size, c.hidden_size, c));
}

std::pair<torch::Tensor, torch::Tensor> BertAttentionImpl::forward(const torch::Tensor& x,
                                                                   const torch::Tensor& additive_mask) {
  auto [ctx, probs] = self(x, additive_mask);
  return {output(ctx, x), probs};
}

BertIntermediateImpl::BertIntermediateImpl(const BertConfig& c) : tanh_gelu(is_tanh_gelu(c.hidden_act)) {
  dense = register_module("dense", torch::nn::Linear(c.hidden_size, c.intermediate_size));
}

torch::Tensor BertIntermediateImpl::forward(const torch::Tensor& x) { return gelu(dense(x), tanh_gelu); }

BertLayerImpl::BertLayerImpl(const BertConfig& c) {
  attention = register_module("attention", BertAttention(c));
  intermediate = register_module("intermediate", BertIntermediate(c));
  output = register_module("output", BertResidual(c.intermediate_size, c.hidden_size, c));
}

std::pair<torch::Tensor, torch::Tensor> BertLayerImpl::forward(const torch::Tensor& x,
                                                               const torch::Tensor& additive_mask) {
  auto [a, probs] = attention(x, additive_mask);
  return {output(intermediate(a), a), probs};
}

BertEncoderImpl::BertEncoderImpl(const BertConfig& c) {
  layer = register_module("layer", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < c.num_hidden_layers; ++i) layer->push_back(BertLayer(c));
}

BertPoolerImpl::BertPoolerImpl(const BertConfig& c) {
  dense = register_module("dense", torch::nn::Linear(c.hidden_size, c.hidden_size));
}

torch::Tensor BertPoolerImpl::forward(const torch::Tensor& sequence) {
  return torch::tanh(dense(sequence.select(1, 0)));
}

BertImpl::BertImpl(BertConfig config) : config_(std::move(config)) {
  config_.validate();
  embeddings = register_module("embeddings", BertEmbeddings(config_));
  encoder = register_module("encoder", BertEncoder(config_));
  pooler = register_module("pooler", BertPooler(config_));
  init_weights();
}

void BertImpl::init_weights() {
  torch::NoGradGuard no_grad;
  for (auto& m : modules(/*include_self=*/false)) {
    if (auto* lin = m->as<torch::nn::Linear>()) {
      lin->weight.normal_(0.0, config_.initializer_range);
      if (lin->bias.defined()) lin->bias.zero_();
    } else if (auto* emb = m->as<torch::nn::Embedding>()) {
      emb->weight.normal_(0.0, config_.initializer_range);
      if (auto p = emb->options.padding_idx()) emb->weight[*p].zero_();
    } else if (auto* ln = m->as<torch::nn::LayerNorm>()) {
      ln->weight.fill_(1.0);
      ln->bias.zero_();
    }
  }
}

BertResult BertImpl::forward(const torch::Tensor& ids, const torch::Tensor& attention_mask,
                             const torch::Tensor& token_type_ids, bool keep_attentions) {
  if (ids.dim() != 2) throw ModelError("BERT input ids must be [batch, tokens], got " + std::to_string(ids.dim()) + " dims");
  torch::Tensor tt = token_type_ids.defined() ? token_type_ids : torch::zeros_like(ids);
  torch::Tensor x = embeddings(ids, tt);
  torch::Tensor additive;
  if (attention_mask.defined()) {
    // Padding gets the dtype's lowest value before the softmax (HF's get_extended_attention_mask).
    auto m = attention_mask.to(x.dtype()).unsqueeze(1).unsqueeze(2);
    additive = (1.0 - m) * std::numeric_limits<float>::lowest();
  }
  BertResult r;
  for (const auto& layer : *encoder->layer) {
    auto [y, probs] = layer->as<BertLayerImpl>()->forward(x, additive);
    x = y;
    if (keep_attentions) r.attentions.push_back(probs);
  }
  r.sequence = x;
  r.pooled = pooler(x);
  return r;
}

torch::Tensor BertImpl::embed(const torch::Tensor& ids, const torch::Tensor& attention_mask,
                              const torch::Tensor& token_type_ids, ReportEmbedding kind) {
  BertResult r = forward(ids, attention_mask, token_type_ids, false);
  if (kind == ReportEmbedding::kCls) return r.pooled;
  torch::Tensor m = attention_mask.defined() ? attention_mask.to(r.sequence.dtype()).unsqueeze(-1)
                                             : torch::ones({ids.size(0), ids.size(1), 1}, r.sequence.options());
  return (r.sequence * m).sum(1) / m.sum(1).clamp_min(1.0);
}

torch::Tensor mean_by_owner(const torch::Tensor& chunk_embeddings, const std::vector<std::int64_t>& owner,
                            std::int64_t n_reports) {
  if (static_cast<std::int64_t>(owner.size()) != chunk_embeddings.size(0))
    throw Error(ExitCode::kFailure, "mean_by_owner: " + std::to_string(owner.size()) + " owners for " +
                                        std::to_string(chunk_embeddings.size(0)) + " chunks");
  auto idx = torch::tensor(owner, torch::kLong).to(chunk_embeddings.device());
  auto sum = torch::zeros({n_reports, chunk_embeddings.size(1)}, chunk_embeddings.options()).index_add(0, idx, chunk_embeddings);
  auto cnt = torch::zeros({n_reports}, chunk_embeddings.options()).index_add(0, idx, torch::ones_like(idx, chunk_embeddings.options()));
  return sum / cnt.clamp_min(1.0).unsqueeze(1);
}

BertPredictionTransformImpl::BertPredictionTransformImpl(const BertConfig& c) : tanh_gelu(is_tanh_gelu(c.hidden_act)) {
  dense = register_module("dense", torch::nn::Linear(c.hidden_size, c.hidden_size));
  LayerNorm = register_module("LayerNorm", layer_norm(c));
  torch::NoGradGuard no_grad;
  dense->weight.normal_(0.0, c.initializer_range);
  dense->bias.zero_();
}

torch::Tensor BertPredictionTransformImpl::forward(const torch::Tensor& x) { return LayerNorm(gelu(dense(x), tanh_gelu)); }

BertLMPredictionHeadImpl::BertLMPredictionHeadImpl(const BertConfig& c) {
  transform = register_module("transform", BertPredictionTransform(c));
  bias = register_parameter("bias", torch::zeros({c.vocab_size}));
}

torch::Tensor BertLMPredictionHeadImpl::forward(const torch::Tensor& sequence, const torch::Tensor& word_embeddings) {
  return torch::nn::functional::linear(transform(sequence), word_embeddings, bias);
}

BertLMHeadImpl::BertLMHeadImpl(const BertConfig& c) { predictions = register_module("predictions", BertLMPredictionHead(c)); }

torch::Tensor BertLMHeadImpl::forward(const torch::Tensor& sequence, const torch::Tensor& word_embeddings) {
  return predictions(sequence, word_embeddings);
}

BertForMaskedLMImpl::BertForMaskedLMImpl(Bert b) {
  bert = register_module("bert", std::move(b));
  cls = register_module("cls", BertLMHead(bert->config()));
}

torch::Tensor BertForMaskedLMImpl::forward(const torch::Tensor& ids, const torch::Tensor& attention_mask,
                                           const torch::Tensor& token_type_ids) {
  BertResult r = bert(ids, attention_mask, token_type_ids, false);
  return cls(r.sequence, bert->embeddings->word_embeddings->weight);
}

// ---------------------------------------------------------------------------------------------
// Checkpoints

LoadOptions bert_load_options(bool strict) {
  LoadOptions o;
  o.checkpoint_prefixes = {"bert."};
  o.strict = strict;
  o.rename = [](const std::string& k) -> std::string {
    auto ends_with = [&](const std::string& s) { return k.size() >= s.size() && k.compare(k.size() - s.size(), s.size(), s) == 0; };
    // A buffer in older checkpoints, not a weight; the tied decoder duplicates the word
    // embeddings and the prediction bias.
    if (ends_with("embeddings.position_ids")) return "";
    if (ends_with("cls.predictions.decoder.weight") || ends_with("cls.predictions.decoder.bias")) return "";
    // TF-era names (HF's _load_state_dict_into_model renames them the same way).
    if (ends_with("LayerNorm.gamma")) return k.substr(0, k.size() - 5) + "weight";
    if (ends_with("LayerNorm.beta")) return k.substr(0, k.size() - 4) + "bias";
    return k;
  };
  return o;
}

std::filesystem::path bert_weights_file(const std::filesystem::path& p) {
  namespace fs = std::filesystem;
  if (fs::is_directory(p)) {
    if (fs::exists(p / "model.safetensors")) return p / "model.safetensors";
    if (fs::exists(p / "pytorch_model.bin"))
      throw ModelError("'" + p.string() + "' holds pytorch_model.bin (pickle), which is not read; convert it to "
                       "model.safetensors (e.g. with the safetensors convert script)");
    throw InputError("'" + p.string() + "' has no model.safetensors");
  }
  if (!fs::exists(p)) throw InputError("checkpoint '" + p.string() + "' does not exist");
  return p;
}

WeightReport load_bert_weights(Bert& model, const std::filesystem::path& dir_or_file, bool strict) {
  auto file = bert_weights_file(dir_or_file);
  TensorMap t = read_safetensors(file);
  try {
    WeightReport r = load_weights(*model, t, bert_load_options(strict));
    log::info("loaded BERT weights from {}: {}", file.string(), r.summary(5));
    return r;
  } catch (const ModelError& e) {
    throw ModelError("'" + file.string() + "': " + e.what());
  }
}

BertCheckpoint load_bert_pretrained(const std::filesystem::path& dir, bool strict) {
  namespace fs = std::filesystem;
  if (!fs::exists(dir / "config.json")) throw InputError("'" + dir.string() + "' has no config.json");
  BertCheckpoint c;
  c.config = BertConfig::from_json_file(dir / "config.json");
  c.model = Bert(c.config);
  c.report = load_bert_weights(c.model, dir, strict);
  return c;
}

BertConfig infer_bert_config(const TensorMap& t) {
  auto find = [&](const std::string& k) -> const torch::Tensor* {
    if (auto it = t.find(k); it != t.end()) return &it->second;
    if (auto it = t.find("bert." + k); it != t.end()) return &it->second;
    return nullptr;
  };
  BertConfig c;
  const torch::Tensor* w = find("embeddings.word_embeddings.weight");
  if (!w || w->dim() != 2) throw ModelError("not a BERT checkpoint: no embeddings.word_embeddings.weight [vocab, hidden]");
  c.vocab_size = w->size(0);
  c.hidden_size = w->size(1);
  if (auto* p = find("embeddings.position_embeddings.weight")) c.max_position_embeddings = p->size(0);
  if (auto* p = find("embeddings.token_type_embeddings.weight")) c.type_vocab_size = p->size(0);
  if (auto* p = find("encoder.layer.0.intermediate.dense.weight")) c.intermediate_size = p->size(0);
  std::int64_t layers = 0;
  while (find("encoder.layer." + std::to_string(layers) + ".attention.self.query.weight")) ++layers;
  c.num_hidden_layers = std::max<std::int64_t>(layers, 1);
  c.num_attention_heads = std::max<std::int64_t>(c.hidden_size / 64, 1);
  if (c.hidden_size % c.num_attention_heads != 0) c.num_attention_heads = 1;
  return c;
}

WeightReport check_bert_checkpoint(const std::filesystem::path& dir_or_file) {
  namespace fs = std::filesystem;
  auto file = bert_weights_file(dir_or_file);
  TensorMap t = read_safetensors(file);
  fs::path cfg = file.parent_path() / "config.json";
  BertConfig c;
  if (fs::exists(cfg)) {
    c = BertConfig::from_json_file(cfg);
  } else {
    log::warn("no config.json beside '{}': architecture inferred from the tensor shapes", file.string());
    c = infer_bert_config(t);
  }
  Bert model(c);
  return check_weights(*model, t, bert_load_options(false));
}

void save_bert_pretrained(const std::filesystem::path& dir, Bert& model, BertLMHead head,
                          const std::map<std::string, std::string>& metadata) {
  ensure_writable_dir(dir);
  TensorMap out;
  const std::string prefix = head ? "bert." : "";
  for (auto& [k, v] : state_dict(*model)) out[prefix + k] = v;
  if (head)
    for (auto& [k, v] : state_dict(*head)) out["cls." + k] = v;
  std::map<std::string, std::string> meta = metadata;
  meta.emplace("format", "pt");  // what HF's save_pretrained writes
  write_safetensors(dir / "model.safetensors", out, meta);
  BertConfig c = model->config();
  std::string cfg = c.to_json();
  if (head) {
    auto j = nlohmann::ordered_json::parse(cfg);
    j["architectures"] = {"BertForMaskedLM"};
    cfg = j.dump(2) + "\n";
  }
  write_file_atomic(dir / "config.json", cfg);
}

}  // namespace cervirisk::models
