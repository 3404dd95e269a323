// A 3D image: float32 voxels (after any intensity scaling) + geometry in LPS millimetres.
// Orientation is converted once, at the IO boundary (NIfTI stores RAS, DICOM/ITK use LPS).
// index (i,j,k) -> world LPS: p = origin + D * diag(spacing) * (i,j,k), D's columns are the
// unit direction cosines of the i, j, k axes (ITK convention).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace cervirisk::io {

using Vec3 = std::array<double, 3>;
using Mat3 = std::array<std::array<double, 3>, 3>;  // m[row][col]
using Mat4 = std::array<std::array<double, 4>, 4>;

struct Geometry {
  std::array<std::int64_t, 3> shape{0, 0, 0};  // voxels along i, j, k (i fastest in memory)
  Vec3 spacing_mm{1, 1, 1};
  Vec3 origin_lps_mm{0, 0, 0};
  Mat3 direction_lps{{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}};

  std::int64_t voxel_count() const { return shape[0] * shape[1] * shape[2]; }
  Vec3 index_to_lps(const Vec3& ijk) const;
  Vec3 lps_to_index(const Vec3& lps) const;
  // The 4x4 voxel -> RAS mm matrix, exactly as nibabel's img.affine.
  Mat4 affine_ras() const;
  static Geometry from_affine_ras(const Mat4& affine, const std::array<std::int64_t, 3>& shape);
  // Same shape and, within tol_mm, the same voxel-to-world mapping at the grid's corners.
  bool same_grid(const Geometry& other, double tol_mm = 1e-3) const;
};

struct Volume {
  Geometry geometry;
  std::vector<float> voxels;  // size = geometry.voxel_count(), index i + ni*(j + nj*k)
  // Provenance kept as metadata: "format", "qform_code", "sform_code", "datatype", "description", ...
  std::map<std::string, std::string> metadata;

  float& at(std::int64_t i, std::int64_t j, std::int64_t k) {
    return voxels[static_cast<std::size_t>(i + geometry.shape[0] * (j + geometry.shape[1] * k))];
  }
  float at(std::int64_t i, std::int64_t j, std::int64_t k) const {
    return voxels[static_cast<std::size_t>(i + geometry.shape[0] * (j + geometry.shape[1] * k))];
  }
};

// Reserves room for n voxels and, for large volumes on Linux, asks for transparent huge pages
// (madvise): a 30 MB volume then takes ~15 page faults instead of ~7000, which otherwise cost
// as much as inflating the .nii.gz. Purely a performance hint.
void reserve_voxels(std::vector<float>& voxels, std::size_t n);

// True when the axis-aligned world (LPS) bounding boxes of the two grids' voxel centres, each
// grown by half a voxel, intersect.
bool extents_overlap(const Geometry& a, const Geometry& b);

// Nearest-neighbour resampling of `src` onto `grid` through world coordinates (for masks and
// label images); points outside `src` get `fill`. Metadata is not copied.
Volume resample_nearest(const Volume& src, const Geometry& grid, float fill = 0.0f);

// The most voxels one 3D volume may have (default 2^31). Every reader checks the count its header
// promises against it before allocating (FormatError naming the file); the service lowers it.
std::int64_t voxel_limit();
void set_voxel_limit(std::int64_t voxels);

// Options for read_image().
struct ImageReadOptions {
  std::int64_t volume_index = -1;  // NIfTI 4D: which volume (-1 = first, with a warning)
  std::string series_pattern;      // DICOM folder: ECMAScript regex on SeriesDescription ("" = only one series)
  std::string series_uid;          // DICOM folder: exact SeriesInstanceUID (wins over the pattern)
};

// An image: NIfTI (.nii / .nii.gz), NRRD (.nrrd / .nhdr), MetaImage (.mha / .mhd), or a DICOM
// folder / single DICOM file, decided by the path (and, for a file of another name, by its DICOM
// preamble). A DICOM RTSTRUCT or SEG given as an image is an InputError naming it a mask.
Volume read_image(const std::filesystem::path& path, const ImageReadOptions& options = {});

}  // namespace cervirisk::io
