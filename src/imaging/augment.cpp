#include "imaging/augment.h"

#include <algorithm>
#include <cmath>

namespace cervirisk::imaging {

AugmentDraw draw_augment(const AugmentParams& p, std::mt19937_64& rng) {
  AugmentDraw d;
  std::uniform_real_distribution<double> u01(0.0, 1.0);
  std::normal_distribution<double> n01(0.0, 1.0);
  // Always consume the same number of draws, so changing one option does not shift the others.
  double f = u01(rng), a = u01(rng), z = u01(rng), g = n01(rng), o = n01(rng);
  d.flip = p.flip && f < 0.5;
  d.angle_rad = (2 * a - 1) * p.rotate_deg * M_PI / 180.0;
  d.zoom = 1 + (2 * z - 1) * p.scale;
  d.gain = 1 + g * p.intensity;
  d.offset = o * p.intensity;
  return d;
}

namespace {

// The geometric part of a draw applied to [channels][h][w] planes; intensity gain and offset
// only when `intensity` (the image planes, not the mask's).
std::vector<float> transform_planes(const std::vector<float>& planes, int channels, int w, int h, const AugmentDraw& d,
                                    Frame frame, bool intensity) {
  const bool mirror_x = d.flip && frame == Frame::kAcquisition;
  const bool reverse_planes = d.flip && frame == Frame::kSagittal;
  const double cx = (w - 1) / 2.0, cy = (h - 1) / 2.0;
  const double ca = std::cos(d.angle_rad), sa = std::sin(d.angle_rad);
  const double gain = intensity ? d.gain : 1.0, offset = intensity ? d.offset : 0.0;
  std::vector<float> out(planes.size());
  for (int c = 0; c < channels; ++c) {
    // Patient left-right in the sagittal frame: channel c takes the plane mirrored about the centre.
    const int sc = reverse_planes ? channels - 1 - c : c;
    const float* src = planes.data() + static_cast<std::size_t>(sc) * w * h;
    float* dst = out.data() + static_cast<std::size_t>(c) * w * h;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        // inverse map: output -> source (rotate by -angle, divide by zoom), then flip
        double u = (x - cx) / d.zoom, v = (y - cy) / d.zoom;
        double sx = cx + ca * u + sa * v, sy = cy - sa * u + ca * v;
        if (mirror_x) sx = (w - 1) - sx;
        sx = std::clamp(sx, 0.0, w - 1.0);
        sy = std::clamp(sy, 0.0, h - 1.0);
        int x0 = static_cast<int>(sx), y0 = static_cast<int>(sy);
        int x1 = std::min(x0 + 1, w - 1), y1 = std::min(y0 + 1, h - 1);
        float fx = static_cast<float>(sx - x0), fy = static_cast<float>(sy - y0);
        float a = src[y0 * w + x0] + fx * (src[y0 * w + x1] - src[y0 * w + x0]);
        float b = src[y1 * w + x0] + fx * (src[y1 * w + x1] - src[y1 * w + x0]);
        dst[y * w + x] = static_cast<float>((a + fy * (b - a)) * gain + offset);
      }
  }
  return out;
}

}  // namespace

void apply_augment(Crop& crop, const AugmentDraw& d, Frame frame) {
  crop.data = transform_planes(crop.data, crop.channels, crop.width, crop.height, d, frame, true);
  if (!crop.mask.empty()) crop.mask = transform_planes(crop.mask, crop.channels, crop.width, crop.height, d, frame, false);
}

AugmentDraw augment(PatientSample& s, const AugmentParams& p, std::mt19937_64& rng) {
  if (!p.enabled) return {};
  AugmentDraw d = draw_augment(p, rng);
  apply_augment(s.tumour, d, s.frame);
  apply_augment(s.context, d, s.frame);
  return d;
}

}  // namespace cervirisk::imaging
