// The study's per-patient features and datasets (features.h).
#include "bundle/features.h"

#include "imaging/augment.h"

namespace cervirisk::bundle {

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

// The image planes, then the mask planes when the crop carries them (params.mask_channel).
static torch::Tensor crop_tensor(const imaging::Crop& c) {
  auto planes = [&](const std::vector<float>& v) {
    return torch::from_blob(const_cast<float*>(v.data()), {c.channels, c.height, c.width}, torch::kFloat32);
  };
  if (c.mask.empty()) return planes(c.data).clone();
  return torch::cat({planes(c.data), planes(c.mask)}, 0);
}

train::TensorDict feature_tensors(const PatientFeatures& f, const FeatureSpec& spec, std::mt19937_64* rng) {
  train::TensorDict d;
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

models::ModelInputs model_inputs(const train::TensorDict& b) {
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

train::Sample FeatureDataset::get(std::size_t index, std::mt19937_64* augment_rng) const {
  const PatientFeatures& f = *patients_[index];
  train::Sample s;
  s.id = f.id;
  s.inputs = feature_tensors(f, *spec_, augment_rng);
  s.label = f.label;
  s.time = f.time;
  s.event = f.event;
  return s;
}

Scores score_dataset(models::RecurrenceModel& model, const train::Dataset& data, std::int64_t batch_size) {
  torch::NoGradGuard ng;
  const bool was_training = model->is_training();
  model->eval();
  Scores s;
  const auto n = static_cast<std::int64_t>(data.size());
  for (std::int64_t b = 0; b < n; b += batch_size) {
    std::vector<train::Sample> samples;
    std::vector<std::int64_t> idx;
    for (std::int64_t i = b; i < std::min(n, b + batch_size); ++i) {
      samples.push_back(data.get(static_cast<std::size_t>(i), nullptr));
      idx.push_back(i);
    }
    train::Batch batch = train::collate(std::move(samples), idx);
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

torch::Tensor fused_vectors(models::RecurrenceModel& model, const std::vector<const train::Dataset*>& data,
                            std::int64_t batch_size) {
  torch::NoGradGuard ng;
  model->eval();
  std::vector<torch::Tensor> fused;
  for (const train::Dataset* ds : data)
    for (std::int64_t b0 = 0; b0 < static_cast<std::int64_t>(ds->size()); b0 += batch_size) {
      std::vector<train::Sample> smp;
      for (std::int64_t i = b0; i < std::min<std::int64_t>(ds->size(), b0 + batch_size); ++i)
        smp.push_back(ds->get(static_cast<std::size_t>(i), nullptr));
      fused.push_back(model->forward(model_inputs(train::collate(std::move(smp)).inputs)).embeddings.at("fused"));
    }
  return torch::cat(fused, 0).contiguous();
}

}  // namespace cervirisk::bundle
