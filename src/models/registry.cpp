#include "models/registry.h"

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include <algorithm>
#include <fstream>
#include <mutex>
#include <sstream>

#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "models/weights.h"

namespace cervirisk::models {

const std::vector<std::string>& preset_names() {
  static const std::vector<std::string> n{"cpu-small", "paper"};
  return n;
}

ArchConfig make_arch(const std::string& preset, Variant variant, const DataSizes& sizes) {
  ArchConfig a;
  a.variant = variant;
  a.preset = preset;
  if (preset == "cpu-small") {
    // ConvNeXt-atto sizes (so timm's convnext_atto weights load) on a 64 px tumour crop; a small
    // dual path (8 px patches on the 64 px tumour crop: 64 tokens; 16 px on the 96 px context: 36).
    a.tumour_size = 64;
    a.context_size = 96;
    a.convnext = ConvNeXtConfig::named("atto");
    a.vit.patch_size = {8, 16};
    a.vit.embed_dim = {64, 128};
    a.vit.num_heads = {2, 4};
    a.vit.mlp_ratio = {3.0, 3.0};
    a.vit.depth = {{1, 2, 0}, {1, 2, 0}};
    a.text.hidden = 128;
    a.text.layers = 2;
    a.text.heads = 4;  // head width 32, as the text module's cpu-small BERT
    a.text.intermediate = 512;
    a.text.max_position = 256;
    a.fusion_dim = 64;
    a.head_hidden = 64;
    a.clinical_hidden = 32;
  } else if (preset == "paper") {
    // ConvNeXt-T; CrossViT-tiny (timm crossvit_tiny_240: 12 px patches on the 240 px tumour
    // crop, 16 px patches on the 224 px context crop, so its checkpoints load as they are);
    // BERT-base sizes.
    a.tumour_size = 240;
    a.context_size = 224;
    a.convnext = ConvNeXtConfig::named("tiny");
    a.convnext.drop_path_rate = 0.1;
    a.vit = CrossVitConfig::named("tiny");
    a.vit.drop_path_rate = 0.1;
    a.text.hidden = 768;
    a.text.layers = 12;
    a.text.heads = 12;
    a.text.intermediate = 3072;
    a.text.max_position = 512;
    a.fusion_dim = 256;
    a.head_hidden = 256;
    a.clinical_hidden = 64;
  } else {
    throw ConfigError("unknown model preset '" + preset + "' (expected cpu-small or paper)");
  }
  if (sizes.tumour_size > 0) a.tumour_size = sizes.tumour_size;
  if (sizes.context_size > 0) a.context_size = sizes.context_size;
  a.in_chans = sizes.in_chans;
  a.convnext.in_chans = a.in_chans;
  a.vit.in_chans = a.in_chans;
  a.vit.img_size = {a.tumour_size, a.context_size};
  a.text.vocab_size = sizes.vocab_size;
  a.clinical_features = sizes.clinical_features;
  a.validate();
  return a;
}

ArchConfig make_arch(const std::string& preset, const std::string& variant, const DataSizes& sizes) {
  return make_arch(preset, parse_variant(variant), sizes);
}

ArchConfig load_arch(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw InputError("cannot read architecture file " + file.string());
  nlohmann::json j;
  try {
    if (file.extension() == ".toml") {
      // Same fields as the JSON form; toml++ writes the table as JSON.
      std::stringstream ss;
      ss << toml::json_formatter{toml::parse(in, file.string())};
      j = nlohmann::json::parse(ss.str());
    } else {
      in >> j;
    }
  } catch (const toml::parse_error& e) {
    throw ConfigError(file.string() + ": not valid TOML (" + std::string(e.description()) + ")");
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(file.string() + ": not valid JSON (" + e.what() + ")");
  }
  try {
    return ArchConfig::from_json(j);
  } catch (const ConfigError& e) {
    throw ConfigError(file.string() + ": " + e.what());
  }
}

ArchConfig arch_from_config(const config::Config& cfg, Variant variant, const DataSizes& sizes) {
  DataSizes s = sizes;
  if (s.tumour_size <= 0 && cfg.is_set("preprocess.tumour_size_px")) s.tumour_size = cfg.get_int("preprocess.tumour_size_px");
  if (s.context_size <= 0 && cfg.is_set("preprocess.context_size_px"))
    s.context_size = cfg.get_int("preprocess.context_size_px");
  ArchConfig a;
  const auto file = cfg.get_path("model.arch_file");
  if (!file.empty()) {
    a = load_arch(file);
    a.variant = variant;
    if (s.tumour_size > 0) a.tumour_size = s.tumour_size;
    if (s.context_size > 0) a.context_size = s.context_size;
    a.in_chans = s.in_chans;
    a.text.vocab_size = s.vocab_size;
    a.clinical_features = s.clinical_features;
  } else {
    a = make_arch(cfg.get_string("model.preset"), variant, s);
  }
  if (file.empty() || cfg.is_set("model.fusion_dim")) a.fusion_dim = cfg.get_int("model.fusion_dim");
  if (file.empty() || cfg.is_set("model.dropout")) a.dropout = cfg.get_double("model.dropout");
  if (file.empty() || cfg.is_set("model.modality_dropout")) a.modality_dropout = cfg.get_double("model.modality_dropout");
  if (file.empty() || cfg.is_set("model.cox_head")) a.cox_head = cfg.get_bool("model.cox_head");
  if (file.empty() || cfg.is_set("text.embedding")) a.text.pooling = cfg.get_string("text.embedding");
  a.convnext.in_chans = a.vit.in_chans = a.in_chans;
  a.vit.img_size = {a.tumour_size, a.context_size};
  a.validate();
  return a;
}

namespace {

// The report encoder of msm_t / msm_tc: HF-compatible BERT. Bert's own submodules are
// registered directly under the encoder ("text.embeddings.*", "text.encoder.layer.N.*",
// "text.pooler.*"), so an HF checkpoint loads into model->text with bert_load_options().
class BertTextEncoderImpl : public TextEncoderImpl {
 public:
  BertTextEncoderImpl(Bert bert, const std::string& pooling)
      : bert_(std::move(bert)), kind_(report_embedding_from_name(pooling)) {
    register_module("embeddings", bert_->embeddings);
    register_module("encoder", bert_->encoder);
    register_module("pooler", bert_->pooler);
  }
  torch::Tensor encode(const torch::Tensor& ids, const torch::Tensor& mask) override {
    return bert_->embed(ids, mask, {}, kind_);
  }
  std::int64_t dim() const override { return bert_->config().hidden_size; }
  std::int64_t flops(std::int64_t tokens) const override {
    const auto& c = bert_->config();
    const auto H = c.hidden_size, I = c.intermediate_size, T = tokens;
    // Per layer: q, k, v, output projections; scores and weighted sum; the feed-forward pair.
    return c.num_hidden_layers * (2 * 4 * H * H * T + 2 * 2 * T * T * H + 2 * 2 * H * I * T) + 2 * H * H;
  }
  Bert bert() const { return bert_; }

