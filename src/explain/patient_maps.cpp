#include "explain/patient_maps.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/log.h"
#include "explain/gradcam.h"

namespace cervirisk::explain {

namespace {

// Grad-CAM of a ViT path: tokens [1, 1+N, K] and their gradients → the patch grid.
torch::Tensor vit_gradcam(const torch::Tensor& tokens, const torch::Tensor& grad, std::int64_t grid) {
  auto a = tokens_to_grid(tokens.detach().to(torch::kFloat64), grid, grid);
  auto g = tokens_to_grid(grad.to(torch::kFloat64), grid, grid);
  return grad_cam(a, g).cam;
}

}  // namespace

PatientMaps patient_relevance_maps(models::RecurrenceModel& model, const models::ModelInputs& one,
                                   const RolloutOptions& rollout) {
  const bool was_training = model->is_training();
  model->eval();
  torch::AutoGradMode grad_mode(true);
  auto out = model->forward(one);
  if (out.logit.numel() != 1)
    throw ModelError("explain: relevance maps need one patient, the batch has " + std::to_string(out.logit.numel()));
  PatientMaps maps;
  maps.logit = out.logit.item<double>();
  // The targets whose gradients we need, in a fixed order; undefined ones are skipped.
  std::vector<torch::Tensor> targets;
  const bool has_convnext = out.convnext_features.defined();
  const bool has_vit = out.vit_tokens[0].defined() && out.vit_tokens[1].defined();
  if (has_convnext) targets.push_back(out.convnext_features);
  if (has_vit) targets.insert(targets.end(), {out.vit_tokens[0], out.vit_tokens[1]});
  if (!targets.empty()) {
    auto grads = torch::autograd::grad({out.logit.sum()}, targets, {}, /*retain_graph=*/false,
                                       /*create_graph=*/false, /*allow_unused=*/true);
    for (std::size_t i = 0; i < grads.size(); ++i)
      if (!grads[i].defined()) grads[i] = torch::zeros_like(targets[i]);
    std::size_t g = 0;
    if (has_convnext) {
      maps.gradcam_convnext = grad_cam(out.convnext_features.detach(), grads[g]).cam;
      ++g;
    }
    if (has_vit) {
      const auto& cfg = model->vit->config();
      for (int d = 0; d < 2; ++d) {
        const std::int64_t grid = cfg.img_size[d] / cfg.patch_size[d];
        maps.gradcam_vit[d] = vit_gradcam(out.vit_tokens[d], grads[g + d], grid);
        const auto& att = d == 0 ? out.attention_a : out.attention_b;
        auto r = attention_rollout(att, rollout);  // [1, T, T]
        maps.rollout_vit[d] = rollout_patch_relevance(r, grid, grid).squeeze(0);
      }
    }
  }
  if (was_training) model->train();
  return maps;
}

SliceMapping slice_mapping_of(const imaging::CropBox& box, const io::Geometry& image) {
  if (box.size_px <= 0) throw ConfigError("overlay: crop box has size_px " + std::to_string(box.size_px));
  const double e = box.size_px - 0.5;
  const io::Vec3 p00 = box.pixel_to_index(image, -0.5, -0.5), p10 = box.pixel_to_index(image, e, -0.5),
                 p01 = box.pixel_to_index(image, -0.5, e);
  // The crop's x axis must run along the slice's i axis and y along j (both increasing), on
  // one slice; otherwise the heatmap would be drawn rotated or mirrored.
  const double tol = 1e-3 * std::max(1.0, std::abs(p10[0] - p00[0]));
  if (!(p10[0] > p00[0] && std::abs(p10[1] - p00[1]) < tol && p01[1] > p00[1] && std::abs(p01[0] - p00[0]) < tol &&
        std::abs(p10[2] - p00[2]) < tol && std::abs(p01[2] - p00[2]) < tol))
    throw ConfigError("overlay: the crop is not axis-aligned with its slice (corner indices (" +
                      std::to_string(p00[0]) + ", " + std::to_string(p00[1]) + "), (" + std::to_string(p10[0]) +
                      ", " + std::to_string(p10[1]) + "), (" + std::to_string(p01[0]) + ", " +
                      std::to_string(p01[1]) + "))");
  // Voxel centres sit at integer indices; map_heatmap_to_slice puts them at +0.5.
  SliceMapping m;
  m.box = {p00[0] + 0.5, p00[1] + 0.5, p10[0] + 0.5, p01[1] + 0.5};
  return m;
}

report::Raster volume_slice(const io::Volume& v, std::int64_t k) {
  const auto& s = v.geometry.shape;
  if (k < 0 || k >= s[2])
    throw ConfigError("overlay: slice " + std::to_string(k) + " outside the volume's 0.." + std::to_string(s[2] - 1));
  report::Raster r(static_cast<int>(s[0]), static_cast<int>(s[1]));
  for (std::int64_t j = 0; j < s[1]; ++j)
    for (std::int64_t i = 0; i < s[0]; ++i) r.at(static_cast<int>(i), static_cast<int>(j)) = v.at(i, j, k);
  return r;
}

report::Figure relevance_overlay(const report::Raster& slice, const torch::Tensor& grid_map,
                                 const imaging::PatientSample& sample, bool on_context, const std::string& title,
                                 const std::string& colorbar_label) {
  const auto& crop = on_context ? sample.context : sample.tumour;
  const SliceMapping m = slice_mapping_of(crop.box, sample.image_geometry);
  const report::Raster heat = relevance_on_slice(grid_map, crop.height, crop.width, m, slice.width, slice.height);
  std::vector<report::OverlayBox> boxes = {
      box_on_slice(slice_mapping_of(sample.tumour.box, sample.image_geometry), "tumour crop"),
      box_on_slice(slice_mapping_of(sample.context.box, sample.image_geometry), "context crop")};
  // The field of view: the context box with half its size around it (clamped to the slice),
  // so the heatmap is large enough to read and the embedded PNG stays small.
  const auto& c = boxes[1];
  const double mx = 0.5 * (c.x1 - c.x0), my = 0.5 * (c.y1 - c.y0);
  const int x0 = std::clamp(static_cast<int>(std::floor(c.x0 - mx)), 0, slice.width - 1);
  const int y0 = std::clamp(static_cast<int>(std::floor(c.y0 - my)), 0, slice.height - 1);
  const int x1 = std::clamp(static_cast<int>(std::ceil(c.x1 + mx)), x0 + 1, slice.width);
  const int y1 = std::clamp(static_cast<int>(std::ceil(c.y1 + my)), y0 + 1, slice.height);
  report::MriOverlay o;
  o.title = title;
  o.slice = report::Raster(x1 - x0, y1 - y0);
  o.heatmap = report::Raster(x1 - x0, y1 - y0);
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) {
      o.slice.at(x - x0, y - y0) = slice.at(x, y);
      o.heatmap.at(x - x0, y - y0) = heat.at(x, y);
    }
  for (auto& b : boxes) {
    b.x0 -= x0, b.x1 -= x0, b.y0 -= y0, b.y1 -= y0;
  }
  o.boxes = boxes;
  o.colorbar_label = colorbar_label;
  // Whole display pixels per voxel (nearest blocks compress well), the panel about 400 px wide.
  o.pixels_per_voxel =
      std::max(1, static_cast<int>(std::lround(400.0 / std::max(o.slice.width, o.slice.height))));
  return report::mri_overlay_figure(o);
}

