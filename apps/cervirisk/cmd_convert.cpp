// cervirisk convert IN OUT.nii.gz [--reference IMAGE] [--segment NAME] [--mask]: any image or
// mask cervirisk reads, written as NIfTI, so that a user can check in ITK-SNAP or 3D Slicer what
// cervirisk sees (docs/images.md).
//   image (NIfTI, NRRD, MetaImage, DICOM)     -> float32 NIfTI on its own grid
//   mask: RTSTRUCT / DICOM-SEG (--reference required), .seg.nrrd, or any label image with
//         --segment / --mask / --reference    -> uint8 0/1 NIfTI, on the reference image's grid
//                                                when given, else on the mask's own grid
#include <filesystem>
#include <iostream>

#include "commands.h"
#include "core/error.h"
#include "core/log.h"
#include "io/mask.h"
#include "io/nifti.h"
#include "io/nrrd.h"
#include "io/volume.h"

namespace cervirisk::cli {
namespace {

struct ConvertOptions {
  std::string in, out, reference, segment;
  bool mask = false;
};

void run_convert(const ConvertOptions& o) {
  namespace fs = std::filesystem;
  if (!io::is_nifti_path(o.out))
    throw ConfigError("convert: the output must be a NIfTI file (.nii or .nii.gz), got " + o.out);
  std::error_code ec;
  if (!fs::exists(o.in, ec)) throw InputError("convert: input not found: " + o.in);
  const std::string kind = io::mask_format(o.in);
  const bool dicom_mask = kind == "DICOM RTSTRUCT" || kind == "DICOM SEG";
  const bool slicer_seg = io::is_nrrd_path(o.in) && !io::nrrd_segments(o.in).empty();
  const bool as_mask = o.mask || dicom_mask || slicer_seg || !o.segment.empty() || !o.reference.empty();
  if (!as_mask) {
    const io::Volume v = io::read_image(o.in);
    io::write_nifti(v, o.out, io::NiftiDtype::kFloat32);
    std::cerr << "convert: " << o.in << " -> " << o.out << " (image, " << v.geometry.shape[0] << " x "
              << v.geometry.shape[1] << " x " << v.geometry.shape[2] << ", float32)\n";
    return;
  }
  if (dicom_mask && o.reference.empty())
    throw ConfigError("convert: " + o.in + " is a " + kind +
                      ": it has no grid of its own; give the image series it was drawn on with --reference");
  // read_mask refuses an empty mask itself; the mask's own grid is checked here.
  const io::Volume m = o.reference.empty()
                           ? io::read_mask_native(o.in, io::MaskReadOptions{o.segment})
                           : io::read_mask(o.in, io::read_image(o.reference).geometry, io::MaskReadOptions{o.segment});
  std::int64_t n = 0;
  for (float x : m.voxels) n += x > 0.5f;
  if (n == 0) throw ValidationError("convert: the mask " + o.in + " is empty (no voxel > 0.5)");
  io::write_nifti(m, o.out, io::NiftiDtype::kUInt8);
  std::cerr << "convert: " << o.in << " (" << (kind.empty() ? "mask" : kind) << ") -> " << o.out << " (mask, "
            << n << " voxels inside" << (o.reference.empty() ? "" : ", on the grid of " + o.reference) << ")\n";
}

}  // namespace

void add_convert(CLI::App& app, GlobalOptions& g) {
  auto* sub = app.add_subcommand(
      "convert", "Write any image or mask cervirisk reads as NIfTI (to check it in ITK-SNAP / 3D Slicer)");
  auto o = std::make_shared<ConvertOptions>();
  sub->add_option("input", o->in, "Image or mask: NIfTI, NRRD/.seg.nrrd, MetaImage, DICOM folder/file, RTSTRUCT, SEG")
      ->required();
  sub->add_option("output", o->out, "Output .nii or .nii.gz")->required();
  sub->add_option("--reference", o->reference, "The image the mask belongs to (required for RTSTRUCT and DICOM-SEG)");
  sub->add_option("--segment", o->segment, "ROI / segment name (case-insensitive) or label value");
  sub->add_flag("--mask", o->mask, "Treat a label image as a mask (0/1, voxel > 0.5) without --segment");
  sub->callback([&g, o] {
    apply_globals(g);
    run_convert(*o);
  });
}

}  // namespace cervirisk::cli
