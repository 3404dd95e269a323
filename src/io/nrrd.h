// NRRD images (.nrrd, .nhdr + detached data) and 3D Slicer segmentations (.seg.nrrd) -> Volume.
//
// Reference: the NRRD format (http://teem.sourceforge.net/nrrd/format.html, NRRD0001-0005).
// Parsing and decoding are teem's (Debian libteem-dev, the reference implementation): raw,
// gzip, bzip2, ascii and hex encodings, either byte order, attached or detached data. Geometry:
// "space directions" are the columns of the index -> world matrix, "space origin" the centre of
// the first voxel (format.html, "space directions", "space origin"); spacing = the norm of each
// column, direction = the normalised column. A right-anterior-superior space (or
// left-anterior-superior) is converted to LPS here, once. "measurement frame" only concerns
// vector / tensor values and is ignored.
//
// Every malformed input becomes a FormatError (exit 4) naming the file and teem's own account of
// what is wrong; sizes are checked against the file size before teem allocates anything.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "io/segments.h"
#include "io/volume.h"

namespace cervirisk::io {

// True for names ending in .nrrd or .nhdr (case-insensitive; ".seg.nrrd" included).
bool is_nrrd_path(const std::filesystem::path& path);

// Reads a 3D scalar image (any integer or floating-point type, converted to float32).
// Throws InputError (exit 3) when the file is missing and FormatError (exit 4) when it is
// corrupt, not 3D scalar (a 4D image, a vector/RGB axis), or has no usable geometry.
// A file with "spacings" but no "space directions" is read with an identity direction and
// metadata["geometry_warning"] set (and a log warning); neither -> FormatError.
// Volume::metadata gets: format=nrrd, type (teem's name, e.g. "short"), encoding, space
// (e.g. "left-posterior-superior"), dims ("40x36x12").
Volume read_nrrd(const std::filesystem::path& path);

// The segments a 3D Slicer .seg.nrrd describes (SegmentN_Name / _ID / _LabelValue key/value
// pairs), in N order. Empty for a NRRD without Segment keys (a plain label image).
std::vector<SegmentInfo> nrrd_segments(const std::filesystem::path& path);

// A 0/1 mask on the file's own grid (no resampling):
//  - a 3D Slicer segmentation (3D: one layer; 4D with a leading "list" axis: one layer per
//    index, for overlapping segments): the segment io::choose_segment picks with `selector`
//    (ValidationError, exit 5, listing the segments when that fails); voxel = 1 where the
//    segment's layer holds its SegmentN_LabelValue;
//  - a plain NRRD: selector "" -> voxel > 0.5; an integer -> voxel == that label; a name ->
//    ValidationError (the file has no named segments).
Volume read_nrrd_mask(const std::filesystem::path& path, const std::string& selector);

}  // namespace cervirisk::io