std::vector<std::pair<std::string, report::Figure>> patient_overlays(const PatientMaps& maps,
                                                                     const imaging::PatientSample& sample,
                                                                     const report::Raster& slice,
                                                                     const std::string& id,
                                                                     const RolloutOptions& rollout) {
  std::vector<std::pair<std::string, report::Figure>> out;
  // Titles stay short (they must fit the ~500 px figure); the report's caption says more.
  // A constant map (e.g. the 1x1 last ConvNeXt stage of a 48 px crop) has no spatial
  // information; min-max scaling would paint it uniformly "irrelevant", so it is left out.
  auto informative = [&](const torch::Tensor& t, const char* what) {
    if (!t.defined()) return false;
    const bool ok = t.numel() > 1 && (t.max() - t.min()).item<double>() > 0;
    if (!ok)
      log::info("explain: patient {}: the {} map ({}x{}) is constant, no overlay", id, what, t.size(0), t.size(1));
    return ok;
  };
  const std::string ro = "rollout (" + head_fusion_name(rollout.fusion) + " heads)";
  if (informative(maps.gradcam_convnext, "ConvNeXt Grad-CAM"))
    out.emplace_back("gradcam_convnext",
                     relevance_overlay(slice, maps.gradcam_convnext, sample, false,
                                       id + ": Grad-CAM, ConvNeXt", "Grad-CAM"));
  const char* path[2] = {"tumour", "context"};
  for (int d = 0; d < 2; ++d)
    if (informative(maps.gradcam_vit[d], "ViT Grad-CAM"))
      out.emplace_back(std::string("gradcam_vit_") + path[d],
                       relevance_overlay(slice, maps.gradcam_vit[d], sample, d == 1,
                                         id + ": Grad-CAM, ViT " + path[d], "Grad-CAM"));
  for (int d = 0; d < 2; ++d)
    if (informative(maps.rollout_vit[d], "rollout"))
      out.emplace_back(std::string("rollout_") + path[d],
                       relevance_overlay(slice, maps.rollout_vit[d], sample, d == 1,
                                         id + ": rollout, ViT " + path[d], ro));
  return out;
}

}  // namespace cervirisk::explain
