// A model bundle: the folder models/<variant>/ that predicts for a new patient on its own.
//   model.json          runfolder::ModelInfo (format tag, architecture, threshold, cut-point, ...)
//   weights.safetensors the state dict (HF / timm parameter names)
//   preprocessing.json  imaging and text settings (feature_spec.h)
//   vocab.txt, tokenizer_config.json   when the variant reads reports
//   clinical.json       the clinical encoder, when the variant reads clinical data
//   history.csv         the training curve (runfolder::EpochRow)
// model.json is written last and read first: its format tag versions the whole bundle.
#pragma once

#include <filesystem>
#include <vector>

#include "bundle/feature_spec.h"
#include "models/arch.h"
#include "models/fusion.h"
#include "models/weights.h"
#include "runfolder/history.h"
#include "runfolder/model_info.h"

namespace cervirisk::bundle {

struct Bundle {
  runfolder::ModelInfo info;
  models::ArchConfig arch;
  FeatureSpec spec;
  models::RecurrenceModel model{nullptr};
  // explain_background.safetensors (absent in older bundles): the training-cohort backgrounds of
  // one patient's modality and clinical Shapley values (study/steps.h explanation_background).
  models::TensorMap background;
};

// Writes every file of the bundle into dir (model.json last). info.arch is set from arch.
void write_bundle(const std::filesystem::path& dir, const models::RecurrenceModel& model, const models::ArchConfig& arch,
                  const FeatureSpec& spec, runfolder::ModelInfo info, const std::vector<runfolder::EpochRow>& history,
                  const models::TensorMap& background = {});

// Loads a bundle: InputError when model.json is missing, FormatError on a foreign format tag or a
// corrupt file, ModelError when the weights do not fit the architecture.
Bundle load_bundle(const std::filesystem::path& dir);

}  // namespace cervirisk::bundle
