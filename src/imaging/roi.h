// Multi-scale tumour ROIs: the model inputs of one patient (DESIGN.md "Multi-scale").
//
// Frame (params.frame, params.h):
//   sagittal (default): the canonical anatomical frame. Planes perpendicular to patient
//     left-right (normal n = LPS (-1, 0, 0), i.e. towards the patient's right), crop columns
//     x along LPS (0, 1, 0) (anterior -> posterior), rows y along LPS (0, 0, -1) (superior ->
//     inferior): the display of a standard sagittal T2. Planes lie on a world-aligned lattice
//     in plane (points u = a * spacing_mm along x, v = b * spacing_mm along y) so that the same
//     body gives the same samples whatever the acquisition grid.
//     - Centre plane: the plane of largest tumour area. Candidates: the image's own slice
//       positions when its slices are parallel to the sagittal plane (within 1 degree: then the
//       centre plane IS an acquired slice), else every 0.5 mm across the mask. Area = mask
//       samples (nearest neighbour) inside on the plane's lattice x spacing_mm^2; ties -> the
//       lowest position along n (the leftmost).
//     - Channels: planes at centre + d * slice_spacing_mm along n, d = -k..k.
//     - Each plane is sampled from the image with trilinear interpolation (points more than half
//       a voxel outside the volume -> the pad value; within half a voxel, the edge voxel).
//   acquisition: the image's own slices: the slice (k) of largest tumour area and its k
//     neighbours on each side (at the volume's ends the edge slice is repeated), resampled in
//     plane to spacing_mm (linear; the mask nearest, resample.h). Kept for comparison and for
//     bundles of the earlier format.
// Then, in both frames: fit the intensity statistics (normalise.h) on the whole image; take two
// square crops centred on the centre of the mask's bounding box on the centre plane, sides in mm:
//   tumour  = tumour_fov_mm when > 0 (a fixed field of view: absolute tumour size is kept; the
//             default), else max(box width, box height) + 2 * tumour_margin_mm
//   context = context_fov_mm when > 0, else tumour side + 2 * context_margin_mm;
// each sampled bilinearly onto size_px x size_px pixels (crop + resize in one interpolation),
// outside the image padded with the normalised lower clip value (the darkest tissue value).
// Squares keep the aspect ratio: no anisotropic stretching of the tumour.
// With params.mask_channel the mask is sampled on the same planes and pixels (trilinear /
// linear in plane, then the same bilinear crop; 0 outside) into Crop::mask.
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
// integer coordinates) of channel c (0..channels-1, centre channel (channels-1)/2) is the world
// point
//   centre_lps_mm + (x - (size_px-1)/2) * step_x_lps + (y - (size_px-1)/2) * step_y_lps
//                 + (c - (channels-1)/2) * slice_step_mm * normal_lps
// (acquisition frame: the slice offset is that of slice slice_indices[c]). Enough to map a
// Grad-CAM heatmap back into the MRI volume.
struct CropBox {
  int size_px = 0;
  double side_mm = 0;
  double pixel_mm = 0;                 // side_mm / size_px
  io::Vec3 centre_lps_mm{0, 0, 0};     // on the centre slice
  io::Vec3 step_x_lps{0, 0, 0};        // world step per output pixel along x (image i axis)
  io::Vec3 step_y_lps{0, 0, 0};        // ... along y (image j axis)
  io::Vec3 normal_lps{0, 0, 0};         // unit plane normal (the channel axis)
  double slice_step_mm = 0;             // distance between channel planes along normal_lps
  std::int64_t centre_slice = 0;        // the image slice nearest the crop centre (display only)

  io::Vec3 pixel_to_lps(double x, double y) const;
  // Continuous voxel index (i, j, k) of the original image for output pixel (x, y).
  io::Vec3 pixel_to_index(const io::Geometry& image, double x, double y) const;
};

struct Crop {
  int channels = 0, height = 0, width = 0;  // channels: the image planes
  std::vector<float> data;  // [C][H][W], row-major
  // params.mask_channel: the tumour mask on the same planes and pixels, [C][H][W] in 0..1
  // (sampled like the image, outside the volume 0); empty otherwise. The model input is the
  // image planes followed by these.
  std::vector<float> mask;
  CropBox box;
  float at(int c, int y, int x) const { return data[static_cast<std::size_t>((c * height + y) * width + x)]; }
  int input_channels() const { return mask.empty() ? channels : 2 * channels; }
};

// Everything the training pipeline needs about one patient's image (torch-free).
struct PatientSample {
  Frame frame = Frame::kSagittal;
  Crop tumour;
  Crop context;
  std::int64_t slice_index = 0;               // largest tumour area (sagittal: the image slice nearest the centre)
  std::vector<std::int64_t> slice_indices;    // the 2k+1 channels (edge slices repeated; sagittal: nearest image slices)
  double tumour_area_mm2 = 0;                 // on the chosen slice
  std::array<double, 4> box_mm{0, 0, 0, 0};   // mask bounding box on the centre plane (x0, y0, x1, y1):
                                              // acquisition: the resampled slice's mm; sagittal:
                                              // mm along the crop's x and y axes from the world origin
  IntensityStats stats;
  io::Geometry image_geometry;
};

// The slice (k) of largest mask area; ties -> the lowest k. Throws ValidationError when empty.
std::int64_t largest_area_slice(const io::Volume& mask, double* area_mm2 = nullptr);

// The whole pipeline for one patient. `mask` must be on the image grid (io::read_mask puts it
// there). Throws ValidationError (exit 5) for an empty mask or a mismatched grid.
PatientSample preprocess(const io::Volume& image, const io::Volume& mask, const PreprocessParams& params);

}  // namespace cervirisk::imaging
