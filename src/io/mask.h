// Tumour masks from every format cervirisk reads, put on the image's grid.
//
//   .nii / .nii.gz          NIfTI (our reader, nifti.h)         label image
//   .nrrd / .nhdr           NRRD (teem, nrrd.h)                 label image or 3D Slicer .seg.nrrd
//   .mha / .mhd             MetaImage (our reader, metaimage.h) label image
//   DICOM RTSTRUCT file     GDCM (dicom_objects.h)              contours rasterised onto the image grid
//   DICOM SEG file          GDCM (dicom_objects.h)              frames placed on the image grid
//   DICOM folder / file     GDCM (dicom.h)                      label image (one series)
//
// `segment` chooses one structure (segments.h): an RTSTRUCT ROI or SEG/.seg.nrrd segment by
// name or label; in a plain label image a label value ("" = every voxel > 0.5). A file holding
// one structure needs no name; several without one is a ValidationError (exit 5) listing them.
#pragma once

#include <filesystem>
#include <string>

#include "io/volume.h"

namespace cervirisk::io {

struct MaskReadOptions {
  std::string segment;  // ROI / segment name or label value ("" = the only one / voxel > 0.5)
};

// The mask at `path` as a 0/1 volume on `image_grid`: label images are binarised (the chosen
// label, or > 0.5) and, when their grid differs from the image's (Geometry::same_grid, 1e-3 mm),
// resampled with nearest neighbour in world LPS coordinates; RTSTRUCT and SEG are rasterised /
// placed directly on `image_grid`. Throws InputError (exit 3) when the file is missing,
// FormatError (exit 4) for an unreadable or unknown format, ValidationError (exit 5) for an
// empty mask, a mask outside the image, or a structure that cannot be chosen; messages name the
// file.
Volume read_mask(const std::filesystem::path& path, const Geometry& image_grid, const MaskReadOptions& options = {});

// The mask on its own grid, for `cervirisk convert` (label images only; RTSTRUCT and SEG need an
// image grid and go through read_mask). Binarised as read_mask does.
Volume read_mask_native(const std::filesystem::path& path, const MaskReadOptions& options = {});

// What kind of file a mask path is, in words ("NIfTI", "NRRD", "MetaImage", "DICOM RTSTRUCT",
// "DICOM SEG", "DICOM series"); "" for an unknown format.
std::string mask_format(const std::filesystem::path& path);

}  // namespace cervirisk::io
