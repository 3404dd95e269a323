// MetaImage (ITK's MetaIO format: .mha with the data in the same file, .mhd + a detached raw or
// zlib-compressed data file) -> Volume.
//
// Reference: https://itk.org/Wiki/ITK/MetaIO/Documentation and ITK's MetaIO sources
// (metaImage.cxx, metaTypes.h for the element types and sizes). The reader is our own, a few
// hundred lines over zlib: MetaIO is only shipped inside ITK/VTK (Debian has no separate MetaIO
// package, and linking ITK for one header format is out of proportion), and our own parser
// turns every malformed header -- missing or miscounted keys, absurd sizes, data cut short,
// corrupt compression -- into a FormatError (exit 4) naming the file and the key, never a crash
// or a huge allocation: every size is checked against the file's size before allocating.
//
// Geometry (MetaImage space is LPS, as ITK): Offset (or Position / Origin) is the centre of the
// first voxel; ElementSpacing the voxel size; TransformMatrix (or Rotation / Orientation) holds
// the 9 direction cosines with the direction of axis c at positions 3c, 3c+1, 3c+2 (the matrix's
// columns one after the other: what ITK writes, checked against plastimatch's conversion of a
// NIfTI in tests/test_io_nrrd.cpp). AnatomicalOrientation is informational only (kept in the
// metadata).
//
// Supported: NDims = 3, ElementNumberOfChannels = 1, ElementType MET_(U)CHAR, MET_(U)SHORT,
// MET_(U)INT, MET_(U)LONG (4 bytes, as MetaIO), MET_(U)LONG_LONG, MET_FLOAT, MET_DOUBLE, either
// byte order (BinaryDataByteOrderMSB / ElementByteOrderMSB), CompressedData (+ optional
// CompressedDataSize), HeaderSize (-1 = the data are the last bytes of the data file; N > 0 =
// skip N bytes). Not supported (FormatError): ElementDataFile = LIST or a file pattern, ASCII
// data (BinaryData = False).
#pragma once

#include <filesystem>

#include "io/volume.h"

namespace cervirisk::io {

// True for names ending in .mha or .mhd (case-insensitive).
bool is_metaimage_path(const std::filesystem::path& path);

// Reads one 3D scalar image, converted to float32. Throws InputError (exit 3) when the file or
// its data file is missing, FormatError (exit 4) when anything is malformed or unsupported.
// Volume::metadata gets: format=metaimage, element_type (e.g. "MET_SHORT"), compressed
// ("true"/"false"), byte_order ("little"/"big"), anatomical_orientation (as written, may be
// ""), dims ("40x36x12").
Volume read_metaimage(const std::filesystem::path& path);

}  // namespace cervirisk::io
