#include "models/registry.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include <algorithm>
#include <fstream>
#include <initializer_list>
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
    a.text = BertConfig::preset("cpu-small", 0);  // head width 32
    a.text.max_position_embeddings = 256;
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
    a.text = BertConfig::preset("bert-base", 0);
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

namespace {

// The crop sizes against the image encoders, named by the keys that set them (the preset's
// defaults are consistent; an explicit key can break that).
void check_crop_sizes(const config::Config& cfg, const ArchConfig& a) {
  const auto m = a.modalities();
  const std::string from = cfg.get_path("model.arch_file").empty()
                               ? "model.preset = \"" + cfg.get_string("model.preset") + "\""
                               : "model.arch_file " + cfg.get_path("model.arch_file").string();
  const char* keys[2] = {"preprocess.tumour_size_px", "preprocess.context_size_px"};
  const std::int64_t size[2] = {a.tumour_size, a.context_size};
  if (m.vit)
    for (int d = 0; d < 2; ++d)
      if (size[d] % a.vit.patch_size[d] != 0)
        throw ConfigError(fmt::format(
            "{} = {} is not a multiple of the ViT's {} patch size {} ({}): set {} to a multiple of {}{}", keys[d],
            size[d], d == 0 ? "tumour-branch" : "context-branch", a.vit.patch_size[d], from, keys[d],
            a.vit.patch_size[d],
            cfg.get_string("model.preset") == "paper" && cfg.get_path("model.arch_file").empty()
                ? fmt::format(" (the preset's default is {}; remove the key to use it)", d == 0 ? 240 : 224)
                : std::string()));
  if (m.convnext) {
    std::int64_t stride = 4;
    for (std::size_t i = 1; i < a.convnext.dims.size(); ++i) stride *= 2;
    for (int d = 0; d < (a.convnext_context ? 2 : 1); ++d)
      if (size[d] < stride)
        throw ConfigError(fmt::format("{} = {} is smaller than the ConvNeXt's total stride {} ({})", keys[d], size[d],
                                      stride, from));
  }
}

}  // namespace

ArchConfig arch_from_config(const config::Config& cfg, Variant variant, const DataSizes& sizes) {
  DataSizes s = sizes;
  const auto file = cfg.get_path("model.arch_file");
  // The preset's crop sizes are the keys' defaults (config::preset_defaults), so without an
  // architecture file the keys always decide; with one, only when the config sets them.
  if (s.tumour_size <= 0 && (file.empty() || cfg.is_set("preprocess.tumour_size_px")))
    s.tumour_size = cfg.get_int("preprocess.tumour_size_px");
  if (s.context_size <= 0 && (file.empty() || cfg.is_set("preprocess.context_size_px")))
    s.context_size = cfg.get_int("preprocess.context_size_px");
  ArchConfig a;
  if (!file.empty()) {
    a = load_arch(file);
    a.variant = variant;
    if (s.tumour_size > 0) a.tumour_size = s.tumour_size;
    if (s.context_size > 0) a.context_size = s.context_size;
    a.in_chans = s.in_chans;
    a.text.vocab_size = s.vocab_size;
    a.clinical_features = s.clinical_features;
  } else {
    // The preset at its own crop sizes (valid by construction), then the configured ones,
    // checked below with the keys named.
    DataSizes own = s;
    own.tumour_size = own.context_size = 0;
    a = make_arch(cfg.get_string("model.preset"), variant, own);
    if (s.tumour_size > 0) a.tumour_size = s.tumour_size;
    if (s.context_size > 0) a.context_size = s.context_size;
  }
  if (file.empty() || cfg.is_set("model.fusion_dim")) a.fusion_dim = cfg.get_int("model.fusion_dim");
  if (file.empty() || cfg.is_set("model.dropout")) a.dropout = cfg.get_double("model.dropout");
  if (file.empty() || cfg.is_set("model.modality_dropout")) a.modality_dropout = cfg.get_double("model.modality_dropout");
  if (file.empty() || cfg.is_set("model.cox_head")) a.cox_head = cfg.get_bool("model.cox_head");
  if (file.empty() || cfg.is_set("model.convnext_context")) a.convnext_context = cfg.get_bool("model.convnext_context");
  if (file.empty() || cfg.is_set("text.embedding"))
    a.text_pooling = report_embedding_from_name(cfg.get_string("text.embedding"));
  if (a.modalities().text && !cfg.get_string("text.pretrained").empty()) {
    // A pretrained BERT keeps its own architecture (config.json), whatever the preset says.
    const auto dir = cfg.get_path("text.pretrained");
    if (!std::filesystem::exists(dir / "config.json"))
      throw InputError(fmt::format("text.pretrained = '{}' has no config.json (an HF BERT folder holds config.json, "
                                   "vocab.txt and model.safetensors)", dir.string()));
    BertConfig bc = BertConfig::from_json_file(dir / "config.json");
    if (s.vocab_size > bc.vocab_size)
      throw FormatError(fmt::format("text.pretrained = '{}': vocab.txt has {} tokens but config.json's vocab_size is {}",
                                    dir.string(), s.vocab_size, bc.vocab_size));
    a.text = bc;
  }
  if (a.modalities().text && cfg.get_int("text.max_length") > a.text.max_position_embeddings)
    throw ConfigError(fmt::format("text.max_length = {} exceeds the BERT's {} position embeddings ({}); set "
                                  "text.max_length <= {}",
                                  cfg.get_int("text.max_length"), a.text.max_position_embeddings,
                                  cfg.get_string("text.pretrained").empty() ? "model.preset = \"" + cfg.get_string("model.preset") + "\""
                                                                           : "text.pretrained's config.json",
                                  a.text.max_position_embeddings));
  a.convnext.in_chans = a.vit.in_chans = a.in_chans;
  a.vit.img_size = {a.tumour_size, a.context_size};
  check_crop_sizes(cfg, a);
  a.validate();
  return a;
}

