// `cervirisk convert` on files other tools wrote: plastimatch's NRRD / MetaImage of a NIfTI that
// nibabel wrote, plastimatch's RTSTRUCT on its own DICOM series, a pydicom-written DICOM-SEG and a
// 3D Slicer .seg.nrrd. The written NIfTI must equal the nibabel-written original (voxels and
// affine); wrong calls exit with the documented codes and name the structures on offer.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "cli_run.h"
#include "io/mask.h"
#include "io/nifti.h"
#include "io/volume.h"
#include "mask_compare.h"

namespace {
namespace fs = std::filesystem;
using cervirisk::testing::CliResult;
using cervirisk::testing::Stderr;
namespace io = cervirisk::io;

std::string data(const std::string& rel) { return std::string(CERV_TEST_DATA) + "/" + rel; }

fs::path out_dir() {
  const fs::path d = fs::temp_directory_path() / ("cerv_convert_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}

CliResult convert(const std::string& args) { return cervirisk::testing::run_cli("convert " + args, Stderr::kMerged); }

// Largest difference between the two volumes' voxel-to-LPS maps (mm), over the 8 corners.
double affine_gap(const io::Geometry& a, const io::Geometry& b) {
  double worst = 0;
  for (int c = 0; c < 8; ++c) {
    const std::array<double, 3> ijk{(c & 1) ? double(a.shape[0] - 1) : 0.0, (c & 2) ? double(a.shape[1] - 1) : 0.0,
                                    (c & 4) ? double(a.shape[2] - 1) : 0.0};
    const auto p = a.index_to_lps(ijk), q = b.index_to_lps(ijk);
    for (int r = 0; r < 3; ++r) worst = std::max(worst, std::abs(p[r] - q[r]));
  }
  return worst;
}

using cervirisk::testing::dice;
using cervirisk::testing::count_inside;

}  // namespace

TEST(Convert, PlastimatchNrrdAndMetaImageGiveTheNibabelOriginal) {
  const io::Volume original = io::read_image(data("formats/oblique_t2.nii.gz"));
  for (const char* f : {"formats/t2_plastimatch.nrrd", "formats/t2_plastimatch.mha", "formats/t2_plastimatch.mhd"}) {
    const fs::path out = out_dir() / "image.nii.gz";
    const CliResult r = convert(data(f) + " " + out.string());
    ASSERT_EQ(r.code, 0) << f << r.out;
    const io::Volume v = io::read_image(out);
    ASSERT_EQ(v.geometry.shape, original.geometry.shape) << f;
    EXPECT_LE(affine_gap(v.geometry, original.geometry), 1e-4) << f;
    double worst = 0;
    for (std::size_t i = 0; i < v.voxels.size(); ++i)
      worst = std::max(worst, double(std::abs(v.voxels[i] - original.voxels[i])));
    EXPECT_LE(worst, 1e-3) << f;
  }
}

TEST(Convert, RtstructOnItsSeriesGivesTheOriginalMask) {
  const io::Volume gtv = io::read_image(data("dicom_objects/gtv.nii.gz"));
  const io::Volume bladder = io::read_image(data("dicom_objects/bladder.nii.gz"));
  const std::string rt = data("dicom_objects/rtstruct.dcm"), series = data("dicom_objects/image");
  const fs::path out = out_dir() / "gtv.nii.gz";
  // The ROI name is matched case-insensitively, the ROI number also works.
  for (const auto& [seg, truth] : {std::pair<std::string, const io::Volume*>{"gtv", &gtv}, {"1", &bladder}}) {
    const CliResult r = convert(rt + " " + out.string() + " --reference " + series + " --segment " + seg);
    ASSERT_EQ(r.code, 0) << r.out;
    const io::Volume m = io::read_image(out);
    ASSERT_EQ(m.geometry.shape, truth->geometry.shape);
    EXPECT_LE(affine_gap(m.geometry, truth->geometry), 1e-4);
    EXPECT_GE(dice(m, *truth), 0.95) << seg;
    EXPECT_GT(count_inside(m), 100u) << seg;
  }
}

TEST(Convert, DicomSegAndSlicerSegmentsByName) {
  const io::Volume gtv = io::read_image(data("dicom_objects/gtv.nii.gz"));
  const fs::path out = out_dir() / "seg.nii.gz";
  CliResult r = convert(data("dicom_objects/seg_binary.dcm") + " " + out.string() + " --reference " +
                        data("dicom_objects/image") + " --segment GTV");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(dice(io::read_image(out), gtv), 1.0);

  // The .seg.nrrd's GTV segment is the nibabel-written mask it was made from; on the mask's own
  // grid without --reference, and resampled onto the image with it.
  const io::Volume mask = io::read_image(data("formats/oblique_mask.nii.gz"));
  r = convert(data("formats/three_segments.seg.nrrd") + " " + out.string() + " --segment gtv");
  ASSERT_EQ(r.code, 0) << r.out;
  io::Volume m = io::read_image(out);
  ASSERT_EQ(m.geometry.shape, mask.geometry.shape);
  EXPECT_LE(affine_gap(m.geometry, mask.geometry), 1e-4);
  EXPECT_EQ(dice(m, mask), 1.0);
  r = convert(data("formats/three_segments.seg.nrrd") + " " + out.string() + " --segment GTV --reference " +
              data("formats/oblique_t2.nii.gz"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(dice(io::read_image(out), mask), 1.0);
}

TEST(Convert, WrongCallsExitWithTheDocumentedCodes) {
  const fs::path out = out_dir() / "x.nii.gz";
  const std::string rt = data("dicom_objects/rtstruct.dcm");
  // An RTSTRUCT has no grid of its own.
  CliResult r = convert(rt + " " + out.string() + " --segment GTV");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--reference"), std::string::npos) << r.out;
  // Two ROIs and no choice: the error lists them.
  r = convert(rt + " " + out.string() + " --reference " + data("dicom_objects/image"));
  EXPECT_EQ(r.code, 5) << r.out;
  EXPECT_NE(r.out.find("GTV"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Bladder"), std::string::npos) << r.out;
  r = convert(rt + " " + out.string() + " --reference " + data("dicom_objects/image") + " --segment rectum");
  EXPECT_EQ(r.code, 5) << r.out;
  EXPECT_NE(r.out.find("rectum"), std::string::npos) << r.out;
  // Output that is not NIfTI; input that is not there.
  r = convert(data("formats/t2_plastimatch.nrrd") + " " + (out_dir() / "x.nrrd").string());
  EXPECT_EQ(r.code, 2) << r.out;
  r = convert(data("formats/nothing_here.nrrd") + " " + out.string());
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_FALSE(fs::exists(out_dir() / "x.nrrd"));
}
