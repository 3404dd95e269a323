// The recurrence model of every variant: per-modality encoders (ConvNeXt on the tumour crop,
// the dual-path ViT on tumour + context crops, a BERT report embedding, the clinical MLP) ->
// per-modality projection -> concatenation -> MLP head -> recurrence logit (+ optional Cox
// risk). Text and clinical data may be missing: a learned "missing" token per optional modality
// stands in for them, and in training whole modalities are dropped at random (modality dropout,
// Neverova et al. 2016, "ModDrop", doi:10.1109/TPAMI.2015.2461544) so the model copes at
// prediction time.
#pragma once

#include <torch/torch.h>

#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "models/arch.h"
#include "models/convnext.h"
#include "models/dual_path_vit.h"
#include "models/rng.h"

namespace cervirisk::models {

// One batch. Tensors a variant does not read may be undefined.
struct ModelInputs {
  torch::Tensor tumour;        // [B, C, H, W] float
  torch::Tensor context;       // [B, C, H2, W2] float
  torch::Tensor text_ids;      // [B, L] int64
  torch::Tensor text_mask;     // [B, L] (1 = token, 0 = padding)
  torch::Tensor clinical;      // [B, F] float, already encoded (ClinicalEncoder)
  torch::Tensor has_text;      // [B] bool; undefined = all present when text_ids is defined
  torch::Tensor has_clinical;  // [B] bool; undefined = all present when clinical is defined

  // Rows [begin, end) of every defined input (views, no copy).
  ModelInputs narrow(std::int64_t begin, std::int64_t end) const;
};

struct FusionOutput {
  torch::Tensor logit;  // [B] recurrence logit
  torch::Tensor risk;   // [B] Cox log-risk, undefined without a Cox head
  // Per-modality embeddings before projection ("convnext", "vit", "text", "clinical") and the
  // fused vector ("fused", the head's input).
  std::map<std::string, torch::Tensor> embeddings;
  std::vector<torch::Tensor> attention_a;      // ViT branch A (tumour), per block [B, h, N, N]
  std::vector<torch::Tensor> attention_b;      // ViT branch B (context)
  std::vector<torch::Tensor> cross_attention;  // per multi-scale block: A-CLS, B-CLS [B, h, 1, N]
  torch::Tensor convnext_features;             // last ConvNeXt stage map [B, C, h, w] (Grad-CAM)
  torch::Tensor convnext_context_features;     // ... on the context crop (arch.convnext_context)
  std::array<torch::Tensor, 2> vit_tokens;     // ViT A / B tokens entering the last block (Grad-CAM)
};

// A report encoder that can be plugged into the fusion model (BERT; see registry.h).
class TextEncoderImpl : public torch::nn::Module {
 public:
  // ids [B, L] int64, mask [B, L] -> [B, dim()].
  virtual torch::Tensor encode(const torch::Tensor& ids, const torch::Tensor& mask) = 0;
  virtual std::int64_t dim() const = 0;
  // Multiply-adds x 2 for one sequence of `tokens` tokens (0 when unknown).
  virtual std::int64_t flops(std::int64_t tokens) const { (void)tokens; return 0; }
  // Prefix of this encoder's parameters in the model (its checkpoint keys follow it).
  static constexpr const char* kName = "text";
};
using TextEncoderPtr = std::shared_ptr<TextEncoderImpl>;

// Clinical vector -> hidden embedding: Linear -> GELU -> Dropout -> Linear -> GELU.
struct ClinicalMlpImpl : torch::nn::Module {
  ClinicalMlpImpl(std::int64_t in, std::int64_t hidden, double dropout);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  Dropout drop{nullptr};
};
TORCH_MODULE(ClinicalMlp);

class RecurrenceModelImpl : public torch::nn::Module {
 public:
  // `text` is required for msm_t / msm_tc (build_model makes it); ignored otherwise.
  RecurrenceModelImpl(const ArchConfig& arch, TextEncoderPtr text = nullptr);

  FusionOutput forward(const ModelInputs& in);

  const ArchConfig& arch() const { return arch_; }
  // Pretrained-capable encoders (ConvNeXt, ViT, BERT): the lower "backbone" learning rate.
  std::vector<torch::Tensor> backbone_parameters() const;
  // Everything else (projections, missing tokens, clinical MLP, heads).
  std::vector<torch::Tensor> head_parameters() const;
  // Names of the backbone parameter prefixes ("convnext.", "vit.", "text.").
  static bool is_backbone_name(const std::string& name);
  // Multiply-adds x 2 of one forward pass for one patient (a report of `text_tokens` tokens).
  std::int64_t flops(std::int64_t text_tokens = 128) const;
  // Modalities in concatenation order ("convnext", "vit", "text", "clinical" as used).
  const std::vector<std::string>& modality_order() const { return order_; }

  // Submodules (registered under these names; null when the variant does not use them).
  ConvNeXt convnext{nullptr};
  DualPathVit vit{nullptr};
  TextEncoderPtr text;
  ClinicalMlp clinical{nullptr};
  torch::nn::ModuleDict proj{nullptr};  // proj.<modality>: Linear(embedding -> fusion_dim) + LayerNorm
  torch::Tensor missing_text, missing_clinical;  // [fusion_dim] learned tokens
  torch::nn::Sequential head{nullptr};  // LayerNorm, Linear(-> head_hidden), GELU, Dropout
  torch::nn::Linear classifier{nullptr};  // head_hidden -> 1: the recurrence logit
  torch::nn::Linear risk_head{nullptr};   // head_hidden -> 1: Cox log-risk (cox_head only)

 private:
  // Keeps rows where `present` is true, others get the missing token; in training also drops
  // whole rows with probability modality_dropout.
  torch::Tensor apply_missing(const torch::Tensor& projected, const torch::Tensor& present,
                              const torch::Tensor& token);
  ArchConfig arch_;
  std::vector<std::string> order_;  // modality order in the concatenation
};
TORCH_MODULE(RecurrenceModel);

}  // namespace cervirisk::models
