#include "explain/patient_maps.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/log.h"
#include "explain/gradcam.h"
#include "imaging/resample.h"

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
  const bool has_convnext_context = out.convnext_context_features.defined();
  const bool has_vit = out.vit_tokens[0].defined() && out.vit_tokens[1].defined();
  if (has_convnext) targets.push_back(out.convnext_features);
  if (has_convnext_context) targets.push_back(out.convnext_context_features);
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
    if (has_convnext_context) {
      maps.gradcam_convnext_context = grad_cam(out.convnext_context_features.detach(), grads[g]).cam;
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

namespace {

double dot3(const io::Vec3& a, const io::Vec3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

// The crop's frame: unit axes and its centre, and a world point's crop coordinates.
struct CropFrame {
  io::Vec3 centre, ux, uy, n;
  double half_px, pix, half_slab;
  explicit CropFrame(const imaging::Crop& c) {
    const auto& b = c.box;
    if (b.size_px <= 0 || !(b.pixel_mm > 0)) throw ConfigError("explain: crop box without a size");
    centre = b.centre_lps_mm;
    pix = b.pixel_mm;
    for (int r = 0; r < 3; ++r) ux[r] = b.step_x_lps[r] / pix, uy[r] = b.step_y_lps[r] / pix;
    n = b.normal_lps;
    if (dot3(n, n) < 0.5) n = {ux[1] * uy[2] - ux[2] * uy[1], ux[2] * uy[0] - ux[0] * uy[2], ux[0] * uy[1] - ux[1] * uy[0]};
    half_px = (b.size_px - 1) / 2.0;
    half_slab = 0.5 * std::max(1, c.channels) * (b.slice_step_mm > 0 ? b.slice_step_mm : pix);
  }
  // (x, y) crop pixel coordinates (centres at integers) and the distance to the centre plane.
  void project(const io::Vec3& p, double& x, double& y, double& d) const {
    const io::Vec3 q{p[0] - centre[0], p[1] - centre[1], p[2] - centre[2]};
    x = half_px + dot3(q, ux) / pix, y = half_px + dot3(q, uy) / pix, d = dot3(q, n);
  }
  bool in_square(double x, double y, int size) const {
    return x >= -0.5 && x <= size - 0.5 && y >= -0.5 && y <= size - 0.5;
  }
};

}  // namespace

io::Volume relevance_volume(const torch::Tensor& grid_map, const imaging::Crop& crop, const io::Geometry& image) {
  torch::NoGradGuard no_grad;
  const auto m = grid_map.detach().to(torch::kCPU, torch::kFloat64);
  const report::Raster up = to_raster(upsample_bilinear(min_max_scale(m), crop.height, crop.width));
  const CropFrame f(crop);
  io::Volume out;
  out.geometry = image;
  out.voxels.assign(static_cast<std::size_t>(image.voxel_count()), 0.0f);
  out.metadata["description"] = "cervirisk relevance map";
  // index -> world is affine: step along i from each row start.
  const io::Vec3 o = image.index_to_lps({0, 0, 0});
  io::Vec3 e[3];
  for (int a = 0; a < 3; ++a) {
    io::Vec3 unit{0, 0, 0};
    unit[a] = 1;
    const io::Vec3 p = image.index_to_lps(unit);
    for (int r = 0; r < 3; ++r) e[a][r] = p[r] - o[r];
  }
  std::size_t idx = 0;
  for (std::int64_t k = 0; k < image.shape[2]; ++k)
    for (std::int64_t j = 0; j < image.shape[1]; ++j)
      for (std::int64_t i = 0; i < image.shape[0]; ++i, ++idx) {
        io::Vec3 p;
        for (int r = 0; r < 3; ++r) p[r] = o[r] + e[0][r] * i + e[1][r] * j + e[2][r] * k;
        double x, y, d;
        f.project(p, x, y, d);
        if (std::abs(d) > f.half_slab || !f.in_square(x, y, crop.box.size_px)) continue;
        out.voxels[idx] = static_cast<float>(sample_bilinear(up, x, y));
      }
  return out;
}

report::Figure relevance_overlay(const io::Volume& image, const io::Volume& map, const imaging::Crop& crop,
                                 const imaging::PatientSample& sample, const std::string& title,
                                 const std::string& colorbar_label) {
  const CropFrame view(sample.context);  // the plane and centre shared by both crops
  const auto& g = image.geometry;
  const double pix = std::max(0.5, std::min({g.spacing_mm[0], g.spacing_mm[1], g.spacing_mm[2]}));
  const double side = std::max(sample.context.box.side_mm, sample.tumour.box.side_mm);
  const int size = std::max(8, static_cast<int>(std::lround(2 * side / pix)));
  const double half = (size - 1) / 2.0;
  const CropFrame on(crop);
  report::MriOverlay o;
  o.title = title;
  o.slice = report::Raster(size, size);
  o.heatmap = report::Raster(size, size);
  double lowest = INFINITY;
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x) {
      io::Vec3 p;
      for (int r = 0; r < 3; ++r) p[r] = view.centre[r] + (x - half) * pix * view.ux[r] + (y - half) * pix * view.uy[r];
      const float v = imaging::sample_trilinear(image, g.lps_to_index(p));
      o.slice.at(x, y) = v;
      if (std::isfinite(v)) lowest = std::min(lowest, double(v));
      double cx, cy, d;
      on.project(p, cx, cy, d);
      o.heatmap.at(x, y) = on.in_square(cx, cy, crop.box.size_px)
                               ? imaging::sample_trilinear(map, map.geometry.lps_to_index(p))
                               : std::numeric_limits<float>::quiet_NaN();
    }
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x)
      if (!std::isfinite(o.slice.at(x, y))) o.slice.at(x, y) = std::isfinite(lowest) ? static_cast<float>(lowest) : 0.f;
  // The crop squares in the view's pixel edges (the view is centred on them).
  auto box = [&](const imaging::Crop& c, const char* label) {
    const double h = 0.5 * c.box.side_mm / pix;
    report::OverlayBox b;
    b.x0 = size / 2.0 - h, b.x1 = size / 2.0 + h, b.y0 = size / 2.0 - h, b.y1 = size / 2.0 + h;
    b.label = label;
    return b;
  };
  o.boxes = {box(sample.tumour, "tumour crop"), box(sample.context, "context crop")};
  o.colorbar_label = colorbar_label;
  o.pixels_per_voxel = std::max(1, static_cast<int>(std::lround(400.0 / size)));
  return report::mri_overlay_figure(o);
}

