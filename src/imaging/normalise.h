// Intensity normalisation of MR images: percentile clipping within a foreground mask, then
// z-score (or min-max). MR intensities have no absolute unit, so each image is standardised by
// its own foreground statistics (Nyul & Udupa's motivation, DOI 10.1002/(SICI)1522-2594(199912)42:6<1072::AID-MRM11>3.0.CO;2-M;
// z-scoring within the body as in nnU-Net, DOI 10.1038/s41592-020-01008-z).
//
// Foreground = voxels >= Otsu's threshold (DOI 10.1109/TSMC.1979.4310076) on a 256-bin
// histogram over [min, max] (numpy.histogram bins), which separates the body from air.
// Percentiles use numpy's default (linear) definition. Same algorithm in
// scripts/preprocess_reference.py.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "imaging/params.h"
#include "io/volume.h"

namespace cervirisk::imaging {

struct IntensityStats {
  Normalisation method = Normalisation::kZScore;
  double otsu_threshold = 0;
  std::int64_t n_foreground = 0;
  double clip_low = 0, clip_high = 0;  // intensity values at the clip percentiles
  double mean = 0, sd = 1;              // of the clipped image

  // Normalised value of a raw intensity (clip, then standardise).
  float apply(float raw) const;
};

double otsu_threshold(const std::vector<float>& values);
// numpy.percentile(values, q) (linear); reorders `values`.
double percentile(std::vector<float>& values, double q);

// Fits the statistics on the whole volume. A constant image gets sd = 1 (with a warning).
IntensityStats fit_intensity(const io::Volume& image, const PreprocessParams& params);

}  // namespace cervirisk::imaging
