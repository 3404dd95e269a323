#include "explain/rollout.h"

#include "core/error.h"

namespace cervirisk::explain {

HeadFusion parse_head_fusion(const std::string& name) {
  if (name == "mean") return HeadFusion::kMean;
  if (name == "max") return HeadFusion::kMax;
  if (name == "min") return HeadFusion::kMin;
  throw ConfigError("attention rollout: head fusion '" + name + "', expected mean, max or min");
}

std::string head_fusion_name(HeadFusion f) {
  switch (f) {
    case HeadFusion::kMean:
      return "mean";
    case HeadFusion::kMax:
      return "max";
    case HeadFusion::kMin:
      return "min";
  }
  return "?";
}

torch::Tensor attention_rollout(const std::vector<torch::Tensor>& attentions, const RolloutOptions& options) {
  if (attentions.empty()) throw ConfigError("attention rollout: no attention layers given");
  if (!(options.discard_ratio >= 0.0 && options.discard_ratio < 1.0))
    throw ConfigError("attention rollout: discard_ratio " + std::to_string(options.discard_ratio) +
                      ", expected in [0, 1)");
  torch::NoGradGuard no_grad;
  const bool batched = attentions[0].dim() == 4;
  torch::Tensor result;
  for (std::size_t l = 0; l < attentions.size(); ++l) {
    auto a = attentions[l].detach().to(torch::kCPU, torch::kFloat64);
    if (a.dim() != (batched ? 4 : 3) || a.size(-1) != a.size(-2))
      throw ConfigError("attention rollout: layer " + std::to_string(l) + " has shape " +
                        c10::str(a.sizes()) + ", expected [heads, T, T] or [B, heads, T, T] like layer 0");
    if (!batched) a = a.unsqueeze(0);
    const int64_t B = a.size(0), T = a.size(-1);
    if (result.defined() && result.size(-1) != T)
      throw ConfigError("attention rollout: layer " + std::to_string(l) + " has " + std::to_string(T) +
                        " tokens, layer 0 has " + std::to_string(result.size(-1)));
    torch::Tensor fused;
    switch (options.fusion) {
      case HeadFusion::kMean:
        fused = a.mean(1);
        break;
      case HeadFusion::kMax:
        fused = std::get<0>(a.max(1));
        break;
      case HeadFusion::kMin:
        fused = std::get<0>(a.min(1));
        break;
    }
    if (options.discard_ratio > 0) {
      auto flat = fused.reshape({B, T * T}).clone();
      const auto k = static_cast<int64_t>(static_cast<double>(T * T) * options.discard_ratio);
      if (k > 0) {
        auto idx = std::get<1>(flat.topk(k, -1, /*largest=*/false));
        // keep the CLS→CLS entry (flat index 0)
        auto keep0 = idx.ne(0);
        auto vals = torch::where(keep0, torch::zeros_like(idx, flat.options()), flat.gather(1, idx));
        flat.scatter_(1, idx, vals);
      }
      fused = flat.reshape({B, T, T});
    }
    auto eye = torch::eye(T, fused.options()).unsqueeze(0);
    auto at = (fused + eye) / 2.0;
    at = at / at.sum(-1, /*keepdim=*/true);
    result = result.defined() ? torch::matmul(at, result) : at;
  }
  return batched ? result : result.squeeze(0);
}

torch::Tensor rollout_patch_relevance(const torch::Tensor& rollout, int64_t grid_h, int64_t grid_w,
                                      int64_t prefix_tokens, int64_t cls_index) {
  const int64_t T = rollout.size(-1);
  if (T - prefix_tokens != grid_h * grid_w)
    throw ConfigError("attention rollout: " + std::to_string(T) + " tokens minus " +
                      std::to_string(prefix_tokens) + " prefix tokens is not a " + std::to_string(grid_h) +
                      "x" + std::to_string(grid_w) + " patch grid");
  auto row = rollout.select(-2, cls_index).narrow(-1, prefix_tokens, grid_h * grid_w);
  if (rollout.dim() == 3) return row.reshape({rollout.size(0), grid_h, grid_w});
  return row.reshape({grid_h, grid_w});
}

}  // namespace cervirisk::explain
