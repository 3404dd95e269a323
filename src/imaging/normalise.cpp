#include "imaging/normalise.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/log.h"

namespace cervirisk::imaging {

float IntensityStats::apply(float raw) const {
  if (std::isnan(raw)) raw = static_cast<float>(clip_low);  // never let a NaN reach the model
  if (method == Normalisation::kNone) return raw;
  double x = std::clamp(static_cast<double>(raw), clip_low, clip_high);
  if (method == Normalisation::kMinMax) return static_cast<float>(clip_high > clip_low ? (x - clip_low) / (clip_high - clip_low) : 0.0);
  return static_cast<float>((x - mean) / sd);
}

namespace {

constexpr int kOtsuBins = 256;

// Otsu's threshold on a histogram of kOtsuBins bins of `width` from `mn`: the bin edge that
// maximises the between-class variance w0 w1 (m0 - m1)^2 (bin centres stand for their values).
double otsu_of_histogram(const std::vector<double>& hist, double mn, double width) {
  double total = 0, total_sum = 0;
  for (int b = 0; b < kOtsuBins; ++b) {
    total += hist[b];
    total_sum += hist[b] * (mn + (b + 0.5) * width);
  }
  double w0 = 0, s0 = 0, best = -1;
  int best_t = 1;
  for (int t = 1; t < kOtsuBins; ++t) {  // class 0 = bins [0, t), class 1 = [t, 256)
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

}  // namespace

double otsu_threshold(const std::vector<float>& v) {
  if (v.empty()) throw Error(ExitCode::kFailure, "otsu_threshold of no values");
  auto [mn_it, mx_it] = std::minmax_element(v.begin(), v.end());
  const double mn = *mn_it, mx = *mx_it;
  if (!(mx > mn)) return mn;
  std::vector<double> hist(kOtsuBins, 0.0);
  const double scale = kOtsuBins / (mx - mn);
  for (float x : v) {
    int b = static_cast<int>((static_cast<double>(x) - mn) * scale);
    hist[static_cast<std::size_t>(std::clamp(b, 0, kOtsuBins - 1))] += 1;
  }
  return otsu_of_histogram(hist, mn, (mx - mn) / kOtsuBins);
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

namespace {

// Exact fast path for integer-valued images (int16/uint8/uint16 without scaling, the usual MR
// case): one counting pass replaces the copies and partial sorts. Same numbers as the generic
// path: identical Otsu bins per value, percentiles by rank (numpy's linear definition).
bool fit_integer(const std::vector<float>& v, IntensityStats& s, const PreprocessParams& p) {
  // One counting pass over a fixed window covering int16 and uint16; anything else (a
  // fraction, a value outside the window) falls back to the generic path.
  constexpr std::int64_t kLow = -32768, kHigh = 65535;
  std::vector<std::int64_t> window(static_cast<std::size_t>(kHigh - kLow + 1), 0);
  for (float x : v) {
    if (!(x >= static_cast<float>(kLow) && x <= static_cast<float>(kHigh))) return false;
    std::int32_t iv = static_cast<std::int32_t>(x);
    if (static_cast<float>(iv) != x) return false;
    ++window[static_cast<std::size_t>(iv - kLow)];
  }
  std::int64_t mn = kLow, mx = kHigh;
  while (window[static_cast<std::size_t>(mn - kLow)] == 0) ++mn;
  while (window[static_cast<std::size_t>(mx - kLow)] == 0) --mx;
  std::vector<std::int64_t> counts(window.begin() + (mn - kLow), window.begin() + (mx - kLow) + 1);
  // Otsu on the 256-bin histogram, bins filled per distinct value exactly as otsu_threshold().
  if (mx > mn) {
    std::vector<double> hist(kOtsuBins, 0.0);
    const double dmn = static_cast<double>(mn), scale = kOtsuBins / (static_cast<double>(mx) - dmn);
    for (std::int64_t val = mn; val <= mx; ++val) {
      std::int64_t c = counts[static_cast<std::size_t>(val - mn)];
      if (!c) continue;
      int b = static_cast<int>((static_cast<double>(static_cast<float>(val)) - dmn) * scale);
      hist[static_cast<std::size_t>(std::clamp(b, 0, kOtsuBins - 1))] += static_cast<double>(c);
    }
    s.otsu_threshold = otsu_of_histogram(hist, dmn, (static_cast<double>(mx) - dmn) / kOtsuBins);
  } else {
    s.otsu_threshold = static_cast<double>(mn);
  }
  // foreground = values >= threshold
  std::int64_t first = mn;
  while (first <= mx && static_cast<double>(first) < s.otsu_threshold) ++first;
  std::int64_t n = 0;
  for (std::int64_t val = first; val <= mx; ++val) n += counts[static_cast<std::size_t>(val - mn)];
  if (n == 0) first = mn, n = static_cast<std::int64_t>(v.size());
  s.n_foreground = n;
  // The clip percentiles, mean and SD are of the whole image (see fit_intensity).
  const std::int64_t n_all = static_cast<std::int64_t>(v.size());
  auto value_at_rank = [&](std::int64_t rank) {
    std::int64_t acc = 0;
    for (std::int64_t val = mn; val <= mx; ++val) {
      acc += counts[static_cast<std::size_t>(val - mn)];
      if (acc > rank) return static_cast<double>(val);
    }
    return static_cast<double>(mx);
  };
  auto pct = [&](double q) {
    double pos = q / 100.0 * static_cast<double>(n_all - 1);
    std::int64_t lo = static_cast<std::int64_t>(std::floor(pos));
    std::int64_t hi = std::min<std::int64_t>(lo + 1, n_all - 1);
    double a = value_at_rank(lo), b = value_at_rank(hi);
    return a + (pos - static_cast<double>(lo)) * (b - a);
  };
  s.clip_low = pct(p.clip_low_percentile);
  s.clip_high = pct(p.clip_high_percentile);
  double sum = 0;
  for (std::int64_t val = mn; val <= mx; ++val)
    sum += static_cast<double>(counts[static_cast<std::size_t>(val - mn)]) *
           std::clamp(static_cast<double>(val), s.clip_low, s.clip_high);
  s.mean = sum / static_cast<double>(n_all);
  double ss = 0;
  for (std::int64_t val = mn; val <= mx; ++val) {
    double d = std::clamp(static_cast<double>(val), s.clip_low, s.clip_high) - s.mean;
    ss += static_cast<double>(counts[static_cast<std::size_t>(val - mn)]) * d * d;
  }
  s.sd = std::sqrt(ss / static_cast<double>(n_all));
  return true;
}

}  // namespace

IntensityStats fit_intensity(const io::Volume& image, const PreprocessParams& p) {
  IntensityStats s;
  s.method = p.normalise;
  if (image.voxels.empty()) throw ValidationError("fit_intensity: empty image");
  if (fit_integer(image.voxels, s, p)) {
    if (!(s.sd > 0)) {
      log::warn("image intensities are constant; z-score uses sd = 1");
      s.sd = 1;
    }
    return s;
  }
  // NaN / inf voxels (float images) take no part in the statistics: they would also break the
  // strict weak ordering that nth_element relies on.
  std::vector<float> finite;
  finite.reserve(image.voxels.size());
  for (float x : image.voxels)
    if (std::isfinite(x)) finite.push_back(x);
  if (finite.empty()) throw ValidationError("fit_intensity: the image has no finite voxel");
  if (finite.size() < image.voxels.size())
    log::warn("{} non-finite voxel(s) ignored by the intensity statistics", image.voxels.size() - finite.size());
  s.otsu_threshold = otsu_threshold(finite);
  s.n_foreground = 0;
  for (float x : finite) s.n_foreground += x >= s.otsu_threshold;
  if (s.n_foreground == 0) s.n_foreground = static_cast<std::int64_t>(finite.size());
  // Clip at percentiles of the whole image and z-score with the clipped image's mean and SD
  // (nnU-Net's MRI scheme). Statistics of the Otsu foreground (before issue Hospital files) cut
  // every voxel below the foreground's 0.5th percentile to one value: on T2 the threshold falls
  // between intermediate-signal tissue (tumour, stroma) and the bright class, so most of the
  // tumour became a flat blob, by a fraction that differed by centre, and its texture never
  // reached the models; the foreground's narrow SD also put the tumour at z -5 to -16
  // (docs/images.md "Intensity normalisation"). Otsu's threshold is still recorded.
  s.clip_low = percentile(finite, p.clip_low_percentile);
  s.clip_high = percentile(finite, p.clip_high_percentile);
  double sum = 0;
  for (float x : finite) sum += std::clamp(static_cast<double>(x), s.clip_low, s.clip_high);
  const double n = static_cast<double>(finite.size());
  s.mean = sum / n;
  double ss = 0;  // two passes: no cancellation for large intensities
  for (float x : finite) {
    double d = std::clamp(static_cast<double>(x), s.clip_low, s.clip_high) - s.mean;
    ss += d * d;
  }
  s.sd = std::sqrt(ss / n);  // population SD (numpy's default ddof=0)
  if (!(s.sd > 0)) {
    log::warn("image intensities are constant; z-score uses sd = 1");
    s.sd = 1;
  }
  return s;
}

}  // namespace cervirisk::imaging
