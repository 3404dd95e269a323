// The architecture description of a recurrence model: which variant, and the sizes of every
// part. Parsed from / written to JSON (model.json of a bundle rebuilds the model from it).
// Presets and build_model() are in registry.h.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "models/convnext.h"
#include "models/dual_path_vit.h"

namespace cervirisk::models {

// The variants of DESIGN.md (names fixed: configs, files and the report use them).
enum class Variant { kClinical, kConvNeXt, kVit, kMsm, kMsmT, kMsmTC };
const char* variant_name(Variant v);
Variant parse_variant(const std::string& s);  // throws ConfigError naming the choices
const std::vector<std::string>& variant_names();

// Which inputs a variant reads.
struct Modalities {
  bool convnext = false, vit = false, text = false, clinical = false;
};
Modalities modalities_of(Variant v);

// BERT sizes (HuggingFace BertConfig fields).
struct TextArch {
  std::int64_t vocab_size = 0;  // from the vocabulary (data-dependent)
  std::int64_t hidden = 128;
  std::int64_t layers = 2;
  std::int64_t heads = 4;
  std::int64_t intermediate = 512;
  std::int64_t max_position = 512;
  std::int64_t type_vocab_size = 2;
  double dropout = 0.1;
  std::string pooling = "cls";  // cls | mean
};

struct ArchConfig {
  Variant variant = Variant::kMsmTC;
  std::string preset = "cpu-small";
  // Input sizes (square crops, channels = 2k+1 slices).
  std::int64_t in_chans = 3;
  std::int64_t tumour_size = 64;
  std::int64_t context_size = 96;

  ConvNeXtConfig convnext;
  CrossVitConfig vit;  // vit.img_size = {tumour_size, context_size}
  TextArch text;
  std::int64_t clinical_features = 0;       // encoded width (data-dependent)
  std::int64_t clinical_hidden = 32;        // clinical MLP width

  std::int64_t fusion_dim = 64;             // per-modality projection width
  std::int64_t head_hidden = 64;            // fusion MLP hidden width
  double dropout = 0.2;                     // in the fusion head
  double modality_dropout = 0.15;           // probability of dropping text / clinical in training
  bool cox_head = false;

  Modalities modalities() const { return modalities_of(variant); }
  nlohmann::json to_json() const;
  static ArchConfig from_json(const nlohmann::json& j);  // throws ConfigError naming the field
  // Throws ConfigError when sizes are inconsistent (heads do not divide widths, ...).
  void validate() const;
};

}  // namespace cervirisk::models
