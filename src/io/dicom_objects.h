// Tumour masks from DICOM objects that are not images: RT Structure Sets (PS3.3 A.19, C.8.8.5
// Structure Set, C.8.8.6 ROI Contour) and Segmentations (PS3.3 A.51, C.8.20), placed on the grid
// of the image series they were drawn on (the caller reads that series with io::read_dicom /
// read_image and passes its Geometry). Both readers return a 0/1 float Volume on exactly that
// grid; the structure is chosen with io::choose_segment (io/segments.h).
//
// RTSTRUCT: the ROI's CLOSED_PLANAR contours (POINT and OPEN_* contours are skipped with a note)
// are matched to image slices by position, never by the ContourImageSequence UIDs: every point
// of a contour must lie within 0.25 x slice spacing + 0.001 mm of one slice plane, else
// ValidationError (a contour between two slices, a tilted or non-planar contour, one beyond the
// first or last slice). The contours of one slice are rasterised together in continuous (i, j)
// index space with the even-odd rule: a voxel is inside when its centre is, crossings counted
// on pixel-centre rows with a half-open edge rule (an edge covers y0 <= y < y1), so a contour
// inside another is a hole and separate contours are separate islands. This matches
// `plastimatch convert --xor-contours`; plastimatch's default ORs the contours of a slice and
// fills holes.
//
// DICOM-SEG: BINARY (1 bit per pixel, frames packed back to back across byte boundaries, least
// significant bit first; PS3.5 8.1.1) or FRACTIONAL (8 bits; a pixel is inside when value /
// MaximumFractionalValue >= 0.5). Each frame of the chosen segment (ReferencedSegmentNumber in its
// SegmentIdentificationSequence) is placed by its ImagePositionPatient and the shared or
// per-frame ImageOrientationPatient / PixelSpacing (row spacing \ column spacing): a frame whose
// pixels coincide with a slice of `grid` (same orientation and spacing up to axis flips, offset
// an integer number of pixels, within 0.01 pixel) is copied; other frames are stacked and
// resampled nearest-neighbour through world coordinates (a SEG on another grid of the same
// body is legal). A segment without frames on a slice is empty there. Encapsulated (compressed)
// and big-endian pixel data are refused with a FormatError.
//
// Errors: FormatError (exit 4) naming the file and the tag for a malformed object (missing
// sequences, PixelData length, numbers that do not parse); ValidationError (exit 5) for a
// well-formed object that does not fit the grid or holds nothing for the chosen structure.
// Every file passes the structure check of the DICOM reader (dicom_structure.cpp) before GDCM
// parses it, and the parsing runs in a forked child (core/sandbox.h): GDCM asserts and aborts on
// some corrupt files the check cannot see into (inside implicit-VR sequences), and that becomes a
// FormatError too. Truncated or corrupt files are errors, not crashes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "io/segments.h"
#include "io/volume.h"

namespace cervirisk::io {

enum class DicomObjectKind { kNotDicom, kImage, kRtStruct, kSegmentation, kOther };

// A cheap sniff of the file meta information: no 'DICM' at byte 128 (or a path that cannot be
// read as a file: a folder, a missing file) -> kNotDicom; else by the Media Storage SOP Class
// UID (0002,0002): RT Structure Set Storage 1.2.840.10008.5.1.4.1.1.481.3 -> kRtStruct,
// Segmentation Storage 1.2.840.10008.5.1.4.1.1.66.4 -> kSegmentation, an image storage class ->
// kImage, anything else (RT plan/dose, SR, presentation states, DICOMDIR, no UID) -> kOther.
// Never throws.
DicomObjectKind dicom_object_kind(const std::filesystem::path& file);

// The ROIs of an RTSTRUCT's StructureSetROISequence (3006,0020): name = ROIName, label = ROINumber.
std::vector<SegmentInfo> rtstruct_rois(const std::filesystem::path& file);

// The chosen ROI rasterised on `grid` (0/1 voxels).
Volume read_rtstruct_mask(const std::filesystem::path& file, const Geometry& grid, const std::string& selector);

// The segments of a SEG's SegmentSequence (0062,0002): name = SegmentLabel, description =
// SegmentDescription, label = SegmentNumber.
std::vector<SegmentInfo> dicom_seg_segments(const std::filesystem::path& file);

// The chosen segment placed on `grid` (0/1 voxels).
Volume read_dicom_seg_mask(const std::filesystem::path& file, const Geometry& grid, const std::string& selector);

}  // namespace cervirisk::io

