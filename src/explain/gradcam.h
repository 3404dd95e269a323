// Grad-CAM (Selvaraju et al. 2017, "Grad-CAM: Visual Explanations from Deep Networks via
// Gradient-based Localization", ICCV, doi:10.1109/ICCV.2017.74): channel weights α_k = the
// spatial mean of ∂y/∂A^k, CAM = ReLU(Σ_k α_k A^k). y is the pre-sigmoid logit (the sigmoid
// would only rescale the gradients by p(1−p)). For a ViT the token activations (CLS dropped)
// are reshaped to the patch grid first.
#pragma once

#include <torch/torch.h>

#include "explain/overlay.h"

namespace cervirisk::explain {

struct GradCam {
  torch::Tensor alpha;   // [K] channel weights
  torch::Tensor cam;     // [H, W] ReLU(Σ α_k A^k), unscaled
  torch::Tensor scaled;  // [H, W] min–max scaled to [0, 1] (all zero when the CAM is constant)
};

// activations, gradients: [K, H, W] (or [1, K, H, W]) of the target layer for one patient.
GradCam grad_cam(const torch::Tensor& activations, const torch::Tensor& gradients);

// ViT tokens [T, K] (or [1, T, K]) → [K, grid_h, grid_w], dropping the first prefix_tokens
// (CLS) tokens; patches are in row-major order as the patch embedding flattens them.
torch::Tensor tokens_to_grid(const torch::Tensor& tokens, int64_t grid_h, int64_t grid_w,
                             int64_t prefix_tokens = 1);

// Min–max scaling to [0, 1]; a constant map becomes all zeros.
torch::Tensor min_max_scale(const torch::Tensor& map);

// Bilinear upsampling of a [H, W] map to [height, width] (half-pixel centres,
// align_corners = false, as torch's interpolate and OpenCV's resize).
torch::Tensor upsample_bilinear(const torch::Tensor& map, int64_t height, int64_t width);

// A [H, W] tensor as a raster (row-major float).
report::Raster to_raster(const torch::Tensor& map);

// The whole path from a relevance map on the feature / patch grid to the slice: min–max
// scale, bilinear upsampling to the crop's pixel size (crop_height × crop_width, the model
// input), then map_heatmap_to_slice with the crop box. For Grad-CAM pass GradCam::cam, for
// rollout rollout_patch_relevance(...).
report::Raster relevance_on_slice(const torch::Tensor& grid_map, int64_t crop_height, int64_t crop_width,
                                  const SliceMapping& mapping, int slice_width, int slice_height);

}  // namespace cervirisk::explain
