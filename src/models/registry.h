// Builds any variant of the model family from an architecture description, and the presets:
//   paper     ConvNeXt-T on 224 px tumour crops, CrossViT-tiny-like dual path at 224 px,
//             BERT-base sizes (a GPU job)
//   cpu-small ConvNeXt atto-like on 64 px tumour crops, a small dual-path ViT on 64 / 96 px
//             crops, a 2-layer BERT with hidden 128 (the whole study trains in minutes on 2 cores)
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/config_fwd.h"
#include "models/arch.h"
#include "models/bert.h"
#include "models/fusion.h"

namespace cervirisk::models {

// What the data decides (fitted on the training cohort).
struct DataSizes {
  std::int64_t clinical_features = 0;  // ClinicalEncoder::feature_count()
  std::int64_t vocab_size = 0;         // tokenizer vocabulary size
  std::int64_t in_chans = 3;           // 2 * neighbours + 1
  std::int64_t tumour_size = 0;        // 0 = the preset's
  std::int64_t context_size = 0;       // 0 = the preset's
};

const std::vector<std::string>& preset_names();  // {"cpu-small", "paper"}
// Throws ConfigError for an unknown preset (naming the choices) or inconsistent sizes.
ArchConfig make_arch(const std::string& preset, Variant variant, const DataSizes& sizes = {});
ArchConfig make_arch(const std::string& preset, const std::string& variant, const DataSizes& sizes = {});

// Reads an architecture description from a file (model.arch_file): JSON, or TOML with the same
// fields (.toml).
ArchConfig load_arch(const std::filesystem::path& file);

// The architecture a study config asks for: model.arch_file if set (its variant replaced by
// `variant`), else the model.preset; then the config's model.fusion_dim, model.dropout,
// model.modality_dropout, model.cox_head and text.embedding, and the crop sizes
// preprocess.tumour_size_px / context_size_px when the config sets them (else the preset's).
// Data-dependent sizes come from `sizes`.
ArchConfig arch_from_config(const config::Config& cfg, Variant variant, const DataSizes& sizes);

// Builds the model (fresh weights, seeded by the caller). Text variants get a models::Bert of
// arch.text (make_bert_text_encoder).
RecurrenceModel build_model(const ArchConfig& arch);

// The report encoder of msm_t / msm_tc around a BERT (HF-compatible): its parameters sit under
// "text." with HF's names (text.embeddings.word_embeddings.weight, ...). A pretrained or
// MLM-pretrained BERT plugs in with
//   arch.text = ckpt.config;
//   RecurrenceModel m(arch, make_bert_text_encoder(ckpt.model, arch.text_pooling));
TextEncoderPtr make_bert_text_encoder(Bert bert, ReportEmbedding pooling = ReportEmbedding::kCls);
// The BERT inside a model's text encoder (null when the variant has none or another encoder).
Bert text_bert(const RecurrenceModel& model);

}  // namespace cervirisk::models

namespace cervirisk::models {

// An architecture by name, for `cervirisk weights` and the benchmarks: timm's ConvNeXt sizes
// (convnext_atto ... convnext_large, 1000-class head), timm's CrossViT (crossvit_tiny_240,
// _small_240, _base_240, _9_240, _15_240, _18_240, 1000-class heads), HF BERT ("bert": sizes from
// the checkpoint's config.json / shapes, else the preset's), our variants (clinical,
// convnext, vit, msm, msm_t, msm_tc; sizes from `preset`), or a model.json / architecture file.
struct NamedArchitecture {
  std::string name;
  std::shared_ptr<torch::nn::Module> module;
  std::function<LoadOptions(const TensorMap&)> load_options;
  // Eval-mode forward on named inputs ("input", or tumour/context/text_ids/text_mask/clinical);
  // returns at least "output".
  std::function<TensorMap(const TensorMap&)> forward;
  std::int64_t flops = 0;   // per input (one image / one patient)
  std::string input_shapes; // e.g. "input [B, 3, 224, 224]"
};
// `hint` (optional): a checkpoint whose shapes fix data-dependent sizes (clinical features,
// vocabulary) of our variants. Throws ConfigError for an unknown name (listing the choices).
// `hint_path`: where the checkpoint came from (BERT: its config.json, in the folder or beside the
// file, fixes the sizes).
NamedArchitecture named_architecture(const std::string& name, const std::string& preset = "cpu-small",
                                     const TensorMap* hint = nullptr,
                                     const std::filesystem::path& hint_path = {});
std::vector<std::string> architecture_names();

}  // namespace cervirisk::models
