#include "explain/gradcam.h"

#include <cstring>

#include "core/error.h"

namespace cervirisk::explain {

namespace {
torch::Tensor as_khw(const torch::Tensor& t, const char* what) {
  auto x = t.detach().to(torch::kCPU, torch::kFloat64);
  if (x.dim() == 4 && x.size(0) == 1) x = x.squeeze(0);
  if (x.dim() != 3)
    throw ConfigError(std::string("grad-cam: ") + what + " has shape " + c10::str(t.sizes()) +
                      ", expected [K, H, W] or [1, K, H, W]");
  return x;
}
}  // namespace

torch::Tensor min_max_scale(const torch::Tensor& map) {
  auto lo = map.min(), hi = map.max();
  auto range = (hi - lo).item<double>();
  if (!(range > 0)) return torch::zeros_like(map);
  return (map - lo) / range;
}

GradCam grad_cam(const torch::Tensor& activations, const torch::Tensor& gradients) {
  torch::NoGradGuard no_grad;
  auto a = as_khw(activations, "activations");
  auto g = as_khw(gradients, "gradients");
  if (!a.sizes().equals(g.sizes()))
    throw ConfigError("grad-cam: activations " + c10::str(a.sizes()) + " and gradients " +
                      c10::str(g.sizes()) + " differ in shape");
  GradCam r;
  r.alpha = g.mean({1, 2});
  r.cam = torch::relu((r.alpha.view({-1, 1, 1}) * a).sum(0));
  r.scaled = min_max_scale(r.cam);
  return r;
}

torch::Tensor tokens_to_grid(const torch::Tensor& tokens, int64_t grid_h, int64_t grid_w,
                             int64_t prefix_tokens) {
  auto t = tokens;
  if (t.dim() == 3 && t.size(0) == 1) t = t.squeeze(0);
  if (t.dim() != 2)
    throw ConfigError("grad-cam: tokens have shape " + c10::str(tokens.sizes()) + ", expected [T, K]");
  if (t.size(0) - prefix_tokens != grid_h * grid_w)
    throw ConfigError("grad-cam: " + std::to_string(t.size(0)) + " tokens minus " +
                      std::to_string(prefix_tokens) + " prefix tokens is not a " + std::to_string(grid_h) +
                      "x" + std::to_string(grid_w) + " patch grid");
  return t.narrow(0, prefix_tokens, grid_h * grid_w).transpose(0, 1).reshape({t.size(1), grid_h, grid_w});
}

torch::Tensor upsample_bilinear(const torch::Tensor& map, int64_t height, int64_t width) {
  if (map.dim() != 2) throw ConfigError("grad-cam: upsample expects [H, W], got " + c10::str(map.sizes()));
  namespace F = torch::nn::functional;
  auto x = map.unsqueeze(0).unsqueeze(0);
  auto y = F::interpolate(x, F::InterpolateFuncOptions()
                                 .size(std::vector<int64_t>{height, width})
                                 .mode(torch::kBilinear)
                                 .align_corners(false));
  return y.squeeze(0).squeeze(0);
}

report::Raster to_raster(const torch::Tensor& map) {
  if (map.dim() != 2) throw ConfigError("to_raster: expects [H, W], got " + c10::str(map.sizes()));
  auto m = map.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  report::Raster r(static_cast<int>(m.size(1)), static_cast<int>(m.size(0)));
  std::memcpy(r.values.data(), m.data_ptr<float>(), r.values.size() * sizeof(float));
  return r;
}

report::Raster relevance_on_slice(const torch::Tensor& grid_map, int64_t crop_height, int64_t crop_width,
                                  const SliceMapping& mapping, int slice_width, int slice_height) {
  torch::NoGradGuard no_grad;
  auto m = grid_map.detach().to(torch::kCPU, torch::kFloat64);
  auto up = upsample_bilinear(min_max_scale(m), crop_height, crop_width);
  return map_heatmap_to_slice(to_raster(up), mapping, slice_width, slice_height);
}

}  // namespace cervirisk::explain
