// Preprocessing and augmentation parameters: the [preprocess] and [augment] keys of the study
// configuration (src/core/config_schema.cpp), as one value type that also keys the cache.
#pragma once

#include <cstdint>
#include <string>

#include "core/choice.h"
#include "core/config_fwd.h"

namespace cervirisk::imaging {

enum class Normalisation { kZScore, kMinMax, kNone };
// Where the 2.5D slices are taken (roi.h):
//   sagittal    - the canonical anatomical frame: sagittal planes (normal patient right-left),
//                 crop columns anterior -> posterior, rows superior -> inferior, whatever the
//                 acquisition plane (sagittal, axial, oblique); planes slice_spacing_mm apart.
//   acquisition - the image's own slices (k axis) and in-plane axes, as acquired (the format
//                 before the canonical frame; an oblique-axial and a sagittal series then show
//                 different anatomy).
enum class Frame { kSagittal, kAcquisition };
inline constexpr ChoiceNames<2> kFrameNames{"sagittal", "acquisition"};
const char* frame_name(Frame f);
Frame parse_frame(const std::string& name);  // throws ConfigError naming the choices
inline constexpr ChoiceNames<3> kNormalisationNames{"zscore", "minmax", "none"};
const char* normalisation_name(Normalisation n);
Normalisation parse_normalisation(const std::string& name);  // throws ConfigError naming the choices

struct PreprocessParams {
  Frame frame = Frame::kSagittal;   // where the slices are taken (see Frame)
  double spacing_mm = 0.8;          // in-plane spacing the slices are resampled to
  double slice_spacing_mm = 4.0;    // distance between the 2.5D planes (sagittal frame only)
  double tumour_margin_mm = 5.0;    // around the mask's bounding box (tumour crop)
  double context_margin_mm = 15.0;  // further peritumoral margin (context crop)
  double tumour_fov_mm = 72.0;      // fixed tumour field of view (absolute size kept); 0 = box + margin
  double context_fov_mm = 0.0;      // fixed context field of view; 0 = box + margins
  int neighbours = 1;               // k: channels = 2k+1 slices around the largest-area slice
  // Give the model the tumour mask as input channels beside the image: every crop then carries
  // 2k+1 mask planes after its 2k+1 image planes (the mask sampled like the image, 0..1), so the
  // outline, size and shape the annotator drew reach the network directly.
  bool mask_channel = false;
  int tumour_size_px = 64;
  int context_size_px = 96;
  double clip_low_percentile = 0.5;
  double clip_high_percentile = 99.5;
  Normalisation normalise = Normalisation::kZScore;

  // From [preprocess]. Throws ConfigError when the keys are inconsistent (e.g. low >= high).
  static PreprocessParams from_config(const config::Config& config);
  // Canonical text of every field (fixed precision): part of the cache key and the model bundle.
  std::string canonical() const;
  void validate() const;  // throws ConfigError
};

struct AugmentParams {
  bool enabled = true;
  bool flip = true;          // random left-right flip (p = 0.5)
  double rotate_deg = 10.0;  // uniform in [-r, r]
  double scale = 0.1;        // zoom factor uniform in [1 - s, 1 + s]
  double intensity = 0.1;    // gain 1 + N(0, s), offset N(0, s) (in SD units after z-scoring)

  static AugmentParams from_config(const config::Config& config);
};

}  // namespace cervirisk::imaging
