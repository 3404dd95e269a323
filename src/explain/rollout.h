// Attention rollout (Abnar & Zuidema 2020, "Quantifying Attention Flow in Transformers",
// ACL, doi:10.18653/v1/2020.acl-main.385): per layer, fuse the heads (mean / max / min),
// optionally discard the weakest attentions, add the residual path Ã = (A + I)/2, renormalise
// each row (keepdim: every row sums to 1 -- dividing by a non-keepdim sum would normalise
// columns, a known bug in a popular reference), and multiply through the layers
// R = Ã_L ⋯ Ã_1. The relevance of the patches for the prediction is R[CLS, patches].
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace cervirisk::explain {

enum class HeadFusion { kMean, kMax, kMin };
HeadFusion parse_head_fusion(const std::string& name);  // "mean" | "max" | "min"; throws ConfigError
std::string head_fusion_name(HeadFusion f);

struct RolloutOptions {
  HeadFusion fusion = HeadFusion::kMean;
  // Fraction of the lowest fused attentions set to 0 per layer (the CLS→CLS entry is kept),
  // as in Gildenblat's vit-explain; 0 keeps everything.
  double discard_ratio = 0.0;
};

// attentions: one tensor per layer, first layer first, each [heads, T, T] or [B, heads, T, T].
// Returns R with shape [T, T] (or [B, T, T]) in float64.
torch::Tensor attention_rollout(const std::vector<torch::Tensor>& attentions,
                                const RolloutOptions& options = {});

// R[cls, prefix_tokens:] reshaped to the patch grid: [grid_h, grid_w] (or [B, grid_h, grid_w]).
// prefix_tokens counts the CLS (and any register) tokens that precede the patches.
torch::Tensor rollout_patch_relevance(const torch::Tensor& rollout, int64_t grid_h, int64_t grid_w,
                                      int64_t prefix_tokens = 1, int64_t cls_index = 0);

}  // namespace cervirisk::explain
