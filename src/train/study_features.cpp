// The study's feature pipeline and model bundle (see study_features.h).
#include "train/study_features.h"

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "imaging/augment.h"
#include "models/registry.h"
#include "models/weights.h"

namespace cervirisk::train {

namespace fs = std::filesystem;
using json = nlohmann::json;

json FeatureSpec::to_json() const {
  json j;
  j["imaging"] = {{"spacing_mm", imaging.spacing_mm},
                  {"tumour_margin_mm", imaging.tumour_margin_mm},
                  {"context_margin_mm", imaging.context_margin_mm},
                  {"context_fov_mm", imaging.context_fov_mm},
                  {"neighbours", imaging.neighbours},
                  {"tumour_size_px", imaging.tumour_size_px},
                  {"context_size_px", imaging.context_size_px},
                  {"clip_percentiles", {imaging.clip_low_percentile, imaging.clip_high_percentile}},
                  {"normalise", imaging::normalisation_name(imaging.normalise)},
                  {"canonical", imaging.canonical()}};
  j["text"] = {{"max_tokens", max_tokens}, {"long_policy", text::long_policy_name(policy)}, {"has_vocab", tokenizer != nullptr}};
  return j;
}

static FeatureSpec spec_from_json(const json& j, const fs::path& dir) {
  FeatureSpec s;
  try {
    const auto& im = j.at("imaging");
    s.imaging.spacing_mm = im.at("spacing_mm").get<double>();
    s.imaging.tumour_margin_mm = im.at("tumour_margin_mm").get<double>();
    s.imaging.context_margin_mm = im.at("context_margin_mm").get<double>();
    s.imaging.context_fov_mm = im.at("context_fov_mm").get<double>();
    s.imaging.neighbours = im.at("neighbours").get<int>();
    s.imaging.tumour_size_px = im.at("tumour_size_px").get<int>();
    s.imaging.context_size_px = im.at("context_size_px").get<int>();
    s.imaging.clip_low_percentile = im.at("clip_percentiles").at(0).get<double>();
    s.imaging.clip_high_percentile = im.at("clip_percentiles").at(1).get<double>();
    const std::string n = im.at("normalise").get<std::string>();
    s.imaging.normalise = n == "minmax" ? imaging::Normalisation::kMinMax
                          : n == "none" ? imaging::Normalisation::kNone
                                        : imaging::Normalisation::kZScore;
    const auto& t = j.at("text");
    s.max_tokens = t.at("max_tokens").get<std::int64_t>();
    s.policy = text::long_policy_from_name(t.at("long_policy").get<std::string>());
  } catch (const json::exception& e) {
    throw FormatError((dir / "preprocessing.json").string() + ": " + e.what());
  }
  if (fs::exists(dir / "vocab.txt"))
    s.tokenizer = std::make_shared<text::Tokenizer>(text::Tokenizer::from_pretrained(dir));
  if (fs::exists(dir / "clinical.json"))
    s.clinical = models::ClinicalEncoder::from_json(json::parse(read_file(dir / "clinical.json")));
  return s;
}

void fill_text_clinical(const FeatureSpec& spec, const std::optional<std::string>& report,
                        const models::ClinicalRow& row, PatientFeatures& f) {
  const auto L = static_cast<std::size_t>(spec.max_tokens);
  f.text_ids.assign(L, 0);
  f.text_mask.assign(L, 0);
  f.has_text = false;
  if (spec.tokenizer) {
    f.text_ids[0] = spec.tokenizer->cls_id();
    f.text_ids[1] = spec.tokenizer->sep_id();
    f.text_mask[0] = f.text_mask[1] = 1;
    if (report && !report->empty()) {
      // Chunked reports use the first window here (the model embeds one row per patient).
      const auto policy = spec.policy == text::LongPolicy::kChunks ? text::LongPolicy::kHeadTail : spec.policy;
      const auto enc = spec.tokenizer->encode(*report, L, policy);
      f.text_ids = enc.chunks.at(0).ids;
      f.text_mask = enc.chunks.at(0).attention_mask;
      f.has_text = enc.n_tokens > 0;
    }
  }
  f.clinical.clear();
  f.has_clinical = false;
  if (spec.clinical.feature_count() > 0) {
    f.clinical = spec.clinical.encode(row);
    for (const auto& [k, v] : row)
      if (!models::is_missing_value(v)) f.has_clinical = true;
  }
}

static torch::Tensor crop_tensor(const imaging::Crop& c) {
  return torch::from_blob(const_cast<float*>(c.data.data()), {c.channels, c.height, c.width}, torch::kFloat32).clone();
}

TensorDict feature_tensors(const PatientFeatures& f, const FeatureSpec& spec, std::mt19937_64* rng) {
  TensorDict d;
  if (rng && spec.augment.enabled) {
    imaging::PatientSample s = f.image;
    imaging::augment(s, spec.augment, *rng);
    d["tumour"] = crop_tensor(s.tumour);
    d["context"] = crop_tensor(s.context);
  } else {
    d["tumour"] = crop_tensor(f.image.tumour);
    d["context"] = crop_tensor(f.image.context);
  }
  const auto L = static_cast<std::int64_t>(f.text_ids.size());
  d["text_ids"] = torch::from_blob(const_cast<std::int64_t*>(f.text_ids.data()), {L}, torch::kInt64).clone();
  d["text_mask"] = torch::from_blob(const_cast<std::int64_t*>(f.text_mask.data()), {L}, torch::kInt64).clone();
  d["has_text"] = torch::tensor(f.has_text);
  if (!f.clinical.empty()) {
    d["clinical"] = torch::from_blob(const_cast<float*>(f.clinical.data()), {static_cast<std::int64_t>(f.clinical.size())},
                                     torch::kFloat32)
                        .clone();
    d["has_clinical"] = torch::tensor(f.has_clinical);
  }
  return d;
}

models::ModelInputs model_inputs(const TensorDict& b) {
  models::ModelInputs in;
  auto get = [&](const char* k) {
    auto it = b.find(k);
    return it == b.end() ? torch::Tensor() : it->second;
  };
  in.tumour = get("tumour");
  in.context = get("context");
  in.text_ids = get("text_ids");
  in.text_mask = get("text_mask");
  in.has_text = get("has_text");
  if (in.has_text.defined()) in.has_text = in.has_text.to(torch::kBool);
  in.clinical = get("clinical");
  in.has_clinical = get("has_clinical");
  if (in.has_clinical.defined()) in.has_clinical = in.has_clinical.to(torch::kBool);
  return in;
}

Sample FeatureDataset::get(std::size_t index, std::mt19937_64* augment_rng) const {
  const PatientFeatures& f = *patients_[index];
  Sample s;
  s.id = f.id;
  s.inputs = feature_tensors(f, *spec_, augment_rng);
  s.label = f.label;
  s.time = f.time;
  s.event = f.event;
  return s;
}

Scores score_dataset(models::RecurrenceModel& model, const Dataset& data, std::int64_t batch_size) {
  torch::NoGradGuard ng;
  const bool was_training = model->is_training();
  model->eval();
  Scores s;
  const auto n = static_cast<std::int64_t>(data.size());
  for (std::int64_t b = 0; b < n; b += batch_size) {
    std::vector<Sample> samples;
    std::vector<std::int64_t> idx;
    for (std::int64_t i = b; i < std::min(n, b + batch_size); ++i) {
      samples.push_back(data.get(static_cast<std::size_t>(i), nullptr));
      idx.push_back(i);
    }
    Batch batch = collate(std::move(samples), idx);
    auto out = model->forward(model_inputs(batch.inputs));
    auto logit = out.logit.to(torch::kFloat64).contiguous();
    auto risk = out.risk.defined() ? out.risk.to(torch::kFloat64).contiguous() : logit;
    for (std::int64_t i = 0; i < logit.size(0); ++i) {
      s.logit.push_back(logit[i].item<double>());
      s.risk.push_back(risk[i].item<double>());
    }
  }
  if (was_training) model->train();
  return s;
}

Bundle load_bundle(const fs::path& dir) {
  if (!fs::exists(dir / "model.json"))
    throw InputError(dir.string() + ": not a model bundle (model.json missing; an interrupted bundle has none)");
  Bundle b;
  try {
    b.model_json = json::parse(read_file(dir / "model.json"));
    b.arch = models::ArchConfig::from_json(b.model_json.at("arch"));
    b.threshold = b.model_json.at("threshold").get<double>();
    b.cutpoint = b.model_json.at("cutpoint").get<double>();
  } catch (const json::exception& e) {
    throw FormatError((dir / "model.json").string() + ": " + e.what());
  }
  b.spec = spec_from_json(json::parse(read_file(dir / "preprocessing.json")), dir);
  b.model = models::build_model(b.arch);
  models::load_weights(*b.model, models::read_safetensors(dir / "weights.safetensors"));
  b.model->eval();
  return b;
}

}  // namespace cervirisk::train
