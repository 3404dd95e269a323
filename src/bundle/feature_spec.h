// Everything fitted before training, on the training cohort only, and frozen into every bundle:
// imaging parameters, the tokenizer (vocabulary), the clinical encoder. preprocessing.json holds
// the imaging and text settings; vocab.txt and clinical.json sit beside it.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>

#include "imaging/augment.h"
#include "imaging/params.h"
#include "models/clinical_encoder.h"
#include "text/tokenizer.h"

namespace cervirisk::bundle {

struct FeatureSpec {
  imaging::PreprocessParams imaging;
  imaging::AugmentParams augment;              // training only; not saved
  std::shared_ptr<text::Tokenizer> tokenizer;  // null: no reports in the training cohort
  std::int64_t max_tokens = 128;
  text::LongPolicy policy = text::LongPolicy::kHeadTail;
  models::ClinicalEncoder clinical;
};

// preprocessing.json (imaging and text settings; the vocabulary and encoder are their own files).
nlohmann::json preprocessing_json(const FeatureSpec& spec);
void write_preprocessing(const std::filesystem::path& file, const FeatureSpec& spec);
// The spec of a bundle folder: preprocessing.json, vocab.txt (when present), clinical.json (when
// present). FormatError naming the file and field on a corrupt or foreign file.
FeatureSpec read_feature_spec(const std::filesystem::path& dir);

}  // namespace cervirisk::bundle
