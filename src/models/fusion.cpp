#include "models/fusion.h"

#include "core/error.h"

namespace cervirisk::models {

ModelInputs ModelInputs::narrow(std::int64_t begin, std::int64_t end) const {
  ModelInputs part;
  for (auto [dst, src] : {std::pair{&part.tumour, &tumour}, {&part.context, &context}, {&part.text_ids, &text_ids},
                          {&part.text_mask, &text_mask}, {&part.clinical, &clinical}, {&part.has_text, &has_text},
                          {&part.has_clinical, &has_clinical}})
    if (src->defined()) *dst = src->narrow(0, begin, end - begin);
  return part;
}

ClinicalMlpImpl::ClinicalMlpImpl(std::int64_t in, std::int64_t hidden, double dropout)
    : fc1(register_module("fc1", torch::nn::Linear(in, hidden))),
      fc2(register_module("fc2", torch::nn::Linear(hidden, hidden))),
      drop(register_module("drop", Dropout(dropout))) {}

torch::Tensor ClinicalMlpImpl::forward(const torch::Tensor& x) {
  return torch::gelu(fc2(drop(torch::gelu(fc1(x)))));
}

namespace {
torch::nn::Sequential projection(std::int64_t in, std::int64_t out) {
  return torch::nn::Sequential(torch::nn::Linear(in, out), torch::nn::LayerNorm(torch::nn::LayerNormOptions({out})));
}

void add_projection(torch::nn::ModuleDict& dict, const std::string& name, torch::nn::Sequential seq) {
  std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> item{{name, seq.ptr()}};
  dict->update(item);
}

void require(const torch::Tensor& t, const char* name, std::int64_t dims, const char* variant) {
  if (!t.defined())
    throw ModelError(std::string("model input '") + name + "' is required by variant " + variant + " but missing");
  if (t.dim() != dims)
    throw ModelError(std::string("model input '") + name + "' must have " + std::to_string(dims) +
                     " dimensions, got " + c10::str(t.sizes()));
}
}  // namespace

RecurrenceModelImpl::RecurrenceModelImpl(const ArchConfig& arch, TextEncoderPtr text_encoder) : arch_(arch) {
  arch_.validate();
  const auto m = arch_.modalities();
  const auto F = arch_.fusion_dim;
  proj = register_module("proj", torch::nn::ModuleDict());
  if (m.convnext) {
    auto c = arch_.convnext;
    c.in_chans = arch_.in_chans;
    c.num_classes = 0;
    convnext = register_module("convnext", ConvNeXt(c));
    add_projection(proj, "convnext", projection(c.embed_dim() * (arch_.convnext_context ? 2 : 1), F));
    order_.push_back("convnext");
  }
  if (m.vit) {
    auto v = arch_.vit;
    v.in_chans = arch_.in_chans;
    v.num_classes = 0;
    v.img_size = {arch_.tumour_size, arch_.context_size};
    vit = register_module("vit", DualPathVit(v));
    add_projection(proj, "vit", projection(v.embed_total(), F));
    order_.push_back("vit");
  }
  if (m.text) {
    if (!text_encoder) throw ModelError(std::string("variant ") + variant_name(arch_.variant) + " needs a text encoder");
    text = register_module(TextEncoderImpl::kName, text_encoder);
    add_projection(proj, "text", projection(text->dim(), F));
    missing_text = register_parameter("missing_text", torch::randn({F}) * 0.02);
    order_.push_back("text");
  }
  if (m.clinical) {
    clinical = register_module("clinical", ClinicalMlp(arch_.clinical_features, arch_.clinical_hidden, arch_.dropout));
    add_projection(proj, "clinical", projection(arch_.clinical_hidden, F));
    missing_clinical = register_parameter("missing_clinical", torch::randn({F}) * 0.02);
    order_.push_back("clinical");
  }
  const auto n = static_cast<std::int64_t>(order_.size()) * F;
  head = register_module("head", torch::nn::Sequential(torch::nn::LayerNorm(torch::nn::LayerNormOptions({n})),
                                                       torch::nn::Linear(n, arch_.head_hidden), torch::nn::GELU(),
                                                       Dropout(arch_.dropout)));
  classifier = register_module("classifier", torch::nn::Linear(arch_.head_hidden, 1));
  if (arch_.cox_head) risk_head = register_module("risk_head", torch::nn::Linear(arch_.head_hidden, 1));
}

torch::Tensor RecurrenceModelImpl::apply_missing(const torch::Tensor& projected, const torch::Tensor& present,
                                                 const torch::Tensor& token) {
  const auto b = projected.size(0);
  auto keep = present.defined() ? present.to(torch::kBool).to(projected.device()).reshape({b})
                                : torch::ones({b}, torch::TensorOptions().dtype(torch::kBool).device(projected.device()));
  // Modality dropout only when another modality remains (never for a single-input variant).
  if (is_training() && arch_.modality_dropout > 0 && order_.size() > 1)
    keep = keep & (uniform({b}, projected.options()) >= arch_.modality_dropout);
  return torch::where(keep.unsqueeze(1), projected, token.unsqueeze(0).expand_as(projected));
}

FusionOutput RecurrenceModelImpl::forward(const ModelInputs& inputs) {
  // Inputs follow the model to its device (train.device / --device); a no-op on the same device.
  const auto device = classifier->weight.device();
  const bool move = [&] {
    for (const auto* t : {&inputs.tumour, &inputs.context, &inputs.text_ids, &inputs.clinical})
      if (t->defined() && t->device() != device) return true;
    return false;
  }();
  ModelInputs moved;
  if (move) {
    auto to = [&](const torch::Tensor& t) { return t.defined() ? t.to(device) : t; };
    moved.tumour = to(inputs.tumour);
    moved.context = to(inputs.context);
    moved.text_ids = to(inputs.text_ids);
    moved.text_mask = to(inputs.text_mask);
    moved.has_text = to(inputs.has_text);
    moved.clinical = to(inputs.clinical);
    moved.has_clinical = to(inputs.has_clinical);
  }
  const ModelInputs& in = move ? moved : inputs;
  FusionOutput out;
  std::vector<torch::Tensor> parts;
  const char* vname = variant_name(arch_.variant);
  if (convnext) {
    require(in.tumour, "tumour", 4, vname);
    auto r = convnext->forward(in.tumour);
    out.convnext_features = r.features;
    if (arch_.convnext_context) {
      require(in.context, "context", 4, vname);
      auto rc = convnext->forward(in.context);
      out.convnext_context_features = rc.features;
      r.embedding = torch::cat({r.embedding, rc.embedding}, 1);
    }
    out.embeddings["convnext"] = r.embedding;
    parts.push_back(proj["convnext"]->as<torch::nn::SequentialImpl>()->forward(r.embedding));
  }
  if (vit) {
    require(in.tumour, "tumour", 4, vname);
    require(in.context, "context", 4, vname);
    auto r = vit->forward(in.tumour, in.context);
    out.embeddings["vit"] = r.embedding;
    out.attention_a = std::move(r.attention_a);
    out.attention_b = std::move(r.attention_b);
    out.cross_attention = std::move(r.cross_attention);
    out.vit_tokens = r.last_block_input;
    parts.push_back(proj["vit"]->as<torch::nn::SequentialImpl>()->forward(r.embedding));
  }
  std::int64_t batch = -1;
  for (const auto* t : {&in.tumour, &in.context, &in.text_ids, &in.clinical, &in.has_text, &in.has_clinical})
    if (batch < 0 && t->defined() && t->dim() >= 1) batch = t->size(0);
  // Clinical values arrive as float or double; the model computes in its own parameters' dtype.
  auto options = torch::TensorOptions().dtype(classifier->weight.scalar_type());
  if (text) {
    bool any = in.text_ids.defined() && (!in.has_text.defined() || in.has_text.any().item<bool>());
    torch::Tensor p;
    if (any) {
      require(in.text_ids, "text_ids", 2, vname);
      auto mask = in.text_mask.defined() ? in.text_mask : torch::ones_like(in.text_ids);
      auto e = text->encode(in.text_ids, mask);
      out.embeddings["text"] = e;
      p = apply_missing(proj["text"]->as<torch::nn::SequentialImpl>()->forward(e), in.has_text, missing_text);
    } else {
      if (batch < 0) throw ModelError("model input: no batch size (no input tensor is defined)");
      p = missing_text.unsqueeze(0).expand({batch, arch_.fusion_dim});
    }
    parts.push_back(p);
  }
  if (clinical) {
    bool any = in.clinical.defined() && (!in.has_clinical.defined() || in.has_clinical.any().item<bool>());
    torch::Tensor p;
    if (any) {
      require(in.clinical, "clinical", 2, vname);
      if (in.clinical.size(1) != arch_.clinical_features)
        throw ModelError("model input 'clinical' has " + std::to_string(in.clinical.size(1)) +
                         " features, the model expects " + std::to_string(arch_.clinical_features));
      auto e = clinical->forward(in.clinical.to(options.device(in.clinical.device())));
      out.embeddings["clinical"] = e;
      p = apply_missing(proj["clinical"]->as<torch::nn::SequentialImpl>()->forward(e), in.has_clinical,
                        missing_clinical);
    } else {
      if (batch < 0) throw ModelError("model input: no batch size (no input tensor is defined)");
      p = missing_clinical.unsqueeze(0).expand({batch, arch_.fusion_dim});
    }
    parts.push_back(p);
  }
  auto fused = torch::cat(parts, 1);
  out.embeddings["fused"] = fused;
  auto hidden = head->forward(fused);
  out.logit = classifier(hidden).squeeze(-1);
  if (risk_head) out.risk = risk_head(hidden).squeeze(-1);
  return out;
}

bool RecurrenceModelImpl::is_backbone_name(const std::string& name) {
  return name.rfind("convnext.", 0) == 0 || name.rfind("vit.", 0) == 0 || name.rfind("text.", 0) == 0;
}

std::vector<torch::Tensor> RecurrenceModelImpl::backbone_parameters() const {
  std::vector<torch::Tensor> v;
  for (const auto& p : named_parameters(true))
    if (is_backbone_name(p.key())) v.push_back(p.value());
  return v;
}

std::vector<torch::Tensor> RecurrenceModelImpl::head_parameters() const {
  std::vector<torch::Tensor> v;
  for (const auto& p : named_parameters(true))
    if (!is_backbone_name(p.key())) v.push_back(p.value());
  return v;
}

std::int64_t RecurrenceModelImpl::flops(std::int64_t text_tokens) const {
  std::int64_t f = 0;
  const auto F = arch_.fusion_dim;
  if (convnext) {
    const std::int64_t views = arch_.convnext_context ? 2 : 1;
    f += convnext->flops(arch_.tumour_size, arch_.tumour_size) + 2 * views * convnext->config().embed_dim() * F;
    if (arch_.convnext_context) f += convnext->flops(arch_.context_size, arch_.context_size);
  }
  if (vit) f += vit->flops() + 2 * vit->config().embed_total() * F;
  if (text) f += text->flops(text_tokens) + 2 * text->dim() * F;
  if (clinical)
    f += 2 * (arch_.clinical_features * arch_.clinical_hidden + arch_.clinical_hidden * arch_.clinical_hidden) +
         2 * arch_.clinical_hidden * F;
  const auto n = static_cast<std::int64_t>(order_.size()) * F;
  f += 2 * n * arch_.head_hidden + 2 * arch_.head_hidden * (arch_.cox_head ? 2 : 1);
  return f;
}

}  // namespace cervirisk::models
