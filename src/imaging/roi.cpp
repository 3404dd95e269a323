#include "imaging/roi.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "imaging/resample.h"

namespace cervirisk::imaging {

io::Vec3 CropBox::pixel_to_lps(double x, double y) const {
  const double c = (size_px - 1) / 2.0;
  io::Vec3 p;
  for (int r = 0; r < 3; ++r) p[r] = centre_lps_mm[r] + (x - c) * step_x_lps[r] + (y - c) * step_y_lps[r];
  return p;
}

io::Vec3 CropBox::pixel_to_index(const io::Geometry& image, double x, double y) const {
  return image.lps_to_index(pixel_to_lps(x, y));
}

std::int64_t largest_area_slice(const io::Volume& mask, double* area_mm2) {
  const auto& s = mask.geometry.shape;
  const std::size_t plane = static_cast<std::size_t>(s[0] * s[1]);
  std::int64_t best_k = -1, best = 0;
  for (std::int64_t k = 0; k < s[2]; ++k) {
    const float* p = mask.voxels.data() + static_cast<std::size_t>(k) * plane;
    std::int64_t n = 0;
    for (std::size_t i = 0; i < plane; ++i) n += p[i] > 0.5f;
    if (n > best) best = n, best_k = k;
  }
  if (best_k < 0) throw ValidationError("tumour mask is empty (no voxel > 0.5)");
  if (area_mm2) *area_mm2 = static_cast<double>(best) * mask.geometry.spacing_mm[0] * mask.geometry.spacing_mm[1];
  return best_k;
}

namespace {

Crop make_crop(const io::Volume& slices, std::int64_t k_first, const std::vector<std::int64_t>& ks, double cx,
               double cy, double side_mm, int size, float pad, std::int64_t centre_k) {
  const auto& g = slices.geometry;
  const double s = g.spacing_mm[0];
  Crop c;
  c.channels = static_cast<int>(ks.size());
  c.height = c.width = size;
  c.data.resize(static_cast<std::size_t>(c.channels) * size * size);
  const double pix = side_mm / size;
  const double half = (size - 1) / 2.0;
  const std::int64_t ni = g.shape[0], nj = g.shape[1];
  for (int ch = 0; ch < c.channels; ++ch) {
    const float* sl = slices.voxels.data() + static_cast<std::size_t>((ks[ch] - k_first) * ni * nj);
    float* out = c.data.data() + static_cast<std::size_t>(ch) * size * size;
    for (int y = 0; y < size; ++y) {
      double sy = cy + (y - half) * pix / s;
      for (int x = 0; x < size; ++x) out[y * size + x] = sample_bilinear(sl, ni, nj, cx + (x - half) * pix / s, sy, pad);
    }
  }
  c.box.size_px = size;
  c.box.side_mm = side_mm;
  c.box.pixel_mm = pix;
  c.box.centre_slice = centre_k;
  c.box.centre_lps_mm = g.index_to_lps({cx, cy, static_cast<double>(centre_k - k_first)});
  for (int r = 0; r < 3; ++r) {
    c.box.step_x_lps[r] = g.direction_lps[r][0] * pix;
    c.box.step_y_lps[r] = g.direction_lps[r][1] * pix;
  }
  return c;
}

}  // namespace

PatientSample preprocess(const io::Volume& image, const io::Volume& mask, const PreprocessParams& p) {
  p.validate();
  if (!image.geometry.same_grid(mask.geometry, 1e-3))
    throw ValidationError("preprocess: the mask is not on the image grid (load it with io::read_mask)");
  if (image.voxels.size() != static_cast<std::size_t>(image.geometry.voxel_count()) ||
      mask.voxels.size() != image.voxels.size())
    throw Error(ExitCode::kFailure, "preprocess: voxel count does not match the geometry");
  PatientSample out;
  out.image_geometry = image.geometry;
  out.slice_index = largest_area_slice(mask, &out.tumour_area_mm2);
  const std::int64_t nk = image.geometry.shape[2];
  for (std::int64_t d = -p.neighbours; d <= p.neighbours; ++d)
    out.slice_indices.push_back(std::clamp<std::int64_t>(out.slice_index + d, 0, nk - 1));
  const std::int64_t k0 = out.slice_indices.front(), k1 = out.slice_indices.back() + 1;

  out.stats = fit_intensity(image, p);
  io::Volume r = resample_inplane(image, p.spacing_mm, Interpolation::kLinear, k0, k1);
  for (float& x : r.voxels) x = out.stats.apply(x);
  const float pad = out.stats.apply(static_cast<float>(out.stats.clip_low));

  // Bounding box on the centre slice of the nearest-neighbour resampled mask.
  io::Volume m = resample_inplane(mask, p.spacing_mm, Interpolation::kNearest, out.slice_index, out.slice_index + 1);
  std::int64_t i0 = INT64_MAX, i1 = -1, j0 = INT64_MAX, j1 = -1;
  const std::int64_t ni = m.geometry.shape[0], nj = m.geometry.shape[1];
  for (std::int64_t j = 0; j < nj; ++j)
    for (std::int64_t i = 0; i < ni; ++i)
      if (m.voxels[static_cast<std::size_t>(j * ni + i)] > 0.5f) {
        i0 = std::min(i0, i), i1 = std::max(i1, i), j0 = std::min(j0, j), j1 = std::max(j1, j);
      }
  const double s = p.spacing_mm;
  double cx, cy, w, h;
  if (i1 >= 0) {
    cx = (i0 + i1) / 2.0, cy = (j0 + j1) / 2.0, w = (i1 - i0 + 1) * s, h = (j1 - j0 + 1) * s;
  } else {
    // A tumour smaller than one target pixel can vanish under nearest resampling: use the
    // original grid's box instead.
    const auto& g = mask.geometry;
    std::int64_t a0 = INT64_MAX, a1 = -1, b0 = INT64_MAX, b1 = -1;
    for (std::int64_t j = 0; j < g.shape[1]; ++j)
      for (std::int64_t i = 0; i < g.shape[0]; ++i)
        if (mask.at(i, j, out.slice_index) > 0.5f)
          a0 = std::min(a0, i), a1 = std::max(a1, i), b0 = std::min(b0, j), b1 = std::max(b1, j);
    cx = (a0 + a1) / 2.0 * g.spacing_mm[0] / s, cy = (b0 + b1) / 2.0 * g.spacing_mm[1] / s;
    w = (a1 - a0 + 1) * g.spacing_mm[0], h = (b1 - b0 + 1) * g.spacing_mm[1];
  }
  out.box_mm = {cx * s - w / 2, cy * s - h / 2, cx * s + w / 2, cy * s + h / 2};
  const double side_t = p.tumour_fov_mm > 0 ? p.tumour_fov_mm : std::max(w, h) + 2 * p.tumour_margin_mm;
  const double side_c = p.context_fov_mm > 0 ? p.context_fov_mm : side_t + 2 * p.context_margin_mm;
  out.tumour = make_crop(r, k0, out.slice_indices, cx, cy, side_t, p.tumour_size_px, pad, out.slice_index);
  out.context = make_crop(r, k0, out.slice_indices, cx, cy, side_c, p.context_size_px, pad, out.slice_index);
  return out;
}

}  // namespace cervirisk::imaging