std::vector<PatientMapOutput> patient_map_outputs(const PatientMaps& maps, const imaging::PatientSample& sample,
                                                  const io::Volume& image, const std::string& id,
                                                  const RolloutOptions& rollout) {
  std::vector<PatientMapOutput> out;
  // Titles stay short (they must fit the ~500 px figure); the report's caption says more.
  // A constant map (e.g. the 1x1 last ConvNeXt stage of a 48 px crop) has no spatial
  // information; min-max scaling would paint it uniformly "irrelevant", so it is left out.
  auto informative = [&](const torch::Tensor& t, const char* what) {
    if (!t.defined()) return false;
    const bool ok = t.numel() > 1 && (t.max() - t.min()).item<double>() > 0;
    if (!ok)
      log::info("explain: patient {}: the {} map ({}x{}) is constant, left out", id, what, t.size(0), t.size(1));
    return ok;
  };
  auto add = [&](const std::string& stem, const torch::Tensor& grid, const imaging::Crop& crop, const std::string& title,
                 const std::string& label) {
    PatientMapOutput m;
    m.stem = stem;
    m.map = relevance_volume(grid, crop, image.geometry);
    m.figure = relevance_overlay(image, m.map, crop, sample, title, label);
    out.push_back(std::move(m));
  };
  const std::string ro = "rollout (" + head_fusion_name(rollout.fusion) + " heads)";
  if (informative(maps.gradcam_convnext, "ConvNeXt Grad-CAM"))
    add("gradcam_convnext", maps.gradcam_convnext, sample.tumour, id + ": Grad-CAM, ConvNeXt", "Grad-CAM");
  if (informative(maps.gradcam_convnext_context, "ConvNeXt context Grad-CAM"))
    add("gradcam_convnext_context", maps.gradcam_convnext_context, sample.context,
        id + ": Grad-CAM, ConvNeXt context", "Grad-CAM");
  const char* path[2] = {"tumour", "context"};
  for (int d = 0; d < 2; ++d)
    if (informative(maps.gradcam_vit[d], "ViT Grad-CAM"))
      add(std::string("gradcam_vit_") + path[d], maps.gradcam_vit[d], d == 1 ? sample.context : sample.tumour,
          id + ": Grad-CAM, ViT " + path[d], "Grad-CAM");
  for (int d = 0; d < 2; ++d)
    if (informative(maps.rollout_vit[d], "rollout"))
      add(std::string("rollout_") + path[d], maps.rollout_vit[d], d == 1 ? sample.context : sample.tumour,
          id + ": rollout, ViT " + path[d], ro);
  return out;
}

}  // namespace cervirisk::explain
