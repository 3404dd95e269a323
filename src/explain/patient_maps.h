// Image explanations of one patient: Grad-CAM on ConvNeXt's last stage and on the dual-path
// ViT's tokens, attention rollout over both ViT paths, written back into the source image's
// geometry (relevance_volume) and drawn over the plane the crops were cut from
// (report::mri_overlay_figure).
//
// Grad-CAM: Selvaraju et al. 2017 (doi:10.1109/ICCV.2017.74), target = the pre-sigmoid
// recurrence logit; the ViT target layer is the token sequence entering each path's last
// transformer block (pytorch-grad-cam's choice `blocks[-1].norm1` for ViTs: after the final
// norm only the CLS token reaches the embedding, so patch tokens there carry no gradient).
// Rollout: Abnar & Zuidema 2020 (doi:10.18653/v1/2020.acl-main.385) over each path's
// self-attention blocks in order (the CLS cross-attention between the paths is not part of a
// path's token-to-token flow and is left out).
#pragma once

#include <array>
#include <string>
#include <vector>

#include "explain/overlay.h"
#include "explain/rollout.h"
#include "imaging/roi.h"
#include "models/fusion.h"

namespace cervirisk::explain {

// Relevance maps of one patient on the feature / patch grids ([h, w], float64, >= 0,
// unscaled); undefined for a path the variant does not have.
struct PatientMaps {
  double logit = 0;
  torch::Tensor gradcam_convnext;            // ConvNeXt last stage (tumour crop)
  torch::Tensor gradcam_convnext_context;    // ... on the context crop (arch.convnext_context)
  std::array<torch::Tensor, 2> gradcam_vit;  // ViT path A (tumour crop), path B (context crop)
  std::array<torch::Tensor, 2> rollout_vit;  // attention rollout R[CLS, patches], per path
};

// One eval-mode forward + backward of the logit. `one` holds a single patient (batch 1).
PatientMaps patient_relevance_maps(models::RecurrenceModel& model, const models::ModelInputs& one,
                                   const RolloutOptions& rollout = {});

// Where a crop lies on its centre slice of the ORIGINAL image: the crop's pixel edges
// (-0.5 and size_px - 0.5, pixel centres at integers) mapped through the crop's world
// geometry to voxel indices of `image`, as pixel edges of the displayed slice (scale 1).
// Throws ConfigError when the crop is not axis-aligned with the slice (it always is for the
// crops of imaging::preprocess).
SliceMapping slice_mapping_of(const imaging::CropBox& box, const io::Geometry& image);

// Slice k of a volume as a raster (x = i, y = j), the display of report::mri_overlay_figure.
report::Raster volume_slice(const io::Volume& volume, std::int64_t k);

// The relevance of one crop as a volume on the source image's grid (what explain writes as
// NIfTI, so that it opens aligned over the MRI in ITK-SNAP or 3D Slicer): the grid map min–max
// scaled to [0, 1] and upsampled bilinearly to the crop's pixels (align_corners = false); a
// voxel whose centre projects inside the crop's square (pixel edges -0.5 .. size_px - 0.5)
// and lies within the crop's slab (|distance to the centre plane| <= channels / 2 *
// slice_step_mm: the planes the 2.5D input saw) gets the bilinear value at its projection,
// every other voxel 0. Metadata "description" names nothing patient-identifying.
io::Volume relevance_volume(const torch::Tensor& grid_map, const imaging::Crop& crop, const io::Geometry& image);

// One overlay drawn from such a map: the crops' centre plane (the sagittal plane of the
// canonical frame, or the acquired slice) resampled from the image (trilinear) and from `map`
// (trilinear, shown inside `crop`'s square only) over the context box with half its size
// around it, at the image's finest spacing (at least 0.5 mm); both crop boxes drawn.
report::Figure relevance_overlay(const io::Volume& image, const io::Volume& map, const imaging::Crop& crop,
                                 const imaging::PatientSample& sample, const std::string& title,
                                 const std::string& colorbar_label);

// Every map of a patient: stem ("gradcam_convnext", "gradcam_convnext_context", "gradcam_vit_tumour",
// "gradcam_vit_context", "rollout_tumour", "rollout_context"), the map on the image's grid and
// its overlay figure. Constant maps (no spatial information, e.g. a 1x1 ConvNeXt stage) are
// left out.
struct PatientMapOutput {
  std::string stem;
  io::Volume map;
  report::Figure figure;
};
std::vector<PatientMapOutput> patient_map_outputs(const PatientMaps& maps, const imaging::PatientSample& sample,
                                                  const io::Volume& image, const std::string& patient_id,
                                                  const RolloutOptions& rollout);

}  // namespace cervirisk::explain
