// Internal to the DICOM reader (src/io/dicom_*.cpp): what its files share. Other modules use
// io/dicom.h only.
//   dicom_structure.cpp  our own structure check of the byte stream, before GDCM sees it
//   dicom_charset.cpp    Specific Character Set -> UTF-8
//   dicom_header.cpp     per-file header attributes and per-frame functional groups (GDCM)
//   dicom_series.cpp     grouping files into regular 3D series; choosing one
//   dicom_decode.cpp     pixel decoding (GDCM, compressed syntaxes in a forked child) -> Volume
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "io/volume.h"

namespace gdcm {
class DataSet;
class File;
class Reader;
}  // namespace gdcm

namespace cervirisk::io::dicom_detail {

// GDCM prints its warnings to stderr by default; we report through exceptions and log::.
void quiet_gdcm();

// Strips DICOM padding (trailing spaces and NULs) and leading spaces.
std::string trim(std::string s);

// Raw bytes of a string-valued element (DS, IS, CS, LO, UI, ...; "" when absent or empty): no
// endianness involved.
std::string raw_string(const gdcm::DataSet& ds, std::uint16_t group, std::uint16_t element);

// Throws FormatError naming the byte offset when an element, item or sequence of the file runs
// past its end or is not closed (PS3.5 7.1, 7.5, A.4); InputError when it cannot be opened.
void check_structure(const std::filesystem::path& file);

// A string element's bytes decoded to UTF-8 with the file's Specific Character Set (0008,0005).
std::string decode_text(const std::string& raw, const std::string& charset_value);

// Checks the file's structure, then reads it with `reader` up to the pixel data (not
// included). False when GDCM rejects the header.
bool read_up_to_pixels(const std::filesystem::path& file, gdcm::Reader& reader);

// What one file says about its place in a series (no pixel data read).
struct SliceInfo {
  std::filesystem::path file;
  std::string series_uid, description, modality, sop_class, transfer_syntax, image_type, photometric;
  std::vector<double> iop, ipp, pixel_spacing;
  double slice_thickness = 0, spacing_between = 0;
  long rows = 0, cols = 0, frames = 1;
  std::string echo, b_value;
  bool multiframe_functional = false;
};

// Reads the header of one file. False with `why` for a file that is no DICOM image (skipped
// quietly in a folder); throws FormatError for a DICOM file that is corrupt.
bool read_header(const std::filesystem::path& file, SliceInfo& s, std::string& why);

// Per-frame position and rescale of an enhanced multi-frame file (PS3.3 C.7.6.16).
struct FrameInfo {
  Vec3 ipp{0, 0, 0};
  double slope = 1, intercept = 0;
  bool has_rescale = false;
};

// The per-frame functional groups in frame order; empty with `why` when a frame has no position.
std::vector<FrameInfo> frame_infos(const std::filesystem::path& file, std::string& why);

// Throws FormatError when a pixel-module attribute GDCM asserts on is out of range.
void check_pixel_attributes(const std::filesystem::path& file, const gdcm::File& f);

inline double dot(const Vec3& a, const Vec3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
inline Vec3 cross(const Vec3& a, const Vec3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}

}  // namespace cervirisk::io::dicom_detail
