#include "imaging/roi.h"

#include <algorithm>
#include <cmath>
#include <limits>

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

PatientSample preprocess_acquisition(const io::Volume& image, const io::Volume& mask, const PreprocessParams& p) {
  PatientSample out;
  out.frame = Frame::kAcquisition;
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
  if (p.mask_channel) {
    const io::Volume rm = resample_inplane(mask, p.spacing_mm, Interpolation::kLinear, k0, k1);
    out.tumour.mask = make_crop(rm, k0, out.slice_indices, cx, cy, side_t, p.tumour_size_px, 0.0f, out.slice_index).data;
    out.context.mask = make_crop(rm, k0, out.slice_indices, cx, cy, side_c, p.context_size_px, 0.0f, out.slice_index).data;
  }
  for (Crop* c : {&out.tumour, &out.context}) {
    const auto& d = image.geometry.direction_lps;
    c->box.normal_lps = {d[0][2], d[1][2], d[2][2]};
    c->box.slice_step_mm = image.geometry.spacing_mm[2];
  }
  return out;
}

// ---- the canonical sagittal frame ----

// Canonical axes in LPS: crop x (anterior -> posterior), crop y (superior -> inferior), plane
// normal (towards the patient's right; x, y, n is centre A's sagittal acquisition frame).
constexpr io::Vec3 kAxisX{0, 1, 0}, kAxisY{0, 0, -1}, kNormal{-1, 0, 0};

