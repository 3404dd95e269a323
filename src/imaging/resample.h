// In-plane resampling of the slices of a volume to a target spacing (the k axis, the acquisition
// slices, is kept). Linear for images, nearest neighbour for masks.
//
// Grid convention (shared with scripts/preprocess_reference.py, which implements it with
// scipy.ndimage.map_coordinates): the first voxel centre stays where it is; the new size is
// n' = max(1, round(n * spacing_old / spacing_new)); output index i' samples the source at
// i = i' * spacing_new / spacing_old, clamped to [0, n-1] (map_coordinates mode='nearest').
// Linear interpolation: separable bilinear (order=1); nearest: round half up.
#pragma once

#include <cstdint>

#include "io/volume.h"

namespace cervirisk::imaging {

enum class Interpolation { kLinear, kNearest };

// Slices k_begin .. k_end-1 (k_end = -1: to the last) resampled in plane; the returned
// geometry places them exactly (origin moved to slice k_begin).
io::Volume resample_inplane(const io::Volume& volume, double spacing_mm, Interpolation interpolation,
                            std::int64_t k_begin = 0, std::int64_t k_end = -1);

// Trilinear sample of a volume at continuous voxel index `ijk`; a point more than half a voxel
// outside the volume gives NaN (the caller pads), within half a voxel the edge voxel's value.
float sample_trilinear(const io::Volume& volume, const io::Vec3& ijk);

// Bilinear sample of a ni x nj slice (i fastest) at continuous index (x, y); outside
// [0, ni-1] x [0, nj-1] gives `pad` (map_coordinates order=1, mode='constant').
float sample_bilinear(const float* slice, std::int64_t ni, std::int64_t nj, double x, double y, float pad);

}  // namespace cervirisk::imaging
