// DICOM series -> Volume, through GDCM (reference: DICOM PS3.3 C.7.6.2 Image Plane Module and
// C.7.6.16 Multi-frame Functional Groups; PS3.5 for the transfer syntaxes GDCM decodes).
//
// A folder may hold several series. Files are grouped by SeriesInstanceUID and each group is
// split further by image orientation, rows x columns, echo number/time and diffusion b-value,
// so that each sub-series is one regular 3D grid. Localizers and derived images are skipped.
// Slices are sorted by their position along the slice normal (ImagePositionPatient .
// (row x col cosines)), never by InstanceNumber; the slice spacing comes from those positions
// (SliceThickness is ignored), and a non-uniform spacing is reported naming the gap or the
// duplicate. Enhanced multi-frame MR reads the per-frame and shared functional groups.
// RescaleSlope / RescaleIntercept are applied; MONOCHROME1 is inverted so that bright = high.
// Geometry: DICOM's patient coordinate system is LPS already, so no flip here (volume.h).
//
// Patient names and ids are never read into these structures, outputs or logs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "io/volume.h"

namespace cervirisk::io {

struct DicomReadOptions {
  std::string series_pattern;  // ECMAScript regex searched in SeriesDescription ("" = any)
  std::string series_uid;      // exact SeriesInstanceUID (wins over the pattern)
};

// One readable 3D sub-series (or a skipped one, with the reason).
struct DicomSeriesInfo {
  std::string series_uid;
  std::string description;  // SeriesDescription, UTF-8 (converted from SpecificCharacterSet)
  std::string modality;
  std::string sop_class_uid;
  std::string transfer_syntax;
  std::string split_key;    // what separated it from siblings of the same UID ("" = none)
  int n_slices = 0;
  std::vector<std::filesystem::path> files;  // sorted along the slice normal (one file if multi-frame)
  bool multiframe = false;
  Geometry geometry;        // from positions; valid when skip_reason is empty
  std::string skip_reason;     // "" = readable as a 3D grid; else why not ("Siemens mosaic", gaps, ...)
  std::string exclude_reason;  // "localizer" / "derived ...": readable, but never chosen automatically
  std::vector<std::string> warnings;  // spacing gaps, duplicates
};

// Lists the series in a folder (recursively) or in one file, sorted by description then UID.
// Throws InputError when the path does not exist or holds no DICOM file.
std::vector<DicomSeriesInfo> list_dicom_series(const std::filesystem::path& path);

// Reads one series' voxels (float32 after rescale) with its geometry. Throws FormatError (exit 4)
// for corrupt pixel data or an unsupported layout, naming the file and the reason.
Volume read_dicom_series(const DicomSeriesInfo& series);

// list + choose + read. Candidates: the readable series that are neither localizers nor derived
// (or, when there are none, every readable series); a series UID or a description pattern
// narrows them. With several candidates left, throws InputError listing the series (uid,
// description, slices, why others were skipped); an unreadable choice throws FormatError with
// the reason.
Volume read_dicom(const std::filesystem::path& path, const DicomReadOptions& options = {});

}  // namespace cervirisk::io
