#include "io/volume.h"

#include <atomic>

#include <cmath>

namespace cervirisk::io {
namespace {
Mat3 inverse(const Mat3& m) {
  double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
               m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
               m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  Mat3 r;
  r[0][0] = (m[1][1] * m[2][2] - m[1][2] * m[2][1]) / det;
  r[0][1] = (m[0][2] * m[2][1] - m[0][1] * m[2][2]) / det;
  r[0][2] = (m[0][1] * m[1][2] - m[0][2] * m[1][1]) / det;
  r[1][0] = (m[1][2] * m[2][0] - m[1][0] * m[2][2]) / det;
  r[1][1] = (m[0][0] * m[2][2] - m[0][2] * m[2][0]) / det;
  r[1][2] = (m[0][2] * m[1][0] - m[0][0] * m[1][2]) / det;
  r[2][0] = (m[1][0] * m[2][1] - m[1][1] * m[2][0]) / det;
  r[2][1] = (m[0][1] * m[2][0] - m[0][0] * m[2][1]) / det;
  r[2][2] = (m[0][0] * m[1][1] - m[0][1] * m[1][0]) / det;
  return r;
}
}  // namespace

Vec3 Geometry::index_to_lps(const Vec3& ijk) const {
  Vec3 p = origin_lps_mm;
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) p[r] += direction_lps[r][c] * spacing_mm[c] * ijk[c];
  return p;
}

Vec3 Geometry::lps_to_index(const Vec3& lps) const {
  Mat3 m;
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) m[r][c] = direction_lps[r][c] * spacing_mm[c];
  Mat3 inv = inverse(m);
  Vec3 d{lps[0] - origin_lps_mm[0], lps[1] - origin_lps_mm[1], lps[2] - origin_lps_mm[2]};
  Vec3 out{0, 0, 0};
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) out[r] += inv[r][c] * d[c];
  return out;
}

Mat4 Geometry::affine_ras() const {
  // RAS = diag(-1,-1,1) * LPS
  Mat4 a{};
  const double flip[3] = {-1, -1, 1};
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) a[r][c] = flip[r] * direction_lps[r][c] * spacing_mm[c];
    a[r][3] = flip[r] * origin_lps_mm[r];
  }
  a[3][3] = 1;
  return a;
}

Geometry Geometry::from_affine_ras(const Mat4& a, const std::array<std::int64_t, 3>& shape) {
  Geometry g;
  g.shape = shape;
  const double flip[3] = {-1, -1, 1};
  for (int c = 0; c < 3; ++c) {
    double norm = std::sqrt(a[0][c] * a[0][c] + a[1][c] * a[1][c] + a[2][c] * a[2][c]);
    g.spacing_mm[c] = norm;
    for (int r = 0; r < 3; ++r) g.direction_lps[r][c] = norm > 0 ? flip[r] * a[r][c] / norm : (r == c ? 1 : 0);
  }
  for (int r = 0; r < 3; ++r) g.origin_lps_mm[r] = flip[r] * a[r][3];
  return g;
}

bool Geometry::same_grid(const Geometry& o, double tol_mm) const {
  if (shape != o.shape) return false;
  for (int ci = 0; ci < 8; ++ci) {
    Vec3 ijk{double((ci & 1) ? shape[0] - 1 : 0), double((ci & 2) ? shape[1] - 1 : 0),
             double((ci & 4) ? shape[2] - 1 : 0)};
    Vec3 a = index_to_lps(ijk), b = o.index_to_lps(ijk);
    for (int r = 0; r < 3; ++r)
      if (std::fabs(a[r] - b[r]) > tol_mm) return false;
  }
  return true;
}

}  // namespace cervirisk::io

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <limits>

#include "core/error.h"
#include "io/dicom.h"
#include "io/dicom_objects.h"
#include "io/metaimage.h"
#include "io/nifti.h"
#include "io/nrrd.h"

