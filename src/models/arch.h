// The architecture description of a recurrence model: which variant, and the sizes of every
// part. Parsed from / written to JSON (model.json of a bundle rebuilds the model from it).
// Presets and build_model() are in registry.h.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "core/choice.h"
#include "models/bert.h"
#include "models/convnext.h"
#include "models/dual_path_vit.h"

namespace cervirisk::models {

// The variants of DESIGN.md (names fixed: configs, files and the report use them), in the order a
// study trains and reports them.
enum class Variant { kClinical, kConvNeXt, kVit, kMsm, kMsmT, kMsmTC };
inline constexpr ChoiceNames<6> kVariantNames{"clinical", "convnext", "vit", "msm", "msm_t", "msm_tc"};
// The full model (every modality): the reference of the comparisons and the variant explained.
inline constexpr Variant kFinalVariant = Variant::kMsmTC;
const char* variant_name(Variant v);
Variant parse_variant(const std::string& s);  // throws ConfigError naming the choices
const std::vector<std::string>& variant_names();  // kVariantNames as strings

// Which inputs a variant reads.
struct Modalities {
  bool convnext = false, vit = false, text = false, clinical = false;
};
Modalities modalities_of(Variant v);

struct ArchConfig {
  Variant variant = Variant::kMsmTC;
  std::string preset = "cpu-small";
  // Input sizes (square crops, channels = 2k+1 slices).
  std::int64_t in_chans = 3;
  std::int64_t tumour_size = 64;
  std::int64_t context_size = 96;

  ConvNeXtConfig convnext;
  CrossVitConfig vit;  // vit.img_size = {tumour_size, context_size}
  // The report encoder. vocab_size comes from the vocabulary (data-dependent: 0 until set). In the
  // JSON form ("text": vocab_size, hidden, layers, heads, intermediate, max_position,
  // type_vocab_size, dropout, pooling) one dropout stands for the hidden and attention dropout.
  BertConfig text = BertConfig::preset("cpu-small", 0);
  ReportEmbedding text_pooling = ReportEmbedding::kCls;  // "text": {"pooling": ...}
  std::int64_t clinical_features = 0;       // encoded width (data-dependent)
  std::int64_t clinical_hidden = 32;        // clinical MLP width

  std::int64_t fusion_dim = 64;             // per-modality projection width
  std::int64_t head_hidden = 64;            // fusion MLP hidden width
  double dropout = 0.2;                     // in the fusion head
  double modality_dropout = 0.15;           // probability of dropping text / clinical in training
  bool cox_head = false;
  // ConvNeXt also embeds the context crop (the same weights; the two pooled embeddings are
  // concatenated before the projection), so the ConvNeXt and ViT branches see the same fields of
  // view. false = the tumour crop only (architectures written before the option existed).
  bool convnext_context = false;

  Modalities modalities() const { return modalities_of(variant); }
  nlohmann::json to_json() const;
  static ArchConfig from_json(const nlohmann::json& j);  // throws ConfigError naming the field
  // Throws ConfigError when sizes are inconsistent (heads do not divide widths, ...).
  void validate() const;
};

}  // namespace cervirisk::models
