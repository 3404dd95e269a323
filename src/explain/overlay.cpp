#include "explain/overlay.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace cervirisk::explain {

double sample_bilinear(const report::Raster& r, double x, double y) {
  x = std::clamp(x, 0.0, r.width - 1.0);
  y = std::clamp(y, 0.0, r.height - 1.0);
  int x0 = static_cast<int>(std::floor(x)), y0 = static_cast<int>(std::floor(y));
  int x1 = std::min(x0 + 1, r.width - 1), y1 = std::min(y0 + 1, r.height - 1);
  double u = x - x0, v = y - y0;
  return (1 - v) * ((1 - u) * r.at(x0, y0) + u * r.at(x1, y0)) +
         v * ((1 - u) * r.at(x0, y1) + u * r.at(x1, y1));
}

report::Raster map_heatmap_to_slice(const report::Raster& heatmap, const SliceMapping& m, int slice_width,
                                    int slice_height) {
  const CropBox& b = m.box;
  if (heatmap.width <= 0 || heatmap.height <= 0 ||
      heatmap.values.size() != static_cast<std::size_t>(heatmap.width) * heatmap.height)
    throw ConfigError("overlay: the heatmap is empty or its size does not match its values");
  if (!(b.x1 > b.x0 && b.y1 > b.y0))
    throw ConfigError("overlay: crop box [" + std::to_string(b.x0) + "," + std::to_string(b.x1) + ")x[" +
                      std::to_string(b.y0) + "," + std::to_string(b.y1) + ") is empty");
  if (!(m.scale_x > 0 && m.scale_y > 0)) throw ConfigError("overlay: scale must be positive");
  if (slice_width <= 0 || slice_height <= 0) throw ConfigError("overlay: the slice is empty");
  report::Raster out(slice_width, slice_height, std::numeric_limits<float>::quiet_NaN());
  for (int v = 0; v < slice_height; ++v) {
    const double Y = (v + 0.5) / m.scale_y;  // centre of displayed pixel in the resampled grid
    if (Y < b.y0 || Y >= b.y1) continue;
    const double hy = (Y - b.y0) / (b.y1 - b.y0) * heatmap.height - 0.5;
    for (int u = 0; u < slice_width; ++u) {
      const double X = (u + 0.5) / m.scale_x;
      if (X < b.x0 || X >= b.x1) continue;
      const double hx = (X - b.x0) / (b.x1 - b.x0) * heatmap.width - 0.5;
      out.at(u, v) = static_cast<float>(sample_bilinear(heatmap, hx, hy));
    }
  }
  return out;
}

report::OverlayBox box_on_slice(const SliceMapping& m, const std::string& label) {
  return {label, m.box.x0 * m.scale_x, m.box.y0 * m.scale_y, m.box.x1 * m.scale_x, m.box.y1 * m.scale_y};
}

}  // namespace cervirisk::explain
