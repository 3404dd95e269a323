#include "imaging/resample.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/error.h"

namespace cervirisk::imaging {
namespace {

struct Tap {
  std::int64_t i0, i1;
  float w1;  // weight of i1; (1 - w1) of i0
};

// Source taps for every output index along one axis (clamped to the edge).
std::vector<Tap> taps(std::int64_t n_out, std::int64_t n_in, double step, Interpolation interp) {
  std::vector<Tap> t(static_cast<std::size_t>(n_out));
  for (std::int64_t o = 0; o < n_out; ++o) {
    double x = std::clamp(static_cast<double>(o) * step, 0.0, static_cast<double>(n_in - 1));
    if (interp == Interpolation::kNearest) {
      std::int64_t r = std::min<std::int64_t>(static_cast<std::int64_t>(std::floor(x + 0.5)), n_in - 1);
      t[static_cast<std::size_t>(o)] = {r, r, 0.0f};
    } else {
      std::int64_t i0 = static_cast<std::int64_t>(std::floor(x));
      std::int64_t i1 = std::min(i0 + 1, n_in - 1);
      t[static_cast<std::size_t>(o)] = {i0, i1, static_cast<float>(x - static_cast<double>(i0))};
    }
  }
  return t;
}

}  // namespace

io::Volume resample_inplane(const io::Volume& v, double spacing_mm, Interpolation interp, std::int64_t k_begin,
                            std::int64_t k_end) {
  const auto& g = v.geometry;
  if (k_end < 0) k_end = g.shape[2];
  if (k_begin < 0 || k_begin >= k_end || k_end > g.shape[2])
    throw Error(ExitCode::kFailure, "resample_inplane: slice range [" + std::to_string(k_begin) + ", " +
                                        std::to_string(k_end) + ") outside 0.." + std::to_string(g.shape[2]));
  io::Volume out;
  out.geometry = g;
  std::int64_t n_out[2];
  double step[2];
  for (int a = 0; a < 2; ++a) {
    n_out[a] = std::max<std::int64_t>(1, std::llround(static_cast<double>(g.shape[a]) * g.spacing_mm[a] / spacing_mm));
    step[a] = spacing_mm / g.spacing_mm[a];
    out.geometry.shape[a] = n_out[a];
    out.geometry.spacing_mm[a] = spacing_mm;
  }
  out.geometry.shape[2] = k_end - k_begin;
  out.geometry.origin_lps_mm = g.index_to_lps({0, 0, static_cast<double>(k_begin)});
  const std::vector<Tap> ti = taps(n_out[0], g.shape[0], step[0], interp);
  const std::vector<Tap> tj = taps(n_out[1], g.shape[1], step[1], interp);
  out.voxels.resize(static_cast<std::size_t>(out.geometry.voxel_count()));
  const std::int64_t ni = g.shape[0], nj = g.shape[1];
  for (std::int64_t k = k_begin; k < k_end; ++k) {
    const float* src = v.voxels.data() + static_cast<std::size_t>(k * ni * nj);
    float* dst = out.voxels.data() + static_cast<std::size_t>((k - k_begin) * n_out[0] * n_out[1]);
    for (std::int64_t j = 0; j < n_out[1]; ++j) {
      const Tap& tv = tj[static_cast<std::size_t>(j)];
      const float* r0 = src + tv.i0 * ni;
      const float* r1 = src + tv.i1 * ni;
      float* o = dst + j * n_out[0];
      // Interpolate along i on the two source rows, then blend the rows (separable bilinear).
      for (std::int64_t i = 0; i < n_out[0]; ++i) {
        const Tap& th = ti[static_cast<std::size_t>(i)];
        float a = r0[th.i0] + th.w1 * (r0[th.i1] - r0[th.i0]);
        float b = r1[th.i0] + th.w1 * (r1[th.i1] - r1[th.i0]);
        o[i] = a + tv.w1 * (b - a);
      }
    }
  }
  out.metadata = v.metadata;
  return out;
}

float sample_bilinear(const float* s, std::int64_t ni, std::int64_t nj, double x, double y, float pad) {
  if (!(x >= 0 && y >= 0 && x <= static_cast<double>(ni - 1) && y <= static_cast<double>(nj - 1))) return pad;
  std::int64_t i0 = static_cast<std::int64_t>(x), j0 = static_cast<std::int64_t>(y);
  std::int64_t i1 = std::min(i0 + 1, ni - 1), j1 = std::min(j0 + 1, nj - 1);
  float fx = static_cast<float>(x - static_cast<double>(i0)), fy = static_cast<float>(y - static_cast<double>(j0));
  float a = s[j0 * ni + i0] + fx * (s[j0 * ni + i1] - s[j0 * ni + i0]);
  float b = s[j1 * ni + i0] + fx * (s[j1 * ni + i1] - s[j1 * ni + i0]);
  return a + fy * (b - a);
}

float sample_trilinear(const io::Volume& v, const io::Vec3& x) {
  const auto& s = v.geometry.shape;
  double c[3];
  for (int a = 0; a < 3; ++a) {
    if (x[a] < -0.5 || x[a] > s[a] - 0.5) return std::numeric_limits<float>::quiet_NaN();
    c[a] = std::clamp(x[a], 0.0, static_cast<double>(s[a] - 1));
  }
  std::int64_t i0[3], i1[3];
  double f[3];
  for (int a = 0; a < 3; ++a) {
    i0[a] = static_cast<std::int64_t>(c[a]);
    i1[a] = std::min<std::int64_t>(i0[a] + 1, s[a] - 1);
    f[a] = c[a] - static_cast<double>(i0[a]);
  }
  double acc = 0;
  for (int corner = 0; corner < 8; ++corner) {
    const std::int64_t i = (corner & 1) ? i1[0] : i0[0], j = (corner & 2) ? i1[1] : i0[1], k = (corner & 4) ? i1[2] : i0[2];
    const double w = ((corner & 1) ? f[0] : 1 - f[0]) * ((corner & 2) ? f[1] : 1 - f[1]) * ((corner & 4) ? f[2] : 1 - f[2]);
    if (w != 0) acc += w * v.at(i, j, k);
  }
  return static_cast<float>(acc);
}

}  // namespace cervirisk::imaging
