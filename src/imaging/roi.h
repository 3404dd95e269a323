// Multi-scale tumour ROIs: the model inputs of one patient (DESIGN.md "Multi-scale").
//
// Steps (each a function of its own file): pick the slice of largest tumour area and its k
// neighbours on each side (2.5D channels; at the volume's ends the edge slice is repeated);
// fit the intensity statistics (normalise.h); resample those slices in plane to spacing_mm
// (linear; the mask nearest, resample.h); take two square crops centred on the centre of the
// mask's bounding box on the centre slice, with sides in millimetres:
//   tumour  = max(box width, box height) + 2 * tumour_margin_mm, or tumour_fov_mm when > 0 (a
//             fixed field of view: absolute tumour size is kept)
//   context = tumour side + 2 * context_margin_mm, or context_fov_mm when > 0;
// each sampled bilinearly onto size_px x size_px pixels (crop + resize in one interpolation),
// outside the image padded with the normalised lower clip value (the darkest tissue value).
// Squares keep the aspect ratio: no anisotropic stretching of the tumour.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "imaging/normalise.h"
#include "imaging/params.h"
#include "io/volume.h"

namespace cervirisk::imaging {

// Where a crop lies in the patient: output pixel (x, y) (x = column, y = row; pixel centres at
// integer coordinates) of channel c is the world point
//   centre_lps_mm + (x - (size_px-1)/2) * step_x_lps + (y - (size_px-1)/2) * step_y_lps
// on slice slice_indices[c] (shifted by the slice offset along the normal). Enough to map a
// Grad-CAM heatmap back onto the MRI slice.
struct CropBox {
  int size_px = 0;
  double side_mm = 0;
  double pixel_mm = 0;                 // side_mm / size_px
  io::Vec3 centre_lps_mm{0, 0, 0};     // on the centre slice
  io::Vec3 step_x_lps{0, 0, 0};        // world step per output pixel along x (image i axis)
  io::Vec3 step_y_lps{0, 0, 0};        // ... along y (image j axis)
  std::int64_t centre_slice = 0;

  io::Vec3 pixel_to_lps(double x, double y) const;
  // Continuous voxel index (i, j, k) of the original image for output pixel (x, y).
  io::Vec3 pixel_to_index(const io::Geometry& image, double x, double y) const;
};

struct Crop {
  int channels = 0, height = 0, width = 0;
  std::vector<float> data;  // [C][H][W], row-major
  CropBox box;
  float at(int c, int y, int x) const { return data[static_cast<std::size_t>((c * height + y) * width + x)]; }
};

// Everything the training pipeline needs about one patient's image (torch-free).
struct PatientSample {
  Crop tumour;
  Crop context;
  std::int64_t slice_index = 0;               // largest tumour area
  std::vector<std::int64_t> slice_indices;    // the 2k+1 channels (edge slices repeated)
  double tumour_area_mm2 = 0;                 // on the chosen slice
  std::array<double, 4> box_mm{0, 0, 0, 0};   // mask bounding box on the centre slice, in the
                                              // resampled slice's mm (x0, y0, x1, y1)
  IntensityStats stats;
  io::Geometry image_geometry;
};

// The slice (k) of largest mask area; ties -> the lowest k. Throws ValidationError when empty.
std::int64_t largest_area_slice(const io::Volume& mask, double* area_mm2 = nullptr);

// The whole pipeline for one patient. `mask` must be on the image grid (io::read_mask puts it
// there). Throws ValidationError (exit 5) for an empty mask or a mismatched grid.
PatientSample preprocess(const io::Volume& image, const io::Volume& mask, const PreprocessParams& params);

}  // namespace cervirisk::imaging
