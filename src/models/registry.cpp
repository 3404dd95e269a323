#include "models/registry.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <mutex>
#include <sstream>

#include "core/error.h"
#include "core/log.h"

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
    a.text.heads = 2;
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
    in >> j;
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(file.string() + ": not valid JSON (" + e.what() + ")");
  }
  try {
    return ArchConfig::from_json(j);
  } catch (const ConfigError& e) {
    throw ConfigError(file.string() + ": " + e.what());
  }
}

namespace {

// Used only until a BERT module is linked in: token embeddings averaged over the mask, then a
// LayerNorm (a bag-of-words report embedding).
class BagOfTokensEncoderImpl : public TextEncoderImpl {
 public:
  explicit BagOfTokensEncoderImpl(const TextArch& a)
      : embedding_(register_module("word_embeddings", torch::nn::Embedding(a.vocab_size, a.hidden))),
        norm_(register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({a.hidden})))),
        dim_(a.hidden) {
    torch::NoGradGuard ng;
    embedding_->weight.normal_(0.0, 0.02);
  }
  torch::Tensor encode(const torch::Tensor& ids, const torch::Tensor& mask) override {
    auto m = mask.to(torch::kFloat32).unsqueeze(-1);
    auto e = embedding_(ids) * m;
    return norm_(e.sum(1) / m.sum(1).clamp_min(1.0));
  }
  std::int64_t dim() const override { return dim_; }

 private:
  torch::nn::Embedding embedding_;
  torch::nn::LayerNorm norm_;
  std::int64_t dim_;
};

TextEncoderPtr default_text_encoder(const TextArch& a) {
  log::warn("no BERT module linked: using a bag-of-tokens report encoder");
  return std::make_shared<BagOfTokensEncoderImpl>(a);
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

RecurrenceModel build_model(const ArchConfig& arch) {
  arch.validate();
  TextEncoderPtr text;
  if (arch.modalities().text) text = make_text_encoder(arch.text);
  return RecurrenceModel(arch, text);
}

}  // namespace cervirisk::models
