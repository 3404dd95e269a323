// Maps a crop-space heatmap (Grad-CAM or rollout, upsampled to the crop) back onto the MRI
// slice it was cut from, for the overlay figure (report::mri_overlay_figure).
//
// Geometry: the crop was cut from the slice after in-plane resampling to a fixed spacing; the
// crop box is given in that resampled grid as pixel edges [x0, x1) × [y0, y1) (x = column,
// y = row, origin at the top-left edge of pixel (0,0)). scale_x / scale_y convert resampled
// pixels to pixels of the displayed slice (resampled spacing / displayed spacing; 1 when the
// overlay is drawn on the resampled slice itself). Pixel centres sit at half-integers, the
// heatmap is sampled bilinearly with half-pixel centres (align_corners = false), so mapping
// the crop's own resampling back is consistent.
#pragma once

#include "report/figures.h"

namespace cervirisk::explain {

struct CropBox {
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // pixel edges in the resampled slice grid
};

struct SliceMapping {
  CropBox box;
  double scale_x = 1.0;  // displayed pixels per resampled pixel
  double scale_y = 1.0;
};

// Heatmap (crop rows × cols, any size) → a raster of the displayed slice's size with the
// heatmap inside the box and NaN outside. Throws ConfigError for an empty box or heatmap.
report::Raster map_heatmap_to_slice(const report::Raster& heatmap, const SliceMapping& mapping,
                                    int slice_width, int slice_height);

// The crop box in displayed-slice pixel edges (for drawing it).
report::OverlayBox box_on_slice(const SliceMapping& mapping, const std::string& label);

// Bilinear sample of a raster at continuous pixel coordinates (centres at integers), clamped
// at the borders.
double sample_bilinear(const report::Raster& r, double x, double y);

}  // namespace cervirisk::explain