// ---- internal to dicom_objects_common.cpp, dicom_rtstruct.cpp and dicom_seg.cpp ----
namespace gdcm {
class DataSet;
class Reader;
}  // namespace gdcm

namespace cervirisk::io::dicom_objects_detail {

// Log lines collected where the parsing runs (a forked child) and logged by the caller.
struct Notes {
  std::vector<std::pair<bool, std::string>> lines;  // (warning?, text)
  void info(std::string text) { lines.emplace_back(false, std::move(text)); }
  void warn(std::string text) { lines.emplace_back(true, std::move(text)); }
};

// Runs `parse` (which reads `file` with GDCM and returns its result as bytes) in a forked child
// (core/sandbox.h): GDCM asserts and aborts on some malformed files that pass the structure
// check (e.g. a corrupt length inside an implicit-VR sequence), and that becomes a FormatError
// naming the file. An Error thrown by `parse` arrives with its class and message; the notes are
// logged here.
std::string parse_isolated(const std::filesystem::path& file, const std::string& what,
                           const std::function<std::string(Notes&)>& parse);

// Little byte codec for what crosses the pipe: SegmentInfo lists and 0/1 masks (run lengths).
std::string encode_segments(const std::vector<SegmentInfo>& segments);
std::vector<SegmentInfo> decode_segments(const std::string& bytes);
std::string encode_mask(const Volume& mask);  // voxels (0/1) and metadata; the grid is the caller's
Volume decode_mask(const std::string& bytes, const Geometry& grid);

// Structure check (dicom_detail::check_structure), then the whole file through GDCM; FormatError
// when GDCM rejects it. `what` names the object in errors ("RTSTRUCT", "DICOM-SEG").
void read_object(const std::filesystem::path& file, gdcm::Reader& reader, const std::string& what);

// FormatError unless the file's SOP Class UID (0008,0016) is `sop_class` or, without one, its
// Modality (0008,0060) is `modality`.
void expect_sop_class(const std::filesystem::path& file, const gdcm::DataSet& ds, const std::string& sop_class,
                      const std::string& modality, const std::string& what);

// "(gggg,eeee)"
std::string tag_name(std::uint16_t group, std::uint16_t element);

// The raw bytes of an element ("" when absent or empty) and the same, trimmed of DICOM padding.
bool has(const gdcm::DataSet& ds, std::uint16_t group, std::uint16_t element);
std::string raw_bytes(const gdcm::DataSet& ds, std::uint16_t group, std::uint16_t element);
std::string text(const gdcm::DataSet& ds, std::uint16_t group, std::uint16_t element);

// ValidationError when `grid` has an empty axis or a non-positive spacing; `structures` names
// what would be placed ("structures", "segments").
void check_grid(const Geometry& grid, const std::filesystem::path& file, const std::string& structures);

// A decimal or integer string (DS / IS, backslash-separated) parsed to finite doubles; false
// when a value does not parse.
bool parse_numbers(const std::string& raw, std::vector<double>& out);

// A US element (2 bytes, little endian): false when absent or not 2 bytes long.
bool us_value(const gdcm::DataSet& ds, std::uint16_t group, std::uint16_t element, long& out);

// The items of a sequence element: empty when absent; FormatError when the element is there but
// is no sequence. `keep` holds the parsed sequence alive (GDCM parses a sequence stored as
// bytes, e.g. implicit VR, into a new object): the item pointers are valid while this object is.
struct Sequence {
  Sequence(const std::filesystem::path& file, const gdcm::DataSet& ds, std::uint16_t group, std::uint16_t element);
  std::vector<const gdcm::DataSet*> items;
  std::shared_ptr<void> keep;
  bool present = false;  // the element is there (possibly with no items)
  const gdcm::DataSet* first() const { return items.empty() ? nullptr : items.front(); }
};

}  // namespace cervirisk::io::dicom_objects_detail
