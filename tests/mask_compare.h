// Comparing binary masks in tests (header-only): voxels inside (> 0.5), Dice, voxels that differ.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>

#include "io/volume.h"

namespace cervirisk::testing {

inline std::size_t count_inside(const io::Volume& v) {
  std::size_t n = 0;
  for (float x : v.voxels) n += x > 0.5f;
  return n;
}

// 2|A∩B| / (|A| + |B|); 1 when both are empty. The grids must have the same voxel count.
inline double dice(const io::Volume& a, const io::Volume& b) {
  EXPECT_EQ(a.voxels.size(), b.voxels.size());
  double both = 0, sa = 0, sb = 0;
  for (std::size_t i = 0; i < a.voxels.size() && i < b.voxels.size(); ++i) {
    const bool x = a.voxels[i] > 0.5f, y = b.voxels[i] > 0.5f;
    both += x && y;
    sa += x;
    sb += y;
  }
  return sa + sb > 0 ? 2 * both / (sa + sb) : 1.0;
}

inline std::size_t differing(const io::Volume& a, const io::Volume& b) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < a.voxels.size() && i < b.voxels.size(); ++i)
    n += (a.voxels[i] > 0.5f) != (b.voxels[i] > 0.5f);
  return n;
}

}  // namespace cervirisk::testing
