// Shared by the io/imaging tests: the goldens of scripts/make_io_goldens.py and the checks
// against them (same weighting formula as the script).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "io/volume.h"

namespace cervirisk::testing {

inline std::string io_data(const std::string& rel) { return std::string(CERV_TEST_DATA) + "/io/" + rel; }

inline const nlohmann::json& io_goldens() {
  static nlohmann::json j = [] {
    std::ifstream f(io_data("goldens.json"));
    return nlohmann::json::parse(f);
  }();
  return j;
}

inline double golden_weight(std::int64_t i, std::int64_t j, std::int64_t k) {
  return static_cast<double>((i * 73 + j * 37 + k * 11) % 17) / 17.0 + 0.5;
}

// Geometry within 1e-4 mm of the golden affine, intensities equal (float32) to the golden's.
inline void expect_matches_golden(const io::Volume& v, const nlohmann::json& g, const std::string& what) {
  SCOPED_TRACE(what);
  for (int a = 0; a < 3; ++a) ASSERT_EQ(v.geometry.shape[a], g["shape"][a].get<std::int64_t>());
  io::Mat4 aff = v.geometry.affine_ras();
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) EXPECT_NEAR(aff[r][c], g["affine_ras"][r][c].get<double>(), 1e-4) << r << "," << c;
  double mn = INFINITY, mx = -INFINITY, sum = 0, wsum = 0;
  const auto& s = v.geometry.shape;
  for (std::int64_t k = 0; k < s[2]; ++k)
    for (std::int64_t j = 0; j < s[1]; ++j)
      for (std::int64_t i = 0; i < s[0]; ++i) {
        double x = v.at(i, j, k);
        mn = std::min(mn, x);
        mx = std::max(mx, x);
        sum += x;
        wsum += x * golden_weight(i, j, k);
      }
  double n = static_cast<double>(v.geometry.voxel_count());
  EXPECT_DOUBLE_EQ(mn, g["min"].get<double>());
  EXPECT_DOUBLE_EQ(mx, g["max"].get<double>());
  double scale = std::max(1.0, std::fabs(g["mean"].get<double>()));
  EXPECT_NEAR(sum / n, g["mean"].get<double>(), 1e-9 * scale * 10);
  EXPECT_NEAR(wsum, g["weighted_sum"].get<double>(), 1e-9 * std::fabs(g["weighted_sum"].get<double>()) + 1e-6);
  for (const auto& sm : g["samples"]) {
    auto ix = sm[0];
    EXPECT_EQ(v.at(ix[0], ix[1], ix[2]), static_cast<float>(sm[1].get<double>()))
        << ix[0] << "," << ix[1] << "," << ix[2];
  }
}

}  // namespace cervirisk::testing
