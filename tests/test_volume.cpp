// Volume geometry: LPS <-> RAS affine conversion, world <-> index, same-grid tolerance
// (hand-computed values).
#include <gtest/gtest.h>

#include <cmath>

#include "io/volume.h"

using namespace cervirisk::io;

namespace {
Geometry oblique() {
  // i along LPS (cos t, sin t, 0), j along (-sin t, cos t, 0), k along -S (a left-handed grid)
  Geometry g;
  g.shape = {10, 8, 5};
  g.spacing_mm = {0.5, 0.75, 4.0};
  g.origin_lps_mm = {-12.0, 30.5, 7.25};
  double t = 0.25;
  g.direction_lps = {{{std::cos(t), -std::sin(t), 0}, {std::sin(t), std::cos(t), 0}, {0, 0, -1}}};
  return g;
}
}  // namespace

TEST(Volume, IndexToWorldByHand) {
  Geometry g = oblique();
  Vec3 p = g.index_to_lps({2, 4, 1});
  double t = 0.25;
  EXPECT_NEAR(p[0], -12.0 + std::cos(t) * 1.0 - std::sin(t) * 3.0, 1e-12);
  EXPECT_NEAR(p[1], 30.5 + std::sin(t) * 1.0 + std::cos(t) * 3.0, 1e-12);
  EXPECT_NEAR(p[2], 7.25 - 4.0, 1e-12);
  Vec3 back = g.lps_to_index(p);
  EXPECT_NEAR(back[0], 2, 1e-12);
  EXPECT_NEAR(back[1], 4, 1e-12);
  EXPECT_NEAR(back[2], 1, 1e-12);
}

TEST(Volume, RasAffineFlipsXAndY) {
  Geometry g = oblique();
  Mat4 a = g.affine_ras();
  // RAS x = -LPS x, RAS y = -LPS y: the origin and the first two rows change sign.
  EXPECT_DOUBLE_EQ(a[0][3], 12.0);
  EXPECT_DOUBLE_EQ(a[1][3], -30.5);
  EXPECT_DOUBLE_EQ(a[2][3], 7.25);
  EXPECT_NEAR(a[0][0], -std::cos(0.25) * 0.5, 1e-15);
  EXPECT_NEAR(a[2][2], -4.0, 1e-15);
  Geometry h = Geometry::from_affine_ras(a, g.shape);
  EXPECT_TRUE(h.same_grid(g, 1e-9));
  for (int r = 0; r < 3; ++r) {
    EXPECT_NEAR(h.spacing_mm[r], g.spacing_mm[r], 1e-12);
    for (int c = 0; c < 3; ++c) EXPECT_NEAR(h.direction_lps[r][c], g.direction_lps[r][c], 1e-12);
  }
}

TEST(Volume, SameGridTolerance) {
  Geometry g = oblique();
  Geometry h = g;
  h.origin_lps_mm[0] += 5e-4;
  EXPECT_TRUE(g.same_grid(h, 1e-3));
  EXPECT_FALSE(g.same_grid(h, 1e-4));
  h = g;
  h.spacing_mm[2] *= 1.001;  // 4 slices * 4 mm * 0.001 = 0.016 mm at the far corner
  EXPECT_FALSE(g.same_grid(h, 1e-3));
  h = g;
  h.shape[0] += 1;
  EXPECT_FALSE(g.same_grid(h, 1.0));
}

TEST(Volume, ExtentsAndNearestResample) {
  Geometry g = oblique();
  Geometry far = g;
  far.origin_lps_mm[2] += 100;
  EXPECT_TRUE(extents_overlap(g, g));
  EXPECT_FALSE(extents_overlap(g, far));
  Volume v;
  v.geometry = g;
  v.voxels.resize(static_cast<std::size_t>(g.voxel_count()));
  for (std::size_t i = 0; i < v.voxels.size(); ++i) v.voxels[i] = static_cast<float>(i);
  // Twice as fine in i: voxel 2i and 2i+1 (centres at i and i+0.5) -> nearest is i (ties round up).
  Geometry fine = g;
  fine.shape[0] = 20;
  fine.spacing_mm[0] = 0.25;
  Volume r = resample_nearest(v, fine, -1.0f);
  EXPECT_EQ(r.at(4, 3, 2), v.at(2, 3, 2));
  EXPECT_EQ(r.at(5, 3, 2), v.at(3, 3, 2));
  EXPECT_EQ(r.at(19, 0, 0), -1.0f);  // centre at i = 9.5 -> rounds to 10, outside
}
