#include "imaging/params.h"

#include <fmt/format.h>

#include "core/config.h"
#include "core/error.h"

namespace cervirisk::imaging {

const char* normalisation_name(Normalisation n) { return choice_name(kNormalisationNames, n); }

Normalisation parse_normalisation(const std::string& name) {
  return parse_choice<Normalisation>(kNormalisationNames, name, "preprocess.normalise");
}

const char* frame_name(Frame f) { return choice_name(kFrameNames, f); }

Frame parse_frame(const std::string& name) { return parse_choice<Frame>(kFrameNames, name, "preprocess.frame"); }

PreprocessParams PreprocessParams::from_config(const config::Config& c) {
  PreprocessParams p;
  p.frame = parse_frame(c.get_string("preprocess.frame"));
  p.slice_spacing_mm = c.get_double("preprocess.slice_spacing_mm");
  p.spacing_mm = c.get_double("preprocess.spacing_mm");
  p.tumour_margin_mm = c.get_double("preprocess.tumour_margin_mm");
  p.context_margin_mm = c.get_double("preprocess.context_margin_mm");
  p.tumour_fov_mm = c.get_double("preprocess.tumour_fov_mm");
  p.context_fov_mm = c.get_double("preprocess.context_fov_mm");
  p.neighbours = static_cast<int>(c.get_int("preprocess.neighbours"));
  p.mask_channel = c.get_bool("preprocess.mask_channel");
  p.tumour_size_px = static_cast<int>(c.get_int("preprocess.tumour_size_px"));
  p.context_size_px = static_cast<int>(c.get_int("preprocess.context_size_px"));
  const auto& clip = c.get_doubles("preprocess.clip_percentiles");
  if (clip.size() != 2)
    throw ConfigError(c.source() + ": preprocess.clip_percentiles needs 2 values [low, high], got " +
                      std::to_string(clip.size()));
  p.clip_low_percentile = clip[0];
  p.clip_high_percentile = clip[1];
  p.normalise = parse_normalisation(c.get_string("preprocess.normalise"));
  p.validate();
  return p;
}

void PreprocessParams::validate() const {
  if (!(clip_low_percentile >= 0 && clip_low_percentile < clip_high_percentile && clip_high_percentile <= 100))
    throw ConfigError(fmt::format("preprocess.clip_percentiles: expected 0 <= low < high <= 100, got [{}, {}]",
                                  clip_low_percentile, clip_high_percentile));
  if (!(slice_spacing_mm > 0))
    throw ConfigError(fmt::format("preprocess.slice_spacing_mm must be > 0, got {}", slice_spacing_mm));
  if (!(spacing_mm > 0)) throw ConfigError(fmt::format("preprocess.spacing_mm must be > 0, got {}", spacing_mm));
  if (tumour_size_px < 1 || context_size_px < 1 || neighbours < 0)
    throw ConfigError("preprocess: sizes must be >= 1 and neighbours >= 0");
}

std::string PreprocessParams::canonical() const {
  // The acquisition frame's text is the one of the format before the canonical frame existed,
  // so caches and bundles made then keep their keys.
  const std::string frame_part =
      frame == Frame::kAcquisition ? "" : fmt::format("frame={};slice_spacing_mm={:.6f};", frame_name(frame), slice_spacing_mm);
  return frame_part + fmt::format(
      "spacing_mm={:.6f};tumour_margin_mm={:.6f};context_margin_mm={:.6f};context_fov_mm={:.6f};tumour_fov_mm={:.6f};neighbours={};"
      "tumour_size_px={};context_size_px={};clip=[{:.6f},{:.6f}];normalise={}",
      spacing_mm, tumour_margin_mm, context_margin_mm, context_fov_mm, tumour_fov_mm, neighbours, tumour_size_px, context_size_px,
      clip_low_percentile, clip_high_percentile, normalisation_name(normalise)) +
         // Appended only when on, so caches and bundles made without mask planes keep their keys.
         (mask_channel ? ";mask_channel=1" : "");
}

AugmentParams AugmentParams::from_config(const config::Config& c) {
  AugmentParams a;
  a.enabled = c.get_bool("augment.enabled");
  a.flip = c.get_bool("augment.flip");
  a.rotate_deg = c.get_double("augment.rotate_deg");
  a.scale = c.get_double("augment.scale");
  a.intensity = c.get_double("augment.intensity");
  return a;
}

}  // namespace cervirisk::imaging
