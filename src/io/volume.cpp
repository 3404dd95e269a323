#include "io/volume.h"

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