 private:
  Bert bert_;
  ReportEmbedding kind_;
};

TextEncoderPtr default_text_encoder(const TextArch& a) {
  return std::make_shared<BertTextEncoderImpl>(Bert(bert_config_of(a)), a.pooling);
}

std::mutex& factory_mutex() {
  static std::mutex m;
  return m;
}
TextEncoderFactory& factory() {
  static TextEncoderFactory f;
  return f;
}

}  // namespace

void set_text_encoder_factory(TextEncoderFactory f) {
  std::lock_guard<std::mutex> lock(factory_mutex());
  factory() = std::move(f);
}

TextEncoderPtr make_text_encoder(const TextArch& arch) {
  TextEncoderFactory f;
  {
    std::lock_guard<std::mutex> lock(factory_mutex());
    f = factory();
  }
  return f ? f(arch) : default_text_encoder(arch);
}

BertConfig bert_config_of(const TextArch& a) {
  BertConfig c;
  c.vocab_size = a.vocab_size;
  c.hidden_size = a.hidden;
  c.num_hidden_layers = a.layers;
  c.num_attention_heads = a.heads;
  c.intermediate_size = a.intermediate;
  c.max_position_embeddings = a.max_position;
  c.type_vocab_size = a.type_vocab_size;
  c.hidden_dropout_prob = a.dropout;
  c.attention_probs_dropout_prob = a.dropout;
  return c;
}

TextArch text_arch_of(const BertConfig& c, const std::string& pooling) {
  TextArch a;
  a.vocab_size = c.vocab_size;
  a.hidden = c.hidden_size;
  a.layers = c.num_hidden_layers;
  a.heads = c.num_attention_heads;
  a.intermediate = c.intermediate_size;
  a.max_position = c.max_position_embeddings;
  a.type_vocab_size = c.type_vocab_size;
  a.dropout = c.hidden_dropout_prob;
  a.pooling = pooling;
  return a;
}

TextEncoderPtr make_bert_text_encoder(Bert bert, const std::string& pooling) {
  return std::make_shared<BertTextEncoderImpl>(std::move(bert), pooling);
}

Bert text_bert(const RecurrenceModel& model) {
  if (!model->text) return nullptr;
  if (auto* e = dynamic_cast<BertTextEncoderImpl*>(model->text.get())) return e->bert();
  return nullptr;
}

RecurrenceModel build_model(const ArchConfig& arch) {
  arch.validate();
  TextEncoderPtr text;
  if (arch.modalities().text) text = make_text_encoder(arch.text);
  return RecurrenceModel(arch, text);
}


std::vector<std::string> architecture_names() {
  std::vector<std::string> n;
  for (const char* s : {"atto", "femto", "pico", "nano", "tiny", "small", "base", "large"})
    n.push_back(std::string("convnext_") + s);
  for (const char* s : {"tiny", "small", "base", "9", "15", "18"}) n.push_back(std::string("crossvit_") + s + "_240");
  n.push_back("bert");
  for (const auto& v : variant_names()) n.push_back(v);
  return n;
}

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

const torch::Tensor& input_named(const TensorMap& in, const std::string& name) {
  auto it = in.find(name);
  if (it == in.end()) {
    std::vector<std::string> have;
    for (const auto& [k, v] : in) have.push_back(k);
    throw InputError("input file has no tensor '" + name + "' (it has: " + join(have) + ")");
  }
  return it->second;
}

torch::Tensor resized(const torch::Tensor& x, std::int64_t size) {
  if (x.size(-1) == size && x.size(-2) == size) return x;
  namespace F = torch::nn::functional;
  return F::interpolate(x.to(torch::kFloat32), F::InterpolateFuncOptions()
                                                   .size(std::vector<std::int64_t>{size, size})
                                                   .mode(torch::kBicubic)
                                                   .align_corners(false));
}

NamedArchitecture variant_architecture(const ArchConfig& arch) {
  NamedArchitecture a;
  a.name = variant_name(arch.variant);
  auto model = build_model(arch);
  a.module = model.ptr();
  a.load_options = [](const TensorMap&) { return LoadOptions{}; };
  a.forward = [model, arch](const TensorMap& in) mutable {
    model->eval();
    torch::NoGradGuard ng;
    ModelInputs x;
    auto get = [&](const char* n) { return in.count(n) ? in.at(n) : torch::Tensor(); };
    x.tumour = get("tumour");
    if (!x.tumour.defined() && in.count("input")) x.tumour = in.at("input").to(torch::kFloat32);
    x.context = get("context");
    if (!x.context.defined() && x.tumour.defined()) x.context = resized(x.tumour, arch.context_size);
    if (x.tumour.defined()) x.tumour = resized(x.tumour, arch.tumour_size);
    x.text_ids = get("text_ids");
    x.text_mask = get("text_mask");
    x.clinical = get("clinical");
    x.has_text = get("has_text");
    x.has_clinical = get("has_clinical");
    auto out = model->forward(x);
    TensorMap r{{"output", out.logit}};
    if (out.risk.defined()) r["risk"] = out.risk;
    return r;
  };
  a.flops = model->flops();
  std::string s;
  auto m = arch.modalities();
  auto img = [](const char* n, std::int64_t c, std::int64_t sz) {
    return std::string(n) + " [B, " + std::to_string(c) + ", " + std::to_string(sz) + ", " + std::to_string(sz) + "]";
  };
  std::vector<std::string> parts;
  if (m.convnext || m.vit) parts.push_back(img("tumour", arch.in_chans, arch.tumour_size));
  if (m.vit) parts.push_back(img("context", arch.in_chans, arch.context_size));
  if (m.text) parts.push_back("text_ids [B, L] int64 (+ text_mask, has_text)");
  if (m.clinical) parts.push_back("clinical [B, " + std::to_string(arch.clinical_features) + "] (+ has_clinical)");
  a.input_shapes = join(parts);
  return a;
}

}  // namespace

