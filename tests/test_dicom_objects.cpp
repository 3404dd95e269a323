// Tumour masks from DICOM RTSTRUCT and DICOM-SEG (io/dicom_objects.h) against other tools
// (fixtures: tests/data/dicom_objects, scripts/make_dicom_object_fixtures.sh): the RTSTRUCT that
// plastimatch wrote from a known mask, rasterised by us vs plastimatch's own rasterisation and
// vs the mask; hand-written SEGs (binary across byte boundaries, fractional, frames out of
// order) reproduce the mask exactly, also on other grids; malformed objects are errors, never
// crashes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "core/error.h"
#include "io/dicom.h"
#include "io/dicom_objects.h"
#include "io/nifti.h"
#include "io/volume.h"
#include "mask_compare.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace cervirisk;
using cervirisk::testing::TempDir;
using cervirisk::testing::thrown_by;

namespace {

std::string data(const std::string& rel) { return std::string(CERV_TEST_DATA) + "/dicom_objects/" + rel; }

const io::Geometry& image_grid() {
  static const io::Geometry g = io::read_dicom(data("image")).geometry;
  return g;
}

io::Volume nifti_mask(const std::string& name) {
  io::Volume v = io::read_nifti(data(name));
  EXPECT_TRUE(v.geometry.same_grid(image_grid())) << name;
  return v;
}

using cervirisk::testing::differing;
using cervirisk::testing::dice;
using cervirisk::testing::count_inside;

bool binary(const io::Volume& v) {
  for (float x : v.voxels)
    if (x != 0.0f && x != 1.0f) return false;
  return true;
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void spit(const fs::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

TEST(DicomObjects, KindIsSniffedFromTheFileMeta) {
  EXPECT_EQ(io::dicom_object_kind(data("rtstruct.dcm")), io::DicomObjectKind::kRtStruct);
  EXPECT_EQ(io::dicom_object_kind(data("seg_binary.dcm")), io::DicomObjectKind::kSegmentation);
  EXPECT_EQ(io::dicom_object_kind(data("seg_fractional.dcm")), io::DicomObjectKind::kSegmentation);
  EXPECT_EQ(io::dicom_object_kind(data("image/image0003.dcm")), io::DicomObjectKind::kImage);
  EXPECT_EQ(io::dicom_object_kind(data("gtv.nii.gz")), io::DicomObjectKind::kNotDicom);
  EXPECT_EQ(io::dicom_object_kind(data("image")), io::DicomObjectKind::kNotDicom);
  EXPECT_EQ(io::dicom_object_kind(data("no_such_file.dcm")), io::DicomObjectKind::kNotDicom);
  TempDir dir("kind");
  std::string raw = slurp(data("rtstruct.dcm"));
  spit(dir / "short.dcm", raw.substr(0, 140));  // cut inside the meta information
  EXPECT_EQ(io::dicom_object_kind(dir / "short.dcm"), io::DicomObjectKind::kOther);
  spit(dir / "empty.dcm", "");
  EXPECT_EQ(io::dicom_object_kind(dir / "empty.dcm"), io::DicomObjectKind::kNotDicom);
}

TEST(DicomObjects, FixtureSeriesHasTheNiftiGrid) {
  const io::Geometry& g = image_grid();
  EXPECT_EQ(g.shape[0], 47);
  EXPECT_EQ(g.shape[1], 39);
  EXPECT_EQ(g.shape[2], 10);
  EXPECT_TRUE(g.same_grid(io::read_nifti(data("image.nii.gz")).geometry));
}

TEST(DicomObjects, RtstructRoisAreListed) {
  auto rois = io::rtstruct_rois(data("rtstruct.dcm"));
  ASSERT_EQ(rois.size(), 2u);
  EXPECT_EQ(rois[0].name, "GTV");
  EXPECT_EQ(rois[0].label, 0);  // plastimatch numbers ROIs from 0
  EXPECT_EQ(rois[1].name, "Bladder");
  EXPECT_EQ(rois[1].label, 1);
}

// plastimatch wrote the RTSTRUCT from gtv/bladder.nii.gz and rasterised it back
// (--xor-contours: the even-odd rule, as ours). Holes on slices 3-5, two islands on slice 7.
TEST(DicomObjects, RtstructMatchesPlastimatchAndTheOriginalMask) {
  for (const std::string roi : {"GTV", "Bladder"}) {
    const std::string lower = roi == "GTV" ? "gtv" : "bladder";
    io::Volume ours = io::read_rtstruct_mask(data("rtstruct.dcm"), image_grid(), roi);
    EXPECT_TRUE(ours.geometry.same_grid(image_grid()));
    EXPECT_TRUE(binary(ours));
    const io::Volume pm = nifti_mask("plastimatch_xor_" + roi + ".nii.gz");
    const io::Volume pm_or = nifti_mask("plastimatch_or_" + roi + ".nii.gz");
    const io::Volume truth = nifti_mask(lower + ".nii.gz");
    const double d_pm = dice(ours, pm), d_truth = dice(ours, truth), d_or = dice(ours, pm_or);
    std::printf("[ dice     ] %s: vs plastimatch --xor-contours %.4f (%zu voxels differ), vs original mask %.4f "
                "(%zu differ), vs plastimatch default (OR) %.4f; %zu voxels\n",
                roi.c_str(), d_pm, differing(ours, pm), d_truth, differing(ours, truth), d_or, count_inside(ours));
    EXPECT_GE(d_pm, 0.98) << roi;
    EXPECT_GE(d_truth, 0.95) << roi;
  }
  // the hole is a hole and both islands are there
  io::Volume gtv = io::read_rtstruct_mask(data("rtstruct.dcm"), image_grid(), "GTV");
  EXPECT_EQ(gtv.at(22, 19, 4), 0.0f);
  EXPECT_EQ(gtv.at(22, 19, 2), 1.0f);
  EXPECT_EQ(gtv.at(12, 19, 4), 1.0f);
  EXPECT_EQ(gtv.at(12, 14, 7), 1.0f);
  EXPECT_EQ(gtv.at(32, 24, 7), 1.0f);
  EXPECT_EQ(gtv.at(22, 19, 7), 0.0f);
  EXPECT_EQ(nifti_mask("plastimatch_or_GTV.nii.gz").at(22, 19, 4), 1.0f);  // OR fills the hole
}

// Analytic contours (rotated ellipses, not along voxel edges; holes; on slice 7 a ring holding an
// island in its hole, and a separate disc): vs plastimatch --xor-contours and vs an independent
// even-odd reference at the voxel centres (numpy, scripts/make_dicom_object_fixtures.py).
TEST(DicomObjects, RtstructAnalyticContoursMatchPlastimatchAndEvenOddReference) {
  const io::Volume ours = io::read_rtstruct_mask(data("rtstruct_polygons.dcm"), image_grid(), "GTV");
  const io::Volume pm = nifti_mask("plastimatch_xor_polygons.nii.gz");
  const io::Volume ref = nifti_mask("polygons_even_odd.nii.gz");
  const double d_pm = dice(ours, pm), d_ref = dice(ours, ref);
  std::printf("[ dice     ] analytic contours: vs plastimatch --xor-contours %.4f (%zu voxels differ), vs numpy even-odd "
              "%.4f (%zu differ); %zu voxels\n",
              d_pm, differing(ours, pm), d_ref, differing(ours, ref), count_inside(ours));
  EXPECT_GE(d_pm, 0.98);
  EXPECT_EQ(differing(ours, ref), 0u);
  EXPECT_EQ(ours.at(13, 14, 7), 1.0f);  // the island inside the ring's hole
  EXPECT_EQ(ours.at(17, 14, 7), 0.0f);  // the ring's hole
  EXPECT_EQ(ours.at(21, 14, 7), 1.0f);  // the ring
}

TEST(DicomObjects, RtstructRoiChosenByNameCaseInsensitiveOrNumber) {
  const io::Volume a = io::read_rtstruct_mask(data("rtstruct.dcm"), image_grid(), "gtv");
  const io::Volume b = io::read_rtstruct_mask(data("rtstruct.dcm"), image_grid(), "GTV");
  EXPECT_EQ(a.voxels, b.voxels);
  EXPECT_EQ(a.metadata.at("roi_name"), "GTV");
  const io::Volume c = io::read_rtstruct_mask(data("rtstruct.dcm"), image_grid(), "1");  // ROINumber 1
  EXPECT_EQ(c.metadata.at("roi_name"), "Bladder");
  EXPECT_EQ(differing(c, nifti_mask("bladder.nii.gz")), 0u);

  auto t = thrown_by<ValidationError>([] { io::read_rtstruct_mask(data("rtstruct.dcm"), image_grid(), "rectum"); });
  ASSERT_TRUE(t.thrown);
  EXPECT_EQ(t.exit_code, 5);
  EXPECT_NE(t.message.find("GTV [0], Bladder [1]"), std::string::npos) << t.message;
  EXPECT_NE(t.message.find("rectum"), std::string::npos) << t.message;
  t = thrown_by<ValidationError>([] { io::read_rtstruct_mask(data("rtstruct.dcm"), image_grid(), ""); });
  ASSERT_TRUE(t.thrown);
  EXPECT_NE(t.message.find("holds 2 ROIs"), std::string::npos) << t.message;
}

TEST(DicomObjects, RtstructContoursOffTheSlicesAreValidationErrors) {
  auto t = thrown_by<Error>(
      [] { io::read_rtstruct_mask(data("malformed/rtstruct_between_slices.dcm"), image_grid(), "GTV"); });
  ASSERT_TRUE(t.thrown);
  EXPECT_EQ(t.exit_code, 5) << t.message;
  EXPECT_NE(t.message.find("between image slices"), std::string::npos) << t.message;
  EXPECT_NE(t.message.find("1.500 mm"), std::string::npos) << t.message;
  EXPECT_NE(t.message.find("rtstruct_between_slices.dcm"), std::string::npos) << t.message;
  // the other ROI of that file is fine
  EXPECT_NO_THROW(io::read_rtstruct_mask(data("malformed/rtstruct_between_slices.dcm"), image_grid(), "Bladder"));

  t = thrown_by<Error>([] { io::read_rtstruct_mask(data("malformed/rtstruct_tilted.dcm"), image_grid(), "GTV"); });
  ASSERT_TRUE(t.thrown);
  EXPECT_EQ(t.exit_code, 5) << t.message;
  EXPECT_NE(t.message.find("not parallel to the image slices"), std::string::npos) << t.message;

  // The same RTSTRUCT on a grid 100 mm further along z: outside the image.
  io::Geometry moved = image_grid();
  moved.origin_lps_mm[2] += 100;
  t = thrown_by<Error>([&] { io::read_rtstruct_mask(data("rtstruct.dcm"), moved, "GTV"); });
  ASSERT_TRUE(t.thrown);
  EXPECT_EQ(t.exit_code, 5) << t.message;
  EXPECT_NE(t.message.find("outside the image"), std::string::npos) << t.message;
  // ... and on a grid shifted sideways by 200 mm
  moved = image_grid();
  moved.origin_lps_mm[0] += 200;
  t = thrown_by<Error>([&] { io::read_rtstruct_mask(data("rtstruct.dcm"), moved, "GTV"); });
  ASSERT_TRUE(t.thrown);
  EXPECT_EQ(t.exit_code, 5) << t.message;
  EXPECT_NE(t.message.find("outside the image"), std::string::npos) << t.message;
  // a grid whose slices are 1.5 mm apart: every other slice of it is between the contours' planes,
  // the contours lie on its slices: fine (a finer grid)
  io::Geometry fine = image_grid();
  fine.spacing_mm[2] = 1.5;
  fine.shape[2] = 19;
  io::Volume v = io::read_rtstruct_mask(data("rtstruct.dcm"), fine, "GTV");
  EXPECT_GT(count_inside(v), 0u);
}

TEST(DicomObjects, RtstructMalformedObjectsAreFormatErrors) {
  auto t = thrown_by<Error>(
      [] { io::read_rtstruct_mask(data("malformed/rtstruct_no_roicontours.dcm"), image_grid(), "GTV"); });
  ASSERT_TRUE(t.thrown);
  EXPECT_EQ(t.exit_code, 4) << t.message;
  EXPECT_NE(t.message.find("ROIContourSequence (3006,0039)"), std::string::npos) << t.message;
  t = thrown_by<Error>([] { io::read_rtstruct_mask(data("malformed/rtstruct_wrong_npoints.dcm"), image_grid(), "GTV"); });
  ASSERT_TRUE(t.thrown);
  EXPECT_EQ(t.exit_code, 4) << t.message;
  EXPECT_NE(t.message.find("NumberOfContourPoints (3006,0046)"), std::string::npos) << t.message;
  t = thrown_by<Error>([] { io::read_rtstruct_mask(data("seg_binary.dcm"), image_grid(), "GTV"); });
  ASSERT_TRUE(t.thrown);
  EXPECT_EQ(t.exit_code, 4) << t.message;
  EXPECT_NE(t.message.find("not a RT Structure Set"), std::string::npos) << t.message;
  t = thrown_by<Error>([] { io::read_rtstruct_mask(data("gtv.nii.gz"), image_grid(), "GTV"); });
  ASSERT_TRUE(t.thrown);
  EXPECT_EQ(t.exit_code, 4) << t.message;
}

TEST(DicomObjects, SegSegmentsAreListed) {
  auto segs = io::dicom_seg_segments(data("seg_binary.dcm"));
  ASSERT_EQ(segs.size(), 2u);
  EXPECT_EQ(segs[0].name, "GTV");
  EXPECT_EQ(segs[0].description, "Gross tumour volume");
  EXPECT_EQ(segs[0].label, 1);
  EXPECT_EQ(segs[1].name, "Bladder");
  EXPECT_EQ(segs[1].label, 2);
}

// Binary: 47 x 39 = 1833 bits per frame, so frames start mid-byte; 14 frames out of slice order
// (GTV on every slice, Bladder only where it is not empty). Fractional: 8 bit, max 200.
TEST(DicomObjects, SegReproducesTheKnownMasksExactly) {
  const io::Volume gtv = nifti_mask("gtv.nii.gz"), bladder = nifti_mask("bladder.nii.gz");
  for (const std::string sel : {"GTV", "gtv", "1", "Gross tumour volume"}) {
    io::Volume v = io::read_dicom_seg_mask(data("seg_binary.dcm"), image_grid(), sel);
    EXPECT_TRUE(binary(v));
    EXPECT_TRUE(v.geometry.same_grid(image_grid()));
    EXPECT_EQ(differing(v, gtv), 0u) << sel;
    EXPECT_EQ(v.metadata.at("segment_number"), "1");
  }
  for (const std::string sel : {"Bladder", "2"})
    EXPECT_EQ(differing(io::read_dicom_seg_mask(data("seg_binary.dcm"), image_grid(), sel), bladder), 0u) << sel;
  io::Volume f = io::read_dicom_seg_mask(data("seg_fractional.dcm"), image_grid(), "");  // its only segment
  EXPECT_TRUE(binary(f));
  EXPECT_EQ(differing(f, gtv), 0u);
  EXPECT_EQ(count_inside(f), count_inside(gtv));
  std::printf("[ seg      ] GTV %zu voxels, Bladder %zu voxels reproduced exactly\n", count_inside(gtv), count_inside(bladder));

  auto t = thrown_by<ValidationError>([] { io::read_dicom_seg_mask(data("seg_binary.dcm"), image_grid(), "3"); });
  ASSERT_TRUE(t.thrown);
  EXPECT_NE(t.message.find("GTV [1], Bladder [2]"), std::string::npos) << t.message;
}

// A SEG on another grid of the same body: frames that coincide with slices of the target grid
// (shifted by whole voxels, axes flipped) are copied; others are resampled nearest-neighbour.
TEST(DicomObjects, SegOnAnotherGridIsPlacedThroughWorldCoordinates) {
  const io::Volume gtv = nifti_mask("gtv.nii.gz");
  const io::Geometry& g = image_grid();
  // cropped and shifted by whole voxels
  io::Geometry crop = g;
  crop.shape = {30, 25, 6};
  crop.origin_lps_mm = g.index_to_lps({5, 6, 2});
  io::Volume a = io::read_dicom_seg_mask(data("seg_binary.dcm"), crop, "GTV");
  EXPECT_EQ(differing(a, io::resample_nearest(gtv, crop)), 0u);
  // i and k axes flipped
  io::Geometry flip = g;
  flip.origin_lps_mm = g.index_to_lps({46, 0, 9});
  for (int r = 0; r < 3; ++r) flip.direction_lps[r][0] = -g.direction_lps[r][0], flip.direction_lps[r][2] = -g.direction_lps[r][2];
  io::Volume b = io::read_dicom_seg_mask(data("seg_binary.dcm"), flip, "GTV");
  EXPECT_EQ(differing(b, io::resample_nearest(gtv, flip)), 0u);
  EXPECT_EQ(count_inside(b), count_inside(gtv));
  // a finer grid, offset by a fraction of a voxel: resampled
  io::Geometry fine = g;
  fine.shape = {70, 60, 20};
  fine.spacing_mm = {0.63, 0.77, 1.4};
  fine.origin_lps_mm = {g.origin_lps_mm[0] + 0.21, g.origin_lps_mm[1] - 0.13, g.origin_lps_mm[2] + 0.35};
  io::Volume c = io::read_dicom_seg_mask(data("seg_binary.dcm"), fine, "GTV");
  const io::Volume expect = io::resample_nearest(gtv, fine);
  std::printf("[ seg      ] finer grid: %zu of %zu voxels differ from resample_nearest of the mask (dice %.4f)\n",
              differing(c, expect), count_inside(expect), dice(c, expect));
  EXPECT_GT(count_inside(expect), 1000u);
  EXPECT_EQ(differing(c, expect), 0u);
  // a grid that does not meet the segment
  io::Geometry away = g;
  away.origin_lps_mm[2] += 500;
  auto t = thrown_by<Error>([&] { io::read_dicom_seg_mask(data("seg_binary.dcm"), away, "GTV"); });
  ASSERT_TRUE(t.thrown);
  EXPECT_EQ(t.exit_code, 5) << t.message;
  EXPECT_NE(t.message.find("outside the image"), std::string::npos) << t.message;
}

TEST(DicomObjects, SegMalformedObjectsAreFormatErrors) {
  auto t = thrown_by<Error>([] { io::read_dicom_seg_mask(data("malformed/seg_short_pixeldata.dcm"), image_grid(), "GTV"); });
  ASSERT_TRUE(t.thrown);
  EXPECT_EQ(t.exit_code, 4) << t.message;
  // 14 frames x 47 x 39 bits = 25662 bits -> 3208 bytes; the file holds 10 fewer
  EXPECT_NE(t.message.find("holds 3198 bytes, expected 3208"), std::string::npos) << t.message;
  EXPECT_NE(t.message.find("seg_short_pixeldata.dcm"), std::string::npos) << t.message;
  t = thrown_by<Error>([] { io::read_dicom_seg_mask(data("malformed/seg_no_perframe.dcm"), image_grid(), "GTV"); });
  ASSERT_TRUE(t.thrown);
  EXPECT_EQ(t.exit_code, 4) << t.message;
  EXPECT_NE(t.message.find("PerFrameFunctionalGroupsSequence (5200,9230)"), std::string::npos) << t.message;
  t = thrown_by<Error>([] { io::read_dicom_seg_mask(data("malformed/seg_no_segments.dcm"), image_grid(), "GTV"); });
  ASSERT_TRUE(t.thrown);
  EXPECT_EQ(t.exit_code, 4) << t.message;
  EXPECT_NE(t.message.find("SegmentSequence (0062,0002)"), std::string::npos) << t.message;
  t = thrown_by<Error>([] { io::read_dicom_seg_mask(data("rtstruct.dcm"), image_grid(), "GTV"); });
  ASSERT_TRUE(t.thrown);
  EXPECT_EQ(t.exit_code, 4) << t.message;
  EXPECT_NE(t.message.find("not a DICOM Segmentation"), std::string::npos) << t.message;
}

TEST(DicomObjects, TruncatedObjectsAreFormatErrors) {
  TempDir dir("dcmobj_cut");
  for (const std::string src : {"rtstruct.dcm", "seg_binary.dcm", "seg_fractional.dcm"}) {
    const std::string raw = slurp(data(src));
    for (std::size_t cut : {std::size_t{0}, std::size_t{100}, std::size_t{131}, std::size_t{200}, std::size_t{700},
                            raw.size() / 3, raw.size() / 2, raw.size() - 200, raw.size() - 1}) {
      SCOPED_TRACE(src + " cut at " + std::to_string(cut));
      spit(dir / "cut.dcm", raw.substr(0, cut));
      auto t = thrown_by<Error>([&] {
        if (src == "rtstruct.dcm")
          io::read_rtstruct_mask(dir / "cut.dcm", image_grid(), "GTV");
        else
          io::read_dicom_seg_mask(dir / "cut.dcm", image_grid(), "GTV");
      });
      ASSERT_TRUE(t.thrown);
      EXPECT_EQ(t.exit_code, 4) << t.message;
      EXPECT_NE(t.message.find("cut.dcm"), std::string::npos) << t.message;
    }
  }
}

// A mutation found by the loop below (3 flipped bytes in an implicit-VR SEG): GDCM's parser
// asserts on it and aborts. It runs in a child process, so this is a FormatError.
TEST(DicomObjects, GdcmAbortIsAFormatError) {
  const std::string file = data("fuzz_found/seg_implicit_gdcm_abort.dcm");
  auto t = thrown_by<Error>([&] { io::read_dicom_seg_mask(file, image_grid(), "GTV"); });
  ASSERT_TRUE(t.thrown);
  EXPECT_EQ(t.exit_code, 4) << t.message;
  EXPECT_NE(t.message.find("seg_implicit_gdcm_abort.dcm"), std::string::npos) << t.message;
  EXPECT_NE(t.message.find("the DICOM parser failed on it"), std::string::npos) << t.message;
  // the damage is in the per-frame groups, which listing the segments does not parse
  EXPECT_EQ(io::dicom_seg_segments(file).size(), 2u);
}

// Random byte flips anywhere in the file (mostly in the header and the sequences): a mask or a
// cervirisk::Error with exit code 4 or 5, never a crash or another exception. 200 mutations per
// file; CERV_DICOM_OBJECTS_FUZZ=<n> runs n instead (e.g. under a sanitizer build).
TEST(DicomObjects, FlippedBytesNeverCrash) {
  TempDir dir("dcmobj_flip");
  const char* env = std::getenv("CERV_DICOM_OBJECTS_FUZZ");
  const int rounds = env && std::atoi(env) > 0 ? std::atoi(env) : 200;
  std::mt19937_64 rng(17);
  for (const std::string src : {"rtstruct.dcm", "seg_binary.dcm", "seg_fractional.dcm"}) {
    const std::string raw = slurp(data(src));
    const std::size_t header_end = src == "rtstruct.dcm" ? raw.size() : raw.size() - (src == "seg_binary.dcm" ? 3208 : 18330);
    int ok = 0, errors = 0;
    for (int t = 0; t < rounds; ++t) {
      std::string bad = raw;
      const int flips = 1 + static_cast<int>(rng() % 3);
      for (int n = 0; n < flips; ++n) {
        const std::size_t off = t % 4 == 0 ? rng() % raw.size() : 128 + rng() % (header_end - 128);
        bad[off] = static_cast<char>(bad[off] ^ static_cast<char>(1 + rng() % 255));
      }
      spit(dir / "f.dcm", bad);
      SCOPED_TRACE(src + " mutation " + std::to_string(t));
      auto th = thrown_by<Error>([&] {
        if (src == "rtstruct.dcm") {
          if (t % 4 == 1) io::rtstruct_rois(dir / "f.dcm");
          io::Volume v = io::read_rtstruct_mask(dir / "f.dcm", image_grid(), "GTV");
          EXPECT_EQ(v.voxels.size(), static_cast<std::size_t>(image_grid().voxel_count()));
        } else {
          if (t % 4 == 1) io::dicom_seg_segments(dir / "f.dcm");
          io::Volume v = io::read_dicom_seg_mask(dir / "f.dcm", image_grid(), "GTV");
          EXPECT_EQ(v.voxels.size(), static_cast<std::size_t>(image_grid().voxel_count()));
        }
        io::dicom_object_kind(dir / "f.dcm");
      });
      if (th.thrown) {
        ++errors;
        EXPECT_TRUE(th.exit_code == 4 || th.exit_code == 5) << th.exit_code << ": " << th.message;
      } else {
        ++ok;
      }
    }
    std::printf("[ fuzz     ] %s: %d mutations, %d read, %d errors\n", src.c_str(), rounds, ok, errors);
    EXPECT_GT(errors, 10) << src;
  }
}
