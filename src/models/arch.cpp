#include "models/arch.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/fields.h"

namespace cervirisk::models {

using nlohmann::json;

const std::vector<std::string>& variant_names() {
  static const std::vector<std::string> n(kVariantNames.begin(), kVariantNames.end());
  return n;
}

const char* variant_name(Variant v) { return choice_name(kVariantNames, v); }

Variant parse_variant(const std::string& s) { return parse_choice<Variant>(kVariantNames, s, "model variant"); }

Modalities modalities_of(Variant v) {
  Modalities m;
  m.convnext = v == Variant::kConvNeXt || v == Variant::kMsm || v == Variant::kMsmT || v == Variant::kMsmTC;
  m.vit = v == Variant::kVit || v == Variant::kMsm || v == Variant::kMsmT || v == Variant::kMsmTC;
  m.text = v == Variant::kMsmT || v == Variant::kMsmTC;
  m.clinical = v == Variant::kClinical || v == Variant::kMsmTC;
  return m;
}

namespace {

// The fields of each section under their model.json keys, listed once: to_json writes and
// from_json reads the same lists. C is the section's type, const or not.
template <typename C, typename F>
void convnext_fields(C& c, F&& f) {
  for_each_field(f, field("depths", c.depths), field("dims", c.dims), field("drop_path_rate", c.drop_path_rate),
                 field("layer_scale_init", c.layer_scale_init));
}

template <typename C, typename F>
void vit_fields(C& v, F&& f) {
  for_each_field(f, field("img_size", v.img_size), field("patch_size", v.patch_size),
                 field("embed_dim", v.embed_dim), field("num_heads", v.num_heads), field("mlp_ratio", v.mlp_ratio),
                 field("depth", v.depth), field("qkv_bias", v.qkv_bias), field("drop_path_rate", v.drop_path_rate));
}

// BertConfig's sizes under the short names of the arch JSON; "dropout" is hidden_dropout_prob
// (from_json sets the attention dropout to the same value). "pooling" is ArchConfig::text_pooling.
template <typename C, typename F>
void text_fields(C& t, F&& f) {
  for_each_field(f, field("vocab_size", t.vocab_size), field("hidden", t.hidden_size),
                 field("layers", t.num_hidden_layers), field("heads", t.num_attention_heads),
                 field("intermediate", t.intermediate_size), field("max_position", t.max_position_embeddings),
                 field("type_vocab_size", t.type_vocab_size), field("dropout", t.hidden_dropout_prob));
}

// The top-level fields other than variant and the three sections.
template <typename A, typename F>
void scalar_fields(A& a, F&& f) {
  for_each_field(f, field("preset", a.preset), field("in_chans", a.in_chans), field("tumour_size", a.tumour_size),
                 field("context_size", a.context_size), field("clinical_features", a.clinical_features),
                 field("clinical_hidden", a.clinical_hidden), field("fusion_dim", a.fusion_dim),
                 field("head_hidden", a.head_hidden), field("dropout", a.dropout),
                 field("modality_dropout", a.modality_dropout), field("cox_head", a.cox_head),
                 field("convnext_context", a.convnext_context));
}

// Writes each field it is given into `j`.
auto writer(json& j) {
  return [&j](const char* key, const auto& value) { j[key] = value; };
}

// Reads each field it is given from `j` when present (else keeps the default); throws ConfigError
// naming `where` + the key on a wrong type.
auto reader(const json& j, std::string where) {
  return [&j, where = std::move(where)](const char* key, auto& out) {
    if (!j.contains(key)) return;
    try {
      out = j.at(key).get<std::decay_t<decltype(out)>>();
    } catch (const json::exception& e) {
      throw ConfigError("architecture: field '" + where + key + "' has the wrong type (" + e.what() + ")");
    }
  };
}

}  // namespace

json ArchConfig::to_json() const {
  json j, cn, v, t;  // objects keep their keys sorted: the order of the writes does not matter
  j["variant"] = variant_name(variant);
  scalar_fields(*this, writer(j));
  convnext_fields(convnext, writer(cn));
  vit_fields(vit, writer(v));
  text_fields(text, writer(t));
  t["pooling"] = report_embedding_name(text_pooling);
  j["convnext"] = cn;
  j["vit"] = v;
  j["text"] = t;
  return j;
}

ArchConfig ArchConfig::from_json(const json& j) {
  if (!j.is_object()) throw ConfigError("architecture: expected a JSON object");
  ArchConfig a;
  std::string variant = variant_name(a.variant);
  reader(j, "")("variant", variant);
  a.variant = parse_variant(variant);
  scalar_fields(a, reader(j, ""));
  if (j.contains("convnext")) convnext_fields(a.convnext, reader(j["convnext"], "convnext."));
  if (j.contains("vit")) vit_fields(a.vit, reader(j["vit"], "vit."));
  if (j.contains("text")) {
    const auto& t = j["text"];
    text_fields(a.text, reader(t, "text."));
    std::string pooling = report_embedding_name(a.text_pooling);
    reader(t, "text.")("pooling", pooling);
    a.text_pooling = parse_choice<ReportEmbedding>(kReportEmbeddingNames, pooling, "architecture: text.pooling");
  }
  a.text.attention_probs_dropout_prob = a.text.hidden_dropout_prob;
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
    if (text.hidden_size % text.num_attention_heads != 0) fail("text.hidden must be divisible by text.heads");
  }
  if (m.clinical && clinical_features < 1)
    fail("clinical_features must be >= 1 for variant " + std::string(variant_name(variant)) + ", got " +
         std::to_string(clinical_features));
}

}  // namespace cervirisk::models