NamedArchitecture named_architecture(const std::string& name, const std::string& preset, const TensorMap* hint,
                                     const std::filesystem::path& hint_path) {
  NamedArchitecture a;
  a.name = name;
  if (name == "bert") {
    BertConfig cfg;
    std::filesystem::path json;
    if (!hint_path.empty()) {
      auto dir = std::filesystem::is_directory(hint_path) ? hint_path : hint_path.parent_path();
      if (std::filesystem::exists(dir / "config.json")) json = dir / "config.json";
    }
    if (!json.empty()) cfg = BertConfig::from_json_file(json);
    else if (hint) cfg = infer_bert_config(*hint);
    else cfg = BertConfig::preset(preset == "paper" ? "bert-base" : "cpu-small", preset == "paper" ? 21128 : 2000);
    Bert m(cfg);
    a.module = m.ptr();
    a.load_options = [](const TensorMap&) { return bert_load_options(false); };
    a.forward = [m](const TensorMap& in) mutable {
      m->eval();
      torch::NoGradGuard ng;
      const auto& ids = input_named(in, "input").to(torch::kInt64);
      torch::Tensor mask;
      if (in.count("attention_mask")) mask = in.at("attention_mask");
      else if (in.count("text_mask")) mask = in.at("text_mask");
      auto r = m->forward(ids, mask);
      return TensorMap{{"output", r.pooled}, {"sequence", r.sequence}};
    };
    BertTextEncoderImpl enc(m, "cls");
    a.flops = enc.flops(128);
    a.input_shapes = "input [B, T] int64 token ids (+ attention_mask); FLOPs for T = 128";
    return a;
  }
  if (name.rfind("convnext_", 0) == 0) {
    auto cfg = ConvNeXtConfig::named(name);
    cfg.num_classes = 1000;
    if (hint && hint->count("head.fc.weight")) cfg.num_classes = hint->at("head.fc.weight").size(0);
    if (hint && hint->count("classifier.2.weight")) cfg.num_classes = hint->at("classifier.2.weight").size(0);
    ConvNeXt m(cfg);
    a.module = m.ptr();
    a.load_options = [](const TensorMap& t) { return convnext_load_options(t); };
    a.forward = [m](const TensorMap& in) mutable {
      m->eval();
      torch::NoGradGuard ng;
      auto o = m->forward(input_named(in, "input").to(torch::kFloat32));
      return TensorMap{{"output", o.logits}, {"embedding", o.embedding}};
    };
    a.flops = m->flops(224, 224);
    a.input_shapes = "input [B, 3, 224, 224] (any size >= 32)";
    return a;
  }
  if (name.rfind("crossvit_", 0) == 0) {
    auto cfg = CrossVitConfig::named(name);
    cfg.num_classes = 1000;
    if (hint && hint->count("head.0.weight")) cfg.num_classes = hint->at("head.0.weight").size(0);
    DualPathVit m(cfg);
    a.module = m.ptr();
    a.load_options = [](const TensorMap&) { return crossvit_load_options(); };
    a.forward = [m, cfg](const TensorMap& in) mutable {
      m->eval();
      torch::NoGradGuard ng;
      // timm's CrossViT feeds one image to both branches, resized to each branch's size.
      torch::Tensor t, c;
      if (in.count("tumour") && in.count("context")) {
        t = in.at("tumour");
        c = in.at("context");
      } else {
        const auto& x = input_named(in, "input");
        t = resized(x, cfg.img_size[0]);
        c = resized(x, cfg.img_size[1]);
      }
      auto o = m->forward(t.to(torch::kFloat32), c.to(torch::kFloat32));
      return TensorMap{{"output", o.logits}, {"embedding", o.embedding}};
    };
    a.flops = m->flops();
    a.input_shapes = "input [B, 3, H, W] (resized to " + std::to_string(cfg.img_size[0]) + " and " +
                     std::to_string(cfg.img_size[1]) + " px), or tumour + context";
    return a;
  }
  ArchConfig arch;
  if (name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0) {
    std::ifstream in(name);
    if (!in) throw InputError("cannot read architecture file " + name);
    nlohmann::json j;
    try {
      in >> j;
    } catch (const nlohmann::json::exception& e) {
      throw ConfigError(name + ": not valid JSON (" + e.what() + ")");
    }
    // A bundle's model.json keeps the architecture under "architecture".
    arch = ArchConfig::from_json(j.contains("architecture") ? j["architecture"] : j);
    return variant_architecture(arch);
  }
  const auto& vs = variant_names();
  if (std::find(vs.begin(), vs.end(), name) == vs.end())
    throw ConfigError("unknown architecture '" + name + "' (expected one of: " + join(architecture_names()) +
                      ", or an architecture .json file)");
  DataSizes sizes;
  sizes.clinical_features = 16;  // without data: a typical encoded clinical table
  sizes.vocab_size = 2000;       // text.vocab_size's default
  if (hint) {
    if (hint->count("clinical.fc1.weight")) sizes.clinical_features = hint->at("clinical.fc1.weight").size(1);
    for (const auto& [k, v] : *hint)
      if (k.rfind("text.", 0) == 0 && k.size() > 22 && k.compare(k.size() - 22, 22, "word_embeddings.weight") == 0)
        sizes.vocab_size = v.size(0);
    if (hint->count("convnext.stem.0.weight")) sizes.in_chans = hint->at("convnext.stem.0.weight").size(1);
  }
  return variant_architecture(make_arch(preset, name, sizes));
}

}  // namespace cervirisk::models
