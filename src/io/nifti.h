// NIfTI-1 and NIfTI-2 images (.nii and .nii.gz, either byte order) <-> Volume.
//
// Reference: the NIfTI-1 header (nifti1.h, https://nifti.nimh.nih.gov/nifti-1) and NIfTI-2
// header (nifti2.h). Geometry follows nibabel's img.affine exactly: sform when sform_code > 0,
// else qform when qform_code > 0, else the pixdim-only "base" affine (x flipped, centred, as
// nibabel's Nifti1Header.get_base_affine), with a warning. The RAS affine is converted to the
// LPS Geometry of io/volume.h once, here. scl_slope / scl_inter are applied (slope 0 or NaN
// means "no scaling", as nibabel), so Volume::voxels holds the scaled float32 intensities.
//
// The reader is our own (a few hundred lines over zlib) rather than nifti_clib, so that every
// malformed input -- truncated at any byte, flipped header fields, absurd dimensions -- becomes
// a FormatError (exit 4) naming the file and the field, never a crash, hang or a huge allocation.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "io/volume.h"

namespace cervirisk::io {

// Datatypes the writer produces (NIfTI DT_UINT8, DT_INT16, DT_FLOAT32).
enum class NiftiDtype { kUInt8, kInt16, kFloat32 };

struct NiftiReadOptions {
  // 4D (or 5D) files: which volume along the 4th dimension to read. -1 = the first, with a
  // warning that the others are ignored. Out of range: FormatError.
  std::int64_t volume_index = -1;
};

// Header-only summary (no voxel data read): what `inspect` and validators need cheaply.
struct NiftiInfo {
  int version = 1;                  // 1 or 2
  bool big_endian = false;
  std::int64_t dims[8]{};           // dim[0] = number of dimensions
  std::string datatype;             // "uint8", "int16", "float32", ...
  int qform_code = 0;
  int sform_code = 0;
  double scl_slope = 1, scl_inter = 0;  // as stored (slope 0/NaN = no scaling)
  std::string description;
};

// Reads one 3D volume. Throws InputError (exit 3) when the file is missing/unreadable and
// FormatError (exit 4) when it is corrupt, truncated or uses something unsupported (complex or
// RGB datatypes, .hdr/.img pairs), naming the file and the field.
// Volume::metadata gets: format=nifti, nifti_version, datatype, qform_code, sform_code,
// affine_source (sform|qform|pixdim), description, dims (e.g. "128x96x24x2").
Volume read_nifti(const std::filesystem::path& path, const NiftiReadOptions& options = {});

// Reads only the header.
NiftiInfo read_nifti_info(const std::filesystem::path& path);

// Writes a NIfTI-1 single file (.nii, or gzip-compressed when the name ends in .gz), atomically.
// qform = sform = the Volume's geometry (qform_code = sform_code = 1, scanner anatomical), units
// mm. kUInt8/kInt16 round to nearest and throw FormatError when a value is out of the type's
// range (no silent wrap); scl_slope = 1, scl_inter = 0. Throws OutputError when not writable.
// `gzip_level` (1-9) trades speed for size in .gz files (the synthetic-cohort writer uses 1).
void write_nifti(const Volume& volume, const std::filesystem::path& path,
                 NiftiDtype dtype = NiftiDtype::kFloat32, int gzip_level = 6);

// .nii.gz files are inflated in one call with libdeflate when the build has it (2-3x faster
// than zlib's streaming reader), else with zlib. Switch the fast path off to compare the two
// (tests, benchmarks); both give identical voxels. Process-wide, thread-safe.
void set_nifti_fast_inflate(bool enabled);
bool nifti_fast_inflate_available();

// True for names ending in .nii or .nii.gz (case-insensitive).
bool is_nifti_path(const std::filesystem::path& path);

// Tumour masks in any format (NIfTI included): io/mask.h.

}  // namespace cervirisk::io
