// How the encoders of every variant start: pretrained image backbones (model.convnext_weights,
// model.vit_weights), a pretrained BERT (text.pretrained, optionally with continued MLM on the
// training reports) or the study's own MLM-pretrained BERT; read once, recorded in every bundle.
#include <fmt/format.h>

#include <algorithm>

#include "core/config.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/log.h"
#include "models/bert.h"
#include "models/pretrained.h"
#include "study/steps.h"

namespace cervirisk::study {

namespace fs = std::filesystem;

namespace {

bool any_variant_with(const std::vector<std::string>& variants, bool models::Modalities::*branch) {
  return std::any_of(variants.begin(), variants.end(),
                     [&](const std::string& v) { return models::modalities_of(models::parse_variant(v)).*branch; });
}

models::PretrainedFile image_checkpoint(const config::Config& cfg, const std::vector<std::string>& variants,
                                        const char* key, const char* part, bool models::Modalities::*branch) {
  if (cfg.get_string(key).empty()) return {};
  if (!any_variant_with(variants, branch)) {
    log::warn("{} is set but no variant in train.variants has the {} branch: not read", key, part);
    return {};
  }
  auto f = models::read_pretrained(part, key, cfg.get_path(key));
  log::info("{}: {} ({} tensors, sha256 {})", key, f.file.string(), f.tensors.size(), f.sha256.substr(0, 16));
  return f;
}

std::string input_note(const torch::Tensor& ckpt_stem, std::int64_t in_chans) {
  if (!ckpt_stem.defined() || ckpt_stem.dim() != 4 || ckpt_stem.size(1) == in_chans) return "";
  return fmt::format("input convolution adapted from {} to {} planes (timm's adapt_input_conv)", ckpt_stem.size(1),
                     in_chans);
}

const torch::Tensor* find_tensor(const models::TensorMap& t, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (auto it = t.find(n); it != t.end()) return &it->second;
  return nullptr;
}

}  // namespace

StudyInit study_init(const config::Config& cfg, const StudySettings& settings, const std::vector<std::string>& variants,
                     const StudyFeatures& features, const SelectionPlan& plan, StepTimer& timer) {
  StudyInit init;
  init.convnext = image_checkpoint(cfg, variants, "model.convnext_weights", "convnext", &models::Modalities::convnext);
  init.vit = image_checkpoint(cfg, variants, "model.vit_weights", "vit", &models::Modalities::vit);
  for (const auto* f : {&init.convnext, &init.vit})
    if (!f->empty())
      init.records.push_back({f->part, f->key, f->file.filename().string(), f->sha256, 0, ""});
  init.bert = pretrain_text(cfg, settings, variants, features, plan, timer);
  if (!init.bert.empty()) {
    const auto epochs = cfg.get_int("text.pretrain_epochs");
    runfolder::Initialisation r;
    r.part = "text";
    if (!cfg.get_string("text.pretrained").empty()) {
      const fs::path file = models::bert_weights_file(cfg.get_path("text.pretrained"));
      r.key = "text.pretrained";
      r.file = cfg.get_path("text.pretrained").filename().string() + "/" + file.filename().string();
      r.sha256 = sha256_file(file);
      r.note = epochs > 0 ? fmt::format("continued masked-language-model pretraining, {} epochs on the training reports", epochs)
                          : "as published (no continued pretraining)";
    } else {
      r.key = "text.pretrain_epochs";
      r.note = fmt::format("masked-language-model pretraining from random weights, {} epochs on the training reports", epochs);
    }
    init.records.push_back(r);
  }
  return init;
}

void apply_init(const StudyInit& init, models::RecurrenceModel& model) {
  if (model->convnext && !init.convnext.empty()) models::load_convnext_pretrained(*model, init.convnext);
  if (model->vit && !init.vit.empty()) models::load_vit_pretrained(*model, init.vit);
  if (!init.bert.empty())
    if (auto b = models::text_bert(model)) models::load_weights(*b, init.bert);
}

std::vector<runfolder::Initialisation> init_records(const StudyInit& init, models::RecurrenceModel& model) {
  std::vector<runfolder::Initialisation> used;
  auto record = [&](const std::string& part) -> runfolder::Initialisation* {
    for (const auto& r : init.records)
      if (r.part == part) {
        used.push_back(r);
        return &used.back();
      }
    return nullptr;
  };
  const auto in_chans = model->arch().in_chans;
  if (model->convnext && !init.convnext.empty()) {
    const auto rep = models::load_convnext_pretrained(*model, init.convnext, /*copy=*/false);
    auto* r = record("convnext");
    r->tensors = static_cast<std::int64_t>(rep.loaded.size());
    const auto* stem = find_tensor(init.convnext.tensors, {"stem.0.weight", "features.0.0.weight"});
    r->note = input_note(stem ? *stem : torch::Tensor(), in_chans);
  }
  if (model->vit && !init.vit.empty()) {
    const auto rep = models::load_vit_pretrained(*model, init.vit, /*copy=*/false);
    auto* r = record("vit");
    r->tensors = static_cast<std::int64_t>(rep.loaded.size());
    std::vector<std::string> notes;
    const auto* pe = find_tensor(init.vit.tensors, {"patch_embed.0.proj.weight"});
    if (pe) {
      const auto n = input_note(*pe, in_chans);
      if (!n.empty()) notes.push_back(n);
    }
    for (int d = 0; d < 2; ++d) {
      const auto name = fmt::format("pos_embed_{}", d);
      const auto* p = find_tensor(init.vit.tensors, {name.c_str()});
      const auto params = model->vit->named_parameters();
      const torch::Tensor* target = params.find(name);
      if (p && target && p->sizes() != target->sizes())
        notes.push_back(fmt::format("{} interpolated from {} to {} tokens (bicubic, as timm)", name, p->size(1) - 1,
                                    target->size(1) - 1));
    }
    for (const auto& n : notes) r->note += (r->note.empty() ? "" : "; ") + n;
  }
  if (!init.bert.empty())
    if (auto b = models::text_bert(model)) {
      const auto rep = models::check_weights(*b, init.bert);
      if (auto* r = record("text")) r->tensors = static_cast<std::int64_t>(rep.loaded.size());
    }
  return used;
}

}  // namespace cervirisk::study
