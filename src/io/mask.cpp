#include "io/mask.h"

#include <cmath>
#include <cstdlib>
#include <set>

#include "core/error.h"
#include "core/log.h"
#include "io/dicom.h"
#include "io/dicom_objects.h"
#include "io/metaimage.h"
#include "io/nifti.h"
#include "io/nrrd.h"

namespace cervirisk::io {

namespace fs = std::filesystem;

namespace {

enum class MaskKind { kNifti, kNrrd, kMetaImage, kRtStruct, kSeg, kDicomSeries, kUnknown };

MaskKind kind_of(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return MaskKind::kDicomSeries;
  if (is_nifti_path(path)) return MaskKind::kNifti;
  if (is_nrrd_path(path)) return MaskKind::kNrrd;
  if (is_metaimage_path(path)) return MaskKind::kMetaImage;
  switch (dicom_object_kind(path)) {
    case DicomObjectKind::kRtStruct: return MaskKind::kRtStruct;
    case DicomObjectKind::kSegmentation: return MaskKind::kSeg;
    case DicomObjectKind::kImage: return MaskKind::kDicomSeries;
    default: return MaskKind::kUnknown;
  }
}

[[noreturn]] void unknown_format(const fs::path& path) {
  throw FormatError(path.string() +
                    ": not a mask format cervirisk reads (expected .nii/.nii.gz, .nrrd/.nhdr, .mha/.mhd, a DICOM "
                    "RTSTRUCT or SEG file, or a DICOM image series)");
}

// A label image -> 0/1: the chosen label value, or every voxel > 0.5.
void binarise_labels(Volume& m, const std::string& selector, const fs::path& path) {
  if (selector.empty()) {
    for (float& x : m.voxels) x = x > 0.5f ? 1.0f : 0.0f;
    return;
  }
  char* end = nullptr;
  const double label = std::strtod(selector.c_str(), &end);
  std::set<long> present;
  for (float x : m.voxels)
    if (x != 0 && present.size() < 50) present.insert(std::lround(x));
  std::string listing;
  for (long v : present) listing += (listing.empty() ? "" : ", ") + std::to_string(v);
  if (!end || *end != '\0' || !std::isfinite(label))
    throw ValidationError(path.string() + " is a label image without named segments: mask_segment \"" + selector +
                          "\" must be a label value (present: " + listing + ")");
  std::int64_t n = 0;
  for (float& x : m.voxels) {
    x = std::fabs(x - label) < 1e-3 ? 1.0f : 0.0f;
    n += x > 0;
  }
  if (n == 0)
    throw ValidationError(path.string() + ": no voxel has label " + selector + " (present: " + listing + ")");
}

Volume native(const fs::path& path, MaskKind kind, const MaskReadOptions& o) {
  Volume m;
  switch (kind) {
    case MaskKind::kNifti: m = read_nifti(path); break;
    case MaskKind::kMetaImage: m = read_metaimage(path); break;
    case MaskKind::kDicomSeries: m = read_dicom(path); break;
    case MaskKind::kNrrd: return read_nrrd_mask(path, o.segment);  // chooses Slicer segments itself
    case MaskKind::kRtStruct:
    case MaskKind::kSeg:
      throw InputError(path.string() + ": a DICOM " + std::string(kind == MaskKind::kRtStruct ? "RTSTRUCT" : "SEG") +
                       " has no grid of its own; give the image it belongs to (convert --reference IMAGE)");
    case MaskKind::kUnknown: unknown_format(path);
  }
  binarise_labels(m, o.segment, path);
  return m;
}

}  // namespace

std::string mask_format(const fs::path& path) {
  switch (kind_of(path)) {
    case MaskKind::kNifti: return "NIfTI";
    case MaskKind::kNrrd: return "NRRD";
    case MaskKind::kMetaImage: return "MetaImage";
    case MaskKind::kRtStruct: return "DICOM RTSTRUCT";
    case MaskKind::kSeg: return "DICOM SEG";
    case MaskKind::kDicomSeries: return "DICOM series";
    case MaskKind::kUnknown: return "";
  }
  return "";
}

Volume read_mask_native(const fs::path& path, const MaskReadOptions& options) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError("mask not found: " + path.string());
  return native(path, kind_of(path), options);
}

Volume read_mask(const fs::path& path, const Geometry& image_grid, const MaskReadOptions& options) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError("mask not found: " + path.string());
  const MaskKind kind = kind_of(path);
  Volume m;
  if (kind == MaskKind::kRtStruct) m = read_rtstruct_mask(path, image_grid, options.segment);
  else if (kind == MaskKind::kSeg) m = read_dicom_seg_mask(path, image_grid, options.segment);
  else m = native(path, kind, options);
  std::int64_t inside = 0;
  for (float x : m.voxels) inside += x > 0.5f;
  if (inside == 0) throw ValidationError("tumour mask " + path.string() + " is empty (no voxel > 0.5)");
  if (m.geometry.same_grid(image_grid)) {
    m.geometry = image_grid;  // the image's exact numbers (the mask agreed within 1e-3 mm)
    return m;
  }
  if (!extents_overlap(m.geometry, image_grid))
    throw ValidationError("tumour mask " + path.string() + " does not overlap the image: their world extents are disjoint");
  Volume r = resample_nearest(m, image_grid, 0.0f);
  std::int64_t after = 0;
  for (float x : r.voxels) after += x > 0;
  if (after == 0)
    throw ValidationError("tumour mask " + path.string() + " lies outside the image: no mask voxel falls on the image grid");
  log::info("{}: mask grid differs from the image grid; resampled (nearest neighbour), {} -> {} voxels", path.string(),
            inside, after);
  r.metadata = m.metadata;
  return r;
}

}  // namespace cervirisk::io