double dot(const io::Vec3& a, const io::Vec3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

io::Vec3 frame_point(double u, double v, double t) {
  io::Vec3 p;
  for (int r = 0; r < 3; ++r) p[r] = u * kAxisX[r] + v * kAxisY[r] + t * kNormal[r];
  return p;
}

// World (canonical u, v, t) -> continuous voxel index of a grid, as an affine map.
struct IndexMap {
  io::Vec3 origin, du, dv, dt;
  explicit IndexMap(const io::Geometry& g) {
    origin = g.lps_to_index(frame_point(0, 0, 0));
    const auto step = [&](const io::Vec3& q) {
      io::Vec3 e = g.lps_to_index(q);
      for (int r = 0; r < 3; ++r) e[r] -= origin[r];
      return e;
    };
    du = step(frame_point(1, 0, 0)), dv = step(frame_point(0, 1, 0)), dt = step(frame_point(0, 0, 1));
  }
  io::Vec3 operator()(double u, double v, double t) const {
    return {origin[0] + u * du[0] + v * dv[0] + t * dt[0], origin[1] + u * du[1] + v * dv[1] + t * dt[1],
            origin[2] + u * du[2] + v * dv[2] + t * dt[2]};
  }
};

bool mask_nearest(const io::Volume& mask, const io::Vec3& x) {
  const auto& s = mask.geometry.shape;
  const std::int64_t i = static_cast<std::int64_t>(std::floor(x[0] + 0.5)), j = static_cast<std::int64_t>(std::floor(x[1] + 0.5)),
                     k = static_cast<std::int64_t>(std::floor(x[2] + 0.5));
  if (i < 0 || j < 0 || k < 0 || i >= s[0] || j >= s[1] || k >= s[2]) return false;
  return mask.at(i, j, k) > 0.5f;
}

std::int64_t nearest_slice(const io::Geometry& g, const io::Vec3& lps) {
  const double k = g.lps_to_index(lps)[2];
  return std::clamp<std::int64_t>(static_cast<std::int64_t>(std::floor(k + 0.5)), 0, g.shape[2] - 1);
}

PatientSample preprocess_sagittal(const io::Volume& image, const io::Volume& mask, const PreprocessParams& p) {
  PatientSample out;
  out.frame = Frame::kSagittal;
  out.image_geometry = image.geometry;
  const io::Geometry& g = image.geometry;
  const double s = p.spacing_mm;

  // The mask's extent in canonical coordinates (voxel centres).
  double lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
  std::int64_t inside = 0;
  for (std::int64_t k = 0; k < g.shape[2]; ++k)
    for (std::int64_t j = 0; j < g.shape[1]; ++j)
      for (std::int64_t i = 0; i < g.shape[0]; ++i)
        if (mask.at(i, j, k) > 0.5f) {
          const io::Vec3 w = g.index_to_lps({double(i), double(j), double(k)});
          const double c[3] = {dot(w, kAxisX), dot(w, kAxisY), dot(w, kNormal)};
          for (int a = 0; a < 3; ++a) lo[a] = std::min(lo[a], c[a]), hi[a] = std::max(hi[a], c[a]);
          ++inside;
        }
  if (inside == 0) throw ValidationError("tumour mask is empty (no voxel > 0.5)");
  const IndexMap to_mask(mask.geometry);
  // Lattice indices covering the mask's in-plane extent (one voxel diagonal of slack).
  const double slack = std::max({g.spacing_mm[0], g.spacing_mm[1], g.spacing_mm[2]});
  const std::int64_t a0 = static_cast<std::int64_t>(std::floor((lo[0] - slack) / s)),
                     a1 = static_cast<std::int64_t>(std::ceil((hi[0] + slack) / s));
  const std::int64_t b0 = static_cast<std::int64_t>(std::floor((lo[1] - slack) / s)),
                     b1 = static_cast<std::int64_t>(std::ceil((hi[1] + slack) / s));

  // Candidate plane positions along the normal.
  std::vector<double> candidates;
  const io::Vec3 acq_normal{g.direction_lps[0][2], g.direction_lps[1][2], g.direction_lps[2][2]};
  const bool parallel = std::abs(dot(acq_normal, kNormal)) > std::cos(M_PI / 180.0);
  if (parallel) {
    for (std::int64_t k = 0; k < g.shape[2]; ++k) {
      const double t = dot(g.index_to_lps({0, 0, double(k)}), kNormal);
      if (t >= lo[2] - 0.5 * g.spacing_mm[2] && t <= hi[2] + 0.5 * g.spacing_mm[2]) candidates.push_back(t);
    }
  } else {
    for (double t = lo[2] - 0.5 * slack; t <= hi[2] + 0.5 * slack + 1e-9; t += 0.5) candidates.push_back(t);
  }
  std::sort(candidates.begin(), candidates.end());
  double best_t = 0;
  std::int64_t best = -1;
  for (double t : candidates) {
    std::int64_t n = 0;
    for (std::int64_t b = b0; b <= b1; ++b)
      for (std::int64_t a = a0; a <= a1; ++a) n += mask_nearest(mask, to_mask(a * s, b * s, t));
    if (n > best) best = n, best_t = t;
  }
  // Bounding box of the mask on the centre plane's lattice.
  std::int64_t u0 = INT64_MAX, u1 = INT64_MIN, v0 = INT64_MAX, v1 = INT64_MIN;
  for (std::int64_t b = b0; b <= b1; ++b)
    for (std::int64_t a = a0; a <= a1; ++a)
      if (mask_nearest(mask, to_mask(a * s, b * s, best_t)))
        u0 = std::min(u0, a), u1 = std::max(u1, a), v0 = std::min(v0, b), v1 = std::max(v1, b);
  double cu, cv, w, h;
  if (best > 0) {
    cu = (u0 + u1) / 2.0 * s, cv = (v0 + v1) / 2.0 * s, w = (u1 - u0 + 1) * s, h = (v1 - v0 + 1) * s;
  } else {
    // A tumour thinner than the lattice: the extent of its voxel centres instead.
    cu = (lo[0] + hi[0]) / 2, cv = (lo[1] + hi[1]) / 2, w = hi[0] - lo[0] + s, h = hi[1] - lo[1] + s;
    best_t = (lo[2] + hi[2]) / 2;
    best = 0;
  }
  out.tumour_area_mm2 = static_cast<double>(best) * s * s;
  out.box_mm = {cu - w / 2, cv - h / 2, cu + w / 2, cv + h / 2};
  const double side_t = p.tumour_fov_mm > 0 ? p.tumour_fov_mm : std::max(w, h) + 2 * p.tumour_margin_mm;
  const double side_c = p.context_fov_mm > 0 ? p.context_fov_mm : side_t + 2 * p.context_margin_mm;

  out.stats = fit_intensity(image, p);
  const float pad = out.stats.apply(static_cast<float>(out.stats.clip_low));
  const int channels = 2 * p.neighbours + 1;
  // The slab: every channel plane sampled on the lattice around the larger crop (+2 points).
  const double half = 0.5 * std::max(side_t, side_c) + 2 * s;
  const std::int64_t x0 = static_cast<std::int64_t>(std::floor((cu - half) / s)),
                     x1 = static_cast<std::int64_t>(std::ceil((cu + half) / s));
  const std::int64_t y0 = static_cast<std::int64_t>(std::floor((cv - half) / s)),
                     y1 = static_cast<std::int64_t>(std::ceil((cv + half) / s));
  io::Volume slab;
  slab.geometry.shape = {x1 - x0 + 1, y1 - y0 + 1, channels};
  slab.geometry.spacing_mm = {s, s, p.slice_spacing_mm};
  const double t_first = best_t - p.neighbours * p.slice_spacing_mm;
  slab.geometry.origin_lps_mm = frame_point(x0 * s, y0 * s, t_first);
  for (int r = 0; r < 3; ++r)
    slab.geometry.direction_lps[r][0] = kAxisX[r], slab.geometry.direction_lps[r][1] = kAxisY[r],
    slab.geometry.direction_lps[r][2] = kNormal[r];
  slab.voxels.resize(static_cast<std::size_t>(slab.geometry.voxel_count()));
  const IndexMap to_image(g);
  io::Volume mask_slab;
  if (p.mask_channel) mask_slab = slab;  // the same lattice (the mask is on the image grid)
  std::size_t idx = 0;
  for (int c = 0; c < channels; ++c) {
    const double t = t_first + c * p.slice_spacing_mm;
    for (std::int64_t y = y0; y <= y1; ++y)
      for (std::int64_t x = x0; x <= x1; ++x, ++idx) {
        const io::Vec3 at = to_image(x * s, y * s, t);
        const float raw = sample_trilinear(image, at);
        slab.voxels[idx] = std::isnan(raw) ? pad : out.stats.apply(raw);
        if (p.mask_channel) {
          const float m = sample_trilinear(mask, at);
          mask_slab.voxels[idx] = std::isnan(m) ? 0.0f : m;
        }
      }
  }
  std::vector<std::int64_t> ks(static_cast<std::size_t>(channels));
  for (int c = 0; c < channels; ++c) ks[static_cast<std::size_t>(c)] = c;
  const double cx = cu / s - static_cast<double>(x0), cy = cv / s - static_cast<double>(y0);
  out.tumour = make_crop(slab, 0, ks, cx, cy, side_t, p.tumour_size_px, pad, p.neighbours);
  out.context = make_crop(slab, 0, ks, cx, cy, side_c, p.context_size_px, pad, p.neighbours);
  if (p.mask_channel) {
    out.tumour.mask = make_crop(mask_slab, 0, ks, cx, cy, side_t, p.tumour_size_px, 0.0f, p.neighbours).data;
    out.context.mask = make_crop(mask_slab, 0, ks, cx, cy, side_c, p.context_size_px, 0.0f, p.neighbours).data;
  }
  const io::Vec3 centre = frame_point(cu, cv, best_t);
  out.slice_index = nearest_slice(g, centre);
  for (int c = 0; c < channels; ++c) {
    io::Vec3 q = centre;
    for (int r = 0; r < 3; ++r) q[r] += (c - p.neighbours) * p.slice_spacing_mm * kNormal[r];
    out.slice_indices.push_back(nearest_slice(g, q));
  }
  for (Crop* c : {&out.tumour, &out.context}) {
    c->box.normal_lps = kNormal;
    c->box.slice_step_mm = p.slice_spacing_mm;
    c->box.centre_slice = out.slice_index;
  }
  return out;
}

}  // namespace

PatientSample preprocess(const io::Volume& image, const io::Volume& mask, const PreprocessParams& p) {
  p.validate();
  if (!image.geometry.same_grid(mask.geometry, 1e-3))
    throw ValidationError("preprocess: the mask is not on the image grid (load it with io::read_mask)");
  if (image.voxels.size() != static_cast<std::size_t>(image.geometry.voxel_count()) ||
      mask.voxels.size() != image.voxels.size())
    throw Error(ExitCode::kFailure, "preprocess: voxel count does not match the geometry");
  return p.frame == Frame::kAcquisition ? preprocess_acquisition(image, mask, p) : preprocess_sagittal(image, mask, p);
}

}  // namespace cervirisk::imaging
