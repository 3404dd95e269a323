#include "models/arch.h"

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace cervirisk::models {

using nlohmann::json;

const std::vector<std::string>& variant_names() {
  static const std::vector<std::string> n{"clinical", "convnext", "vit", "msm", "msm_t", "msm_tc"};
  return n;
}

const char* variant_name(Variant v) {
  switch (v) {
    case Variant::kClinical: return "clinical";
    case Variant::kConvNeXt: return "convnext";
    case Variant::kVit: return "vit";
    case Variant::kMsm: return "msm";
    case Variant::kMsmT: return "msm_t";
    case Variant::kMsmTC: return "msm_tc";
  }
  return "?";
}

Variant parse_variant(const std::string& s) {
  const auto& n = variant_names();
  for (std::size_t i = 0; i < n.size(); ++i)
    if (n[i] == s) return static_cast<Variant>(i);
  throw ConfigError("unknown model variant '" + s + "' (expected clinical, convnext, vit, msm, msm_t or msm_tc)");
}

Modalities modalities_of(Variant v) {
  Modalities m;
  m.convnext = v == Variant::kConvNeXt || v == Variant::kMsm || v == Variant::kMsmT || v == Variant::kMsmTC;
  m.vit = v == Variant::kVit || v == Variant::kMsm || v == Variant::kMsmT || v == Variant::kMsmTC;
  m.text = v == Variant::kMsmT || v == Variant::kMsmTC;
  m.clinical = v == Variant::kClinical || v == Variant::kMsmTC;
  return m;
}

json ArchConfig::to_json() const {
  json cn = {{"depths", convnext.depths},
             {"dims", convnext.dims},
             {"drop_path_rate", convnext.drop_path_rate},
             {"layer_scale_init", convnext.layer_scale_init}};
  json depth = json::array();
  for (const auto& d : vit.depth) depth.push_back({d[0], d[1], d[2]});
  json v = {{"img_size", vit.img_size},     {"patch_size", vit.patch_size}, {"embed_dim", vit.embed_dim},
            {"num_heads", vit.num_heads},   {"mlp_ratio", vit.mlp_ratio},   {"depth", depth},
            {"qkv_bias", vit.qkv_bias},     {"drop_path_rate", vit.drop_path_rate}};
  json t = {{"vocab_size", text.vocab_size},     {"hidden", text.hidden},
            {"layers", text.layers},             {"heads", text.heads},
            {"intermediate", text.intermediate}, {"max_position", text.max_position},
            {"type_vocab_size", text.type_vocab_size}, {"dropout", text.dropout},
            {"pooling", text.pooling}};
  return {{"variant", variant_name(variant)},
          {"preset", preset},
          {"in_chans", in_chans},
          {"tumour_size", tumour_size},
          {"context_size", context_size},
          {"convnext", cn},
          {"vit", v},
          {"text", t},
          {"clinical_features", clinical_features},
          {"clinical_hidden", clinical_hidden},
          {"fusion_dim", fusion_dim},
          {"head_hidden", head_hidden},
          {"dropout", dropout},
          {"modality_dropout", modality_dropout},
          {"cox_head", cox_head}};
}

namespace {
template <typename T>
void get(const json& j, const char* key, T& out, const std::string& where) {
  if (!j.contains(key)) return;  // keep the default
  try {
    out = j.at(key).get<T>();
  } catch (const json::exception& e) {
    throw ConfigError("architecture: field '" + where + key + "' has the wrong type (" + e.what() + ")");
  }
}
}  // namespace

ArchConfig ArchConfig::from_json(const json& j) {
  if (!j.is_object()) throw ConfigError("architecture: expected a JSON object");
  ArchConfig a;
  std::string variant = variant_name(a.variant);
  get(j, "variant", variant, "");
  a.variant = parse_variant(variant);
  get(j, "preset", a.preset, "");
  get(j, "in_chans", a.in_chans, "");
  get(j, "tumour_size", a.tumour_size, "");
  get(j, "context_size", a.context_size, "");
  if (j.contains("convnext")) {
    const auto& c = j["convnext"];
    get(c, "depths", a.convnext.depths, "convnext.");
    get(c, "dims", a.convnext.dims, "convnext.");
    get(c, "drop_path_rate", a.convnext.drop_path_rate, "convnext.");
    get(c, "layer_scale_init", a.convnext.layer_scale_init, "convnext.");
  }
  if (j.contains("vit")) {
    const auto& v = j["vit"];
    get(v, "img_size", a.vit.img_size, "vit.");
    get(v, "patch_size", a.vit.patch_size, "vit.");
    get(v, "embed_dim", a.vit.embed_dim, "vit.");
    get(v, "num_heads", a.vit.num_heads, "vit.");
    get(v, "mlp_ratio", a.vit.mlp_ratio, "vit.");
    get(v, "depth", a.vit.depth, "vit.");
    get(v, "qkv_bias", a.vit.qkv_bias, "vit.");
    get(v, "drop_path_rate", a.vit.drop_path_rate, "vit.");
  }
  if (j.contains("text")) {
    const auto& t = j["text"];
    get(t, "vocab_size", a.text.vocab_size, "text.");
    get(t, "hidden", a.text.hidden, "text.");
    get(t, "layers", a.text.layers, "text.");
    get(t, "heads", a.text.heads, "text.");
    get(t, "intermediate", a.text.intermediate, "text.");
    get(t, "max_position", a.text.max_position, "text.");
    get(t, "type_vocab_size", a.text.type_vocab_size, "text.");
    get(t, "dropout", a.text.dropout, "text.");
    get(t, "pooling", a.text.pooling, "text.");
  }
  get(j, "clinical_features", a.clinical_features, "");
  get(j, "clinical_hidden", a.clinical_hidden, "");
  get(j, "fusion_dim", a.fusion_dim, "");
  get(j, "head_hidden", a.head_hidden, "");
  get(j, "dropout", a.dropout, "");
  get(j, "modality_dropout", a.modality_dropout, "");
  get(j, "cox_head", a.cox_head, "");
  a.convnext.in_chans = a.in_chans;
  a.vit.in_chans = a.in_chans;
  a.validate();
  return a;
}

void ArchConfig::validate() const {
  auto fail = [](const std::string& m) { throw ConfigError("architecture: " + m); };
  auto m = modalities();
  if (in_chans < 1) fail("in_chans must be >= 1, got " + std::to_string(in_chans));
  if (fusion_dim < 1 || head_hidden < 1) fail("fusion_dim and head_hidden must be >= 1");
  if (modality_dropout < 0 || modality_dropout >= 1) fail("modality_dropout must be in [0, 1)");
  if (m.convnext) {
    if (convnext.depths.size() != convnext.dims.size() || convnext.depths.empty())
      fail("convnext.depths and convnext.dims must have the same non-zero length");
    std::int64_t stride = 4;
    for (std::size_t i = 1; i < convnext.dims.size(); ++i) stride *= 2;
    if (tumour_size < stride)
      fail("tumour_size " + std::to_string(tumour_size) + " must be at least " + std::to_string(stride) +
           " (the ConvNeXt's total stride)");
  }
  if (m.vit) {
    if (vit.img_size[0] != tumour_size || vit.img_size[1] != context_size)
      fail("vit.img_size must equal {tumour_size, context_size} = {" + std::to_string(tumour_size) + ", " +
           std::to_string(context_size) + "}");
    for (int d = 0; d < 2; ++d) {
      if (vit.embed_dim[d] % vit.num_heads[d] != 0)
        fail("vit.embed_dim[" + std::to_string(d) + "] must be divisible by vit.num_heads[" + std::to_string(d) + "]");
      if (vit.img_size[d] % vit.patch_size[d] != 0)
        fail("vit.img_size[" + std::to_string(d) + "] must be a multiple of vit.patch_size[" + std::to_string(d) + "]");
    }
    if (vit.depth.empty()) fail("vit.depth needs at least one multi-scale block");
  }
  if (m.text) {
    if (text.vocab_size < 1) fail("text.vocab_size must be set (the vocabulary size), got " + std::to_string(text.vocab_size));
    if (text.hidden % text.heads != 0) fail("text.hidden must be divisible by text.heads");
    if (text.pooling != "cls" && text.pooling != "mean") fail("text.pooling must be cls or mean, got '" + text.pooling + "'");
  }
  if (m.clinical && clinical_features < 1)
    fail("clinical_features must be >= 1 for variant " + std::string(variant_name(variant)) + ", got " +
         std::to_string(clinical_features));
}

}  // namespace cervirisk::models