namespace {

// The report encoder of msm_t / msm_tc: HF-compatible BERT. Bert's own submodules are
// registered directly under the encoder ("text.embeddings.*", "text.encoder.layer.N.*",
// "text.pooler.*"), so an HF checkpoint loads into model->text with bert_load_options().
class BertTextEncoderImpl : public TextEncoderImpl {
 public:
  BertTextEncoderImpl(Bert bert, ReportEmbedding kind) : bert_(std::move(bert)), kind_(kind) {
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

}  // namespace

TextEncoderPtr make_bert_text_encoder(Bert bert, ReportEmbedding pooling) {
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
  if (arch.modalities().text) text = make_bert_text_encoder(Bert(arch.text), arch.text_pooling);
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

// What every named architecture has: its module, and a forward that runs it in eval mode without
// gradients; run(module, inputs) maps the named inputs to the named outputs.
template <typename Holder, typename Run>
NamedArchitecture architecture_of(std::string name, Holder module, Run run) {
  NamedArchitecture a;
  a.name = std::move(name);
  a.module = module.ptr();
  a.load_options = [](const TensorMap&) { return LoadOptions{}; };
  a.forward = [module, run](const TensorMap& in) mutable {
    module->eval();
    torch::NoGradGuard ng;
    return run(*module, in);
  };
  return a;
}

NamedArchitecture variant_architecture(const ArchConfig& arch) {
  auto model = build_model(arch);
  auto a = architecture_of(variant_name(arch.variant), model, [arch](RecurrenceModelImpl& net, const TensorMap& in) {
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
    auto out = net.forward(x);
    TensorMap r{{"output", out.logit}};
    if (out.risk.defined()) r["risk"] = out.risk;
    return r;
  });
  a.flops = model->flops();
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

// HF BERT: sizes from the checkpoint's config.json (in the folder or beside the file), else
// from its shapes, else the preset's.
NamedArchitecture bert_architecture(const std::string& preset, const TensorMap* hint,
                                    const std::filesystem::path& hint_path) {
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
  auto a = architecture_of("bert", m, [](BertImpl& net, const TensorMap& in) {
    const auto& ids = input_named(in, "input").to(torch::kInt64);
    torch::Tensor mask;
    if (in.count("attention_mask")) mask = in.at("attention_mask");
    else if (in.count("text_mask")) mask = in.at("text_mask");
    auto r = net.forward(ids, mask);
    return TensorMap{{"output", r.pooled}, {"sequence", r.sequence}};
  });
  a.load_options = [](const TensorMap&) { return bert_load_options(false); };
  BertTextEncoderImpl enc(m, ReportEmbedding::kCls);
  a.flops = enc.flops(128);
  a.input_shapes = "input [B, T] int64 token ids (+ attention_mask); FLOPs for T = 128";
  return a;
}

// The classes of a checkpoint's head: the rows of the last of `head_weights` it holds, else
// ImageNet's 1000.
std::int64_t head_classes(const TensorMap* hint, std::initializer_list<const char*> head_weights) {
  std::int64_t classes = 1000;
  for (const char* k : head_weights)
    if (hint && hint->count(k)) classes = hint->at(k).size(0);
  return classes;
}

// timm's ConvNeXt; the head's width from the checkpoint when it has one.
NamedArchitecture convnext_architecture(const std::string& name, const TensorMap* hint) {
  auto cfg = ConvNeXtConfig::named(name);
  cfg.num_classes = head_classes(hint, {"head.fc.weight", "classifier.2.weight"});  // timm, torchvision
  ConvNeXt m(cfg);
  auto a = architecture_of(name, m, [](ConvNeXtImpl& net, const TensorMap& in) {
    auto o = net.forward(input_named(in, "input").to(torch::kFloat32));
    return TensorMap{{"output", o.logits}, {"embedding", o.embedding}};
  });
  a.load_options = [](const TensorMap& t) { return convnext_load_options(t); };
  a.flops = m->flops(224, 224);
  a.input_shapes = "input [B, 3, 224, 224] (any size >= 32)";
  return a;
}

// timm's CrossViT; the head's width from the checkpoint when it has one.
NamedArchitecture crossvit_architecture(const std::string& name, const TensorMap* hint) {
  auto cfg = CrossVitConfig::named(name);
  cfg.num_classes = head_classes(hint, {"head.0.weight"});
  DualPathVit m(cfg);
  auto a = architecture_of(name, m, [cfg](DualPathVitImpl& net, const TensorMap& in) {
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
    auto o = net.forward(t.to(torch::kFloat32), c.to(torch::kFloat32));
    return TensorMap{{"output", o.logits}, {"embedding", o.embedding}};
  });
  a.load_options = [](const TensorMap&) { return crossvit_load_options(); };
  a.flops = m->flops();
  a.input_shapes = "input [B, 3, H, W] (resized to " + std::to_string(cfg.img_size[0]) + " and " +
                   std::to_string(cfg.img_size[1]) + " px), or tumour + context";
  return a;
}

// An architecture .json file, or a bundle's model.json (the architecture under "architecture").
ArchConfig arch_of_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError("cannot read architecture file " + path);
  nlohmann::json j;
  try {
    in >> j;
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(path + ": not valid JSON (" + e.what() + ")");
  }
  return ArchConfig::from_json(j.contains("architecture") ? j["architecture"] : j);
}

// Data-dependent sizes of our variants without data: the checkpoint's shapes when there is one,
// else typical values.
DataSizes sizes_of_checkpoint(const TensorMap* hint) {
  DataSizes sizes;
  sizes.clinical_features = 16;  // without data: a typical encoded clinical table
  sizes.vocab_size = 2000;       // text.vocab_size's default
  if (!hint) return sizes;
  if (hint->count("clinical.fc1.weight")) sizes.clinical_features = hint->at("clinical.fc1.weight").size(1);
  for (const auto& [k, v] : *hint)
    if (k.rfind("text.", 0) == 0 && k.size() > 22 && k.compare(k.size() - 22, 22, "word_embeddings.weight") == 0)
      sizes.vocab_size = v.size(0);
  if (hint->count("convnext.stem.0.weight")) sizes.in_chans = hint->at("convnext.stem.0.weight").size(1);
  return sizes;
}

}  // namespace

NamedArchitecture named_architecture(const std::string& name, const std::string& preset, const TensorMap* hint,
                                     const std::filesystem::path& hint_path) {
  if (name == "bert") return bert_architecture(preset, hint, hint_path);
  if (name.rfind("convnext_", 0) == 0) return convnext_architecture(name, hint);
  if (name.rfind("crossvit_", 0) == 0) return crossvit_architecture(name, hint);
  if (name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0)
    return variant_architecture(arch_of_json_file(name));
  if (!find_choice<Variant>(kVariantNames, name))
    throw ConfigError("unknown architecture '" + name + "' (expected one of: " + join(architecture_names()) +
                      ", or an architecture .json file)");
  return variant_architecture(make_arch(preset, name, sizes_of_checkpoint(hint)));
}

}  // namespace cervirisk::models