namespace cervirisk::io {
namespace {
void world_box(const Geometry& g, Vec3& lo, Vec3& hi) {
  for (int r = 0; r < 3; ++r) lo[r] = std::numeric_limits<double>::infinity(), hi[r] = -lo[r];
  for (int ci = 0; ci < 8; ++ci) {
    Vec3 ijk{(ci & 1) ? g.shape[0] - 0.5 : -0.5, (ci & 2) ? g.shape[1] - 0.5 : -0.5,
             (ci & 4) ? g.shape[2] - 0.5 : -0.5};
    Vec3 p = g.index_to_lps(ijk);
    for (int r = 0; r < 3; ++r) lo[r] = std::min(lo[r], p[r]), hi[r] = std::max(hi[r], p[r]);
  }
}
}  // namespace

void reserve_voxels(std::vector<float>& voxels, std::size_t n) {
  voxels.reserve(n);
#ifdef MADV_HUGEPAGE
  constexpr std::uintptr_t kHuge = std::uintptr_t{2} << 20;
  const std::size_t bytes = n * sizeof(float);
  if (bytes < 4 * kHuge) return;
  auto begin = reinterpret_cast<std::uintptr_t>(voxels.data());
  std::uintptr_t lo = (begin + kHuge - 1) & ~(kHuge - 1), hi = (begin + bytes) & ~(kHuge - 1);
  if (hi > lo) madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_HUGEPAGE);
#endif
}

bool extents_overlap(const Geometry& a, const Geometry& b) {
  Vec3 alo, ahi, blo, bhi;
  world_box(a, alo, ahi);
  world_box(b, blo, bhi);
  for (int r = 0; r < 3; ++r)
    if (ahi[r] < blo[r] || bhi[r] < alo[r]) return false;
  return true;
}

Volume resample_nearest(const Volume& src, const Geometry& grid, float fill) {
  Volume out;
  out.geometry = grid;
  out.voxels.assign(static_cast<std::size_t>(grid.voxel_count()), fill);
  // index_out -> world -> index_src is affine: precompute its matrix and step along i.
  Vec3 o = src.geometry.lps_to_index(grid.index_to_lps({0, 0, 0}));
  Vec3 e[3];
  for (int c = 0; c < 3; ++c) {
    Vec3 unit{0, 0, 0};
    unit[c] = 1;
    Vec3 p = src.geometry.lps_to_index(grid.index_to_lps(unit));
    for (int r = 0; r < 3; ++r) e[c][r] = p[r] - o[r];
  }
  const auto& s = src.geometry.shape;
  std::size_t idx = 0;
  for (std::int64_t k = 0; k < grid.shape[2]; ++k)
    for (std::int64_t j = 0; j < grid.shape[1]; ++j)
      for (std::int64_t i = 0; i < grid.shape[0]; ++i, ++idx) {
        double x[3];
        for (int r = 0; r < 3; ++r) x[r] = o[r] + e[0][r] * i + e[1][r] * j + e[2][r] * k;
        std::int64_t si = static_cast<std::int64_t>(std::floor(x[0] + 0.5));
        std::int64_t sj = static_cast<std::int64_t>(std::floor(x[1] + 0.5));
        std::int64_t sk = static_cast<std::int64_t>(std::floor(x[2] + 0.5));
        if (si < 0 || sj < 0 || sk < 0 || si >= s[0] || sj >= s[1] || sk >= s[2]) continue;
        out.voxels[idx] = src.at(si, sj, sk);
      }
  return out;
}

namespace {
std::atomic<std::int64_t> g_voxel_limit{std::int64_t{1} << 31};
}
std::int64_t voxel_limit() { return g_voxel_limit.load(); }
void set_voxel_limit(std::int64_t voxels) { g_voxel_limit.store(voxels > 0 ? voxels : std::int64_t{1} << 31); }

Volume read_image(const std::filesystem::path& path, const ImageReadOptions& options) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw InputError("image not found: " + path.string());
  if (is_nrrd_path(path)) return read_nrrd(path);
  if (is_metaimage_path(path)) return read_metaimage(path);
  if (std::filesystem::is_directory(path, ec) || !is_nifti_path(path)) {
    const DicomObjectKind kind = std::filesystem::is_directory(path, ec) ? DicomObjectKind::kImage : dicom_object_kind(path);
    if (kind == DicomObjectKind::kRtStruct || kind == DicomObjectKind::kSegmentation)
      throw InputError(path.string() + ": a DICOM " +
                       std::string(kind == DicomObjectKind::kRtStruct ? "RTSTRUCT" : "SEG") +
                       " is a mask, not an image (give it as the mask, with the image series it was drawn on)");
    if (kind == DicomObjectKind::kNotDicom)
      throw FormatError(path.string() +
                        ": not an image format cervirisk reads (expected .nii/.nii.gz, .nrrd/.nhdr, .mha/.mhd, or "
                        "DICOM: a series folder or one file)");
    DicomReadOptions d;
    d.series_pattern = options.series_pattern;
    d.series_uid = options.series_uid;
    return read_dicom(path, d);
  }
  NiftiReadOptions n;
  n.volume_index = options.volume_index;
  return read_nifti(path, n);
}

}  // namespace cervirisk::io
