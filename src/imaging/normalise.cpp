#include "imaging/normalise.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/log.h"

namespace cervirisk::imaging {

float IntensityStats::apply(float raw) const {
  if (method == "none") return raw;
  double x = std::clamp(static_cast<double>(raw), clip_low, clip_high);
  if (method == "minmax") return static_cast<float>(clip_high > clip_low ? (x - clip_low) / (clip_high - clip_low) : 0.0);
  return static_cast<float>((x - mean) / sd);
}

double otsu_threshold(const std::vector<float>& v) {
  if (v.empty()) throw Error(ExitCode::kFailure, "otsu_threshold of no values");
  auto [mn_it, mx_it] = std::minmax_element(v.begin(), v.end());
  const double mn = *mn_it, mx = *mx_it;
  if (!(mx > mn)) return mn;
  constexpr int kBins = 256;
  std::vector<double> hist(kBins, 0.0);
  const double scale = kBins / (mx - mn);
  for (float x : v) {
    int b = static_cast<int>((static_cast<double>(x) - mn) * scale);
    hist[static_cast<std::size_t>(std::clamp(b, 0, kBins - 1))] += 1;
  }
  const double width = (mx - mn) / kBins;
  double total = 0, total_sum = 0;
  for (int b = 0; b < kBins; ++b) {
    total += hist[b];
    total_sum += hist[b] * (mn + (b + 0.5) * width);
  }
  double w0 = 0, s0 = 0, best = -1;
  int best_t = 1;
  for (int t = 1; t < kBins; ++t) {  // class 0 = bins [0, t), class 1 = [t, 256)
    w0 += hist[t - 1];
    s0 += hist[t - 1] * (mn + (t - 0.5) * width);
    double w1 = total - w0;
    if (w0 == 0 || w1 == 0) continue;
    double m0 = s0 / w0, m1 = (total_sum - s0) / w1;
    double between = w0 * w1 * (m0 - m1) * (m0 - m1);
    if (between > best) {
      best = between;
      best_t = t;
    }
  }
  return mn + best_t * width;
}

double percentile(std::vector<float>& v, double q) {
  if (v.empty()) throw Error(ExitCode::kFailure, "percentile of no values");
  double pos = q / 100.0 * static_cast<double>(v.size() - 1);
  std::size_t lo = static_cast<std::size_t>(std::floor(pos));
  std::size_t hi = std::min(lo + 1, v.size() - 1);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(lo), v.end());
  double a = v[lo];
  double b = a;
  if (hi != lo) b = *std::min_element(v.begin() + static_cast<std::ptrdiff_t>(lo) + 1, v.end());
  return a + (pos - static_cast<double>(lo)) * (b - a);
}

IntensityStats fit_intensity(const io::Volume& image, const PreprocessParams& p) {
  IntensityStats s;
  s.method = normalisation_name(p.normalise);
  if (image.voxels.empty()) throw ValidationError("fit_intensity: empty image");
  s.otsu_threshold = otsu_threshold(image.voxels);
  std::vector<float> fg;
  fg.reserve(image.voxels.size() / 2);
  for (float x : image.voxels)
    if (x >= s.otsu_threshold) fg.push_back(x);
  if (fg.empty()) fg = image.voxels;
  s.n_foreground = static_cast<std::int64_t>(fg.size());
  s.clip_low = percentile(fg, p.clip_low_percentile);
  s.clip_high = percentile(fg, p.clip_high_percentile);
  double sum = 0;
  for (float x : fg) sum += std::clamp(static_cast<double>(x), s.clip_low, s.clip_high);
  const double n = static_cast<double>(fg.size());
  s.mean = sum / n;
  double ss = 0;  // two passes: no cancellation for large intensities
  for (float x : fg) {
    double d = std::clamp(static_cast<double>(x), s.clip_low, s.clip_high) - s.mean;
    ss += d * d;
  }
  s.sd = std::sqrt(ss / n);  // population SD (numpy's default ddof=0)
  if (!(s.sd > 0)) {
    log::warn("image intensities are constant within the foreground; z-score uses sd = 1");
    s.sd = 1;
  }
  return s;
}

}  // namespace cervirisk::imaging
