// Preprocessing against the nibabel + scipy.ndimage reference (scripts/preprocess_reference.py,
// both frames: acquisition and the canonical sagittal one,
// goldens by scripts/make_imaging_goldens.py), plus invariants: exact resampling of linear
// ramps, label preservation, crop geometry back to the patient, seeded augmentation, cache.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>

#include "core/error.h"
#include "imaging/augment.h"
#include "imaging/cache.h"
#include "imaging/normalise.h"
#include "imaging/resample.h"
#include "imaging/roi.h"
#include "io/dicom.h"
#include "data/synth.h"
#include "io/mask.h"
#include "io/nifti.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace cervirisk;
using namespace cervirisk::imaging;
using cervirisk::testing::TempDir;

namespace {
std::string idata(const std::string& rel) { return std::string(CERV_TEST_DATA) + "/imaging/" + rel; }

const nlohmann::json& goldens() {
  static nlohmann::json j = [] {
    std::ifstream f(idata("goldens.json"));
    return nlohmann::json::parse(f);
  }();
  return j;
}

std::vector<float> read_f32(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  std::vector<float> v(static_cast<std::size_t>(f.tellg()) / 4);
  f.seekg(0);
  f.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * 4));
  return v;
}

PreprocessParams params_of(const nlohmann::json& p) {
  PreprocessParams q;
  q.frame = p.contains("frame") ? parse_frame(p["frame"].get<std::string>()) : Frame::kAcquisition;
  if (p.contains("slice_spacing_mm")) q.slice_spacing_mm = p["slice_spacing_mm"];
  q.tumour_fov_mm = p.contains("tumour_fov_mm") ? p["tumour_fov_mm"].get<double>() : 0.0;
  q.spacing_mm = p["spacing_mm"];
  q.tumour_margin_mm = p["tumour_margin_mm"];
  q.context_margin_mm = p["context_margin_mm"];
  q.context_fov_mm = p["context_fov_mm"];
  q.neighbours = p["neighbours"];
  q.tumour_size_px = p["tumour_size_px"];
  q.context_size_px = p["context_size_px"];
  q.clip_low_percentile = p["clip"][0];
  q.clip_high_percentile = p["clip"][1];
  return q;
}

io::Volume ramp(std::int64_t ni, std::int64_t nj, std::int64_t nk, io::Vec3 spacing) {
  io::Volume v;
  v.geometry.shape = {ni, nj, nk};
  v.geometry.spacing_mm = spacing;
  v.voxels.resize(static_cast<std::size_t>(ni * nj * nk));
  for (std::int64_t k = 0; k < nk; ++k)
    for (std::int64_t j = 0; j < nj; ++j)
      for (std::int64_t i = 0; i < ni; ++i)
        v.at(i, j, k) = static_cast<float>(2.0 * i * spacing[0] - 3.0 * j * spacing[1] + 100.0 * k);
  return v;
}
}  // namespace

TEST(Imaging, MatchesPythonReferenceOnPhantom) {
  io::Volume image = io::read_nifti(idata("phantom.nii.gz"));
  io::Volume mask = io::read_mask(idata("phantom_mask.nii.gz"), image.geometry);
  for (const auto& [name, g] : goldens()["cases"].items()) {
    SCOPED_TRACE(name);
    PatientSample s = preprocess(image, mask, params_of(g["params"]));
    if (g["slice_index"].is_null()) {  // the sagittal frame: planes are not image slices
      for (int r = 0; r < 3; ++r) EXPECT_NEAR(s.tumour.box.centre_lps_mm[r], g["centre_lps"][r].get<double>(), 1e-6);
      EXPECT_NEAR(s.tumour_area_mm2, g["area_mm2"].get<double>(), 1e-9);
    } else {
      EXPECT_EQ(s.slice_index, g["slice_index"].get<std::int64_t>());
      EXPECT_EQ(s.slice_indices, g["slices"].get<std::vector<std::int64_t>>());
    }
    const auto& st = g["stats"];
    EXPECT_NEAR(s.stats.otsu_threshold, st["otsu"].get<double>(), 1e-6);
    EXPECT_EQ(s.stats.n_foreground, st["n_fg"].get<std::int64_t>());
    EXPECT_DOUBLE_EQ(s.stats.clip_low, st["lo"].get<double>());
    EXPECT_DOUBLE_EQ(s.stats.clip_high, st["hi"].get<double>());
    EXPECT_NEAR(s.stats.mean, st["mean"].get<double>(), 1e-9 * st["mean"].get<double>());
    EXPECT_NEAR(s.stats.sd, st["sd"].get<double>(), 1e-9 * st["sd"].get<double>());
    EXPECT_NEAR(s.tumour.box.side_mm, g["side_t"].get<double>(), 1e-9);
    EXPECT_NEAR(s.context.box.side_mm, g["side_c"].get<double>(), 1e-9);
    for (const char* which : {"tumour", "context"}) {
      const Crop& c = std::string(which) == "tumour" ? s.tumour : s.context;
      auto shape = g[std::string(which) + "_shape"];
      ASSERT_EQ(c.channels, shape[0].get<int>());
      ASSERT_EQ(c.height, shape[1].get<int>());
      ASSERT_EQ(c.width, shape[2].get<int>());
      std::vector<float> ref = read_f32(idata(name + "_" + which + ".f32"));
      ASSERT_EQ(ref.size(), c.data.size());
      double max_diff = 0;
      for (std::size_t i = 0; i < ref.size(); ++i) max_diff = std::max(max_diff, double(std::fabs(ref[i] - c.data[i])));
      // float32 bilinear arithmetic in a different order: ~1e-5 in SD units
      EXPECT_LT(max_diff, 1e-4) << which;
    }
  }
}

TEST(Imaging, LinearResamplingIsExactOnRamps) {
  io::Volume v = ramp(20, 16, 3, {0.7, 0.9, 4.0});
  io::Volume r = resample_inplane(v, 0.5, Interpolation::kLinear);
  EXPECT_EQ(r.geometry.shape[0], 28);  // round(20 * 0.7 / 0.5)
  EXPECT_EQ(r.geometry.shape[1], 29);  // round(16 * 0.9 / 0.5) = round(28.8)
  for (std::int64_t k = 0; k < 3; ++k)
    for (std::int64_t j = 0; j < r.geometry.shape[1]; ++j)
      for (std::int64_t i = 0; i < r.geometry.shape[0]; ++i) {
        // inside the source extent the bilinear result of a linear function is exact
        double x = std::min(i * 0.5, 19 * 0.7), y = std::min(j * 0.5, 15 * 0.9);
        ASSERT_NEAR(r.at(i, j, k), 2.0 * x - 3.0 * y + 100.0 * k, 2e-3);
      }
  // geometry: same world position for index (i', j') and the source index (i' * 0.5/0.7, ...)
  io::Vec3 a = r.geometry.index_to_lps({7, 9, 2});
  io::Vec3 b = v.geometry.index_to_lps({7 * 0.5 / 0.7, 9 * 0.5 / 0.9, 2});
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(a[c], b[c], 1e-9);
  // a sub-range of slices keeps its world position
  io::Volume part = resample_inplane(v, 0.5, Interpolation::kLinear, 1, 3);
  EXPECT_EQ(part.geometry.shape[2], 2);
  EXPECT_EQ(part.at(5, 5, 0), r.at(5, 5, 1));
  io::Vec3 p = part.geometry.index_to_lps({0, 0, 0}), q = r.geometry.index_to_lps({0, 0, 1});
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(p[c], q[c], 1e-9);
}

TEST(Imaging, NearestResamplingKeepsLabels) {
  io::Volume m = ramp(15, 11, 2, {0.9, 0.9, 3.0});
  for (auto& x : m.voxels) x = static_cast<float>(static_cast<int>(std::fabs(x)) % 4);
  io::Volume r = resample_inplane(m, 0.4, Interpolation::kNearest);
  for (float x : r.voxels) ASSERT_TRUE(x == 0 || x == 1 || x == 2 || x == 3);
  // resampling to the same spacing is the identity
  EXPECT_EQ(resample_inplane(m, 0.9, Interpolation::kNearest).voxels, m.voxels);
  EXPECT_EQ(resample_inplane(m, 0.9, Interpolation::kLinear).voxels, m.voxels);
}

TEST(Imaging, PercentileAndOtsuAgreeWithHandValues) {
  std::vector<float> v = {5, 1, 4, 2, 3};
  EXPECT_DOUBLE_EQ(percentile(v, 50), 3.0);
  v = {5, 1, 4, 2, 3};
  EXPECT_DOUBLE_EQ(percentile(v, 10), 1.4);  // numpy.percentile([1..5], 10) = 1.4
  v = {5, 1, 4, 2, 3};
  EXPECT_DOUBLE_EQ(percentile(v, 100), 5.0);
  // two well-separated clusters: the threshold falls between them
  std::vector<float> w;
  for (int i = 0; i < 100; ++i) w.push_back(static_cast<float>(10 + i % 5));
  for (int i = 0; i < 50; ++i) w.push_back(static_cast<float>(200 + i % 7));
  double t = otsu_threshold(w);
  EXPECT_GT(t, 14);
  EXPECT_LE(t, 200);
}

// The acquisition frame (the image's own slices): the crop centre is on the chosen slice.
PreprocessParams acquisition_params() {
  PreprocessParams p;
  p.frame = Frame::kAcquisition;
  p.tumour_fov_mm = 0;
  return p;
}

TEST(Imaging, CropGeometryMapsBackOntoTheImage) {
  io::Volume image = io::read_nifti(idata("phantom.nii.gz"));
  io::Volume mask = io::read_mask(idata("phantom_mask.nii.gz"), image.geometry);
  PreprocessParams p = acquisition_params();
  PatientSample s = preprocess(image, mask, p);
  // The crop centre lies on the chosen slice, inside the tumour.
  for (const Crop* c : {&s.tumour, &s.context}) {
    double mid = (c->box.size_px - 1) / 2.0;
    io::Vec3 ijk = c->box.pixel_to_index(image.geometry, mid, mid);
    EXPECT_NEAR(ijk[2], static_cast<double>(s.slice_index), 1e-6);
    EXPECT_GT(mask.at(std::llround(ijk[0]), std::llround(ijk[1]), s.slice_index), 0.5f);
    // corners are side_mm apart (minus one pixel) in the world
    io::Vec3 a = c->box.pixel_to_lps(0, 0), b = c->box.pixel_to_lps(c->box.size_px - 1, 0);
    double d = std::sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) + (a[2] - b[2]) * (a[2] - b[2]));
    EXPECT_NEAR(d, c->box.side_mm - c->box.pixel_mm, 1e-9);
  }
  // A crop pixel's value equals the image's value at the mapped voxel (bilinear of normalised
  // intensities; check at a pixel that lands close to a voxel centre is not needed: compare
  // against the image sampled there, normalised).
  const Crop& t = s.tumour;
  int checked = 0;
  for (int y = 4; y < t.height; y += 9)
    for (int x = 4; x < t.width; x += 9) {
      io::Vec3 ijk = t.box.pixel_to_index(image.geometry, x, y);
      double fi = ijk[0], fj = ijk[1];
      std::int64_t i0 = static_cast<std::int64_t>(std::floor(fi)), j0 = static_cast<std::int64_t>(std::floor(fj));
      if (i0 < 0 || j0 < 0 || i0 + 1 >= image.geometry.shape[0] || j0 + 1 >= image.geometry.shape[1]) continue;
      // the two-stage resampling is close to a direct bilinear sample (within the local variation)
      float lo = INFINITY, hi = -INFINITY;
      for (int dj = -1; dj <= 2; ++dj)
        for (int di = -1; di <= 2; ++di) {
          std::int64_t ii = std::clamp<std::int64_t>(i0 + di, 0, image.geometry.shape[0] - 1);
          std::int64_t jj = std::clamp<std::int64_t>(j0 + dj, 0, image.geometry.shape[1] - 1);
          float v = s.stats.apply(image.at(ii, jj, s.slice_index));
          lo = std::min(lo, v), hi = std::max(hi, v);
        }
      float got = t.at(1, y, x);  // channel 1 = the centre slice (k = 1)
      EXPECT_GE(got, lo - 1e-4f);
      EXPECT_LE(got, hi + 1e-4f);
      ++checked;
    }
  EXPECT_GT(checked, 10);
}

TEST(Imaging, EdgeSlicesAreRepeatedAndEmptyMaskIsValidationError) {
  io::Volume image = ramp(30, 30, 4, {1, 1, 3});
  io::Volume mask = image;
  for (auto& x : mask.voxels) x = 0;
  for (int j = 10; j < 15; ++j)
    for (int i = 8; i < 20; ++i) mask.at(i, j, 3) = 1;
  PreprocessParams p = acquisition_params();
  p.neighbours = 2;
  p.spacing_mm = 1.0;
  PatientSample s = preprocess(image, mask, p);
  EXPECT_EQ(s.slice_index, 3);
  EXPECT_EQ(s.slice_indices, (std::vector<std::int64_t>{1, 2, 3, 3, 3}));
  EXPECT_NEAR(s.tumour_area_mm2, 60.0, 1e-9);
  EXPECT_NEAR(s.tumour.box.side_mm, 12 + 2 * 5.0, 1e-9);  // max(12, 5) + 2 margins
  EXPECT_NEAR(s.context.box.side_mm, 22 + 2 * 15.0, 1e-9);
  for (auto& x : mask.voxels) x = 0;
  try {
    preprocess(image, mask, p);
    FAIL();
  } catch (const ValidationError& e) {
    EXPECT_NE(std::string(e.what()).find("mask is empty"), std::string::npos);
  }
}

TEST(Imaging, AugmentationIsSeededAndConsistent) {
  io::Volume image = io::read_nifti(idata("phantom.nii.gz"));
  io::Volume mask = io::read_mask(idata("phantom_mask.nii.gz"), image.geometry);
  PatientSample base = preprocess(image, mask, acquisition_params());
  AugmentParams a;
  PatientSample s1 = base, s2 = base, s3 = base;
  std::mt19937_64 r1(99), r2(99), r3(100);
  augment(s1, a, r1);
  augment(s2, a, r2);
  augment(s3, a, r3);
  EXPECT_EQ(s1.tumour.data, s2.tumour.data);
  EXPECT_EQ(s1.context.data, s2.context.data);
  EXPECT_NE(s1.tumour.data, s3.tumour.data);
  // identity draw = no change; a pure flip twice = identity; flip mirrors columns exactly
  Crop c = base.tumour;
  apply_augment(c, AugmentDraw{});
  EXPECT_EQ(c.data, base.tumour.data);
  AugmentDraw f;
  f.flip = true;
  apply_augment(c, f);
  EXPECT_EQ(c.at(0, 5, 0), base.tumour.at(0, 5, c.width - 1));
  apply_augment(c, f);
  EXPECT_EQ(c.data, base.tumour.data);
  // gain/offset act on intensities
  AugmentDraw gdraw;
  gdraw.gain = 2;
  gdraw.offset = 0.5;
  c = base.tumour;
  apply_augment(c, gdraw);
  EXPECT_FLOAT_EQ(c.at(2, 10, 20), base.tumour.at(2, 10, 20) * 2 + 0.5f);
  AugmentParams off;
  off.enabled = false;
  PatientSample s4 = base;
  augment(s4, off, r1);
  EXPECT_EQ(s4.tumour.data, base.tumour.data);
}

TEST(Imaging, CohortCacheHitsAndInvalidation) {
  TempDir dir("cache");
  fs::copy_file(idata("phantom.nii.gz"), dir / "img.nii.gz");
  fs::copy_file(idata("phantom_mask.nii.gz"), dir / "mask.nii.gz");
  std::vector<PatientInput> pts;
  for (int i = 0; i < 3; ++i) pts.push_back({"P" + std::to_string(i), dir / "img.nii.gz", dir / "mask.nii.gz", {}});
  PreprocessParams p;
  CohortStats st;
  auto a = preprocess_cohort(pts, p, 2, dir / "cache", &st);
  EXPECT_EQ(st.computed + st.cache_hits, 3);
  EXPECT_GE(st.computed, 1);
  auto b = preprocess_cohort(pts, p, 2, dir / "cache", &st);
  EXPECT_EQ(st.cache_hits, 3);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[2].tumour.data, a[2].tumour.data);
  EXPECT_EQ(b[2].context.data, a[2].context.data);
  EXPECT_EQ(b[2].slice_indices, a[2].slice_indices);
  EXPECT_DOUBLE_EQ(b[2].stats.sd, a[2].stats.sd);
  EXPECT_DOUBLE_EQ(b[2].tumour.box.centre_lps_mm[1], a[2].tumour.box.centre_lps_mm[1]);
  // a parameter change misses (one worker: the three identical inputs share one new entry)
  p.tumour_margin_mm = 6;
  preprocess_cohort(pts, p, 1, dir / "cache", &st);
  EXPECT_EQ(st.computed, 1);
  EXPECT_EQ(st.cache_hits, 2);
  // an input change misses
  p.tumour_margin_mm = 5;
  io::Volume img = io::read_nifti(dir / "img.nii.gz");
  img.voxels[0] += 1;
  io::write_nifti(img, dir / "img.nii.gz", io::NiftiDtype::kInt16);
  auto c = preprocess_cohort(pts, p, 1, dir / "cache", &st);
  EXPECT_EQ(st.computed, 1);
  EXPECT_EQ(st.cache_hits, 2);
  // a failing patient is named
  pts.push_back({"P-missing", dir / "nope.nii.gz", dir / "mask.nii.gz", {}});
  try {
    preprocess_cohort(pts, p, 2, "", &st);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 3);
    EXPECT_NE(std::string(e.what()).find("patient P-missing: "), std::string::npos) << e.what();
  }
}

// The integer fast path and the generic path of fit_intensity agree: an affine change of the
// intensities (which makes them non-integer) transforms every statistic the same way.
TEST(Imaging, IntegerFastPathAgreesWithGenericPath) {
  io::Volume image = io::read_nifti(idata("phantom.nii.gz"));
  PreprocessParams p;
  IntensityStats a = fit_intensity(image, p);  // int16 data: counting path
  io::Volume scaled = image;
  for (auto& x : scaled.voxels) x = x * 1.5f + 0.25f;  // exact in float32 for these magnitudes
  IntensityStats b = fit_intensity(scaled, p);  // generic path
  EXPECT_EQ(a.n_foreground, b.n_foreground);
  EXPECT_NEAR(b.otsu_threshold, a.otsu_threshold * 1.5 + 0.25, 1e-3);
  EXPECT_NEAR(b.clip_low, a.clip_low * 1.5 + 0.25, 1e-9);
  EXPECT_NEAR(b.clip_high, a.clip_high * 1.5 + 0.25, 1e-9);
  EXPECT_NEAR(b.mean, a.mean * 1.5 + 0.25, 1e-9 * a.mean);
  EXPECT_NEAR(b.sd, a.sd * 1.5, 1e-9 * a.sd);
}

// A T2-like histogram: a dark class (5 %), the tumour at intermediate signal with texture
// (20 %) and a bright dominant class (75 %). Otsu's threshold falls between the tumour and the
// bright class; the statistics must not flatten the tumour (the Otsu-foreground clip did: it
// set every tumour voxel to one value). Hand-computed: the clip range holds the whole tumour,
// and the z-scores keep the tumour's SD in units of the image's SD. Both fit paths.
TEST(Imaging, NormalisationKeepsIntermediateSignalTissue) {
  io::Volume image;
  image.geometry.shape = {50, 40, 10};
  image.geometry.spacing_mm = {1, 1, 1};
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> tex(-10, 10);
  std::vector<float> tumour_raw;
  for (int i = 0; i < 20000; ++i) {
    float v;
    if (i % 20 == 0) v = 100.0f + float(tex(rng));                          // dark
    else if (i % 20 <= 4) v = 140.0f + float(tex(rng)), tumour_raw.push_back(v);  // tumour
    else v = 185.0f + float(tex(rng)) / 2.0f;                               // bright
    image.voxels.push_back(v);
  }
  for (int path = 0; path < 2; ++path) {
    io::Volume im = image;
    if (path == 1)
      for (auto& x : im.voxels) x += 0.25f;  // non-integer: the generic path
    const IntensityStats s = fit_intensity(im, PreprocessParams{});
    EXPECT_GT(s.otsu_threshold, 150.0 + 0.25 * path);  // the tumour is below Otsu's threshold
    std::vector<double> z;
    int clipped = 0;
    for (float raw : tumour_raw) {
      const float x = raw + 0.25f * float(path);
      z.push_back(s.apply(x));
      clipped += x < s.clip_low || x > s.clip_high;
    }
    EXPECT_EQ(clipped, 0) << "path " << path;
    double m = 0, v = 0;
    for (double q : z) m += q;
    m /= double(z.size());
    for (double q : z) v += (q - m) * (q - m);
    const double sd_z = std::sqrt(v / double(z.size()));
    // raw tumour SD = sqrt((21^2 - 1) / 12) = 6.06 (discrete uniform on -10..10); in z units
    // that divided by the image's SD.
    EXPECT_NEAR(sd_z * s.sd, 6.06, 0.15) << "path " << path;
    EXPECT_GT(sd_z, 0.1) << "path " << path;
  }
}

TEST(Imaging, NonFiniteVoxelsAreIgnoredByTheStatistics) {
  io::Volume image = io::read_nifti(idata("phantom.nii.gz"));
  PreprocessParams p;
  io::Volume with_nan = image;
  for (auto& x : with_nan.voxels) x += 0.5f;  // non-integer: generic path
  IntensityStats ref = fit_intensity(with_nan, p);
  with_nan.voxels[5] = std::numeric_limits<float>::quiet_NaN();
  with_nan.voxels[17] = std::numeric_limits<float>::infinity();
  IntensityStats s = fit_intensity(with_nan, p);
  EXPECT_TRUE(std::isfinite(s.mean));
  EXPECT_TRUE(std::isfinite(s.sd));
  EXPECT_NEAR(s.mean, ref.mean, 1e-3 * std::fabs(ref.mean));
  // NaN everywhere: a validation error, not garbage
  for (auto& x : with_nan.voxels) x = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(fit_intensity(with_nan, p), ValidationError);
}

// DICOM inputs through the threaded cohort driver (GDCM readers in parallel, compressed pixel
// data decoded in forked children from several threads): identical results per patient.
TEST(Imaging, CohortWithDicomSeriesInParallel) {
  TempDir dir("dicomcohort");
  const std::string series = std::string(CERV_TEST_DATA) + "/io/dicom_derived/series_a";
  io::DicomReadOptions o;
  io::Volume image = io::read_dicom(series, o);
  io::Volume mask = image;
  for (auto& x : mask.voxels) x = 0;
  for (int k = 0; k < 3; ++k)
    for (int j = 20; j < 34; ++j)
      for (int i = 25; i < 41; ++i) mask.at(i, j, k) = (k == 1 || (i > 30 && j > 25)) ? 1.0f : 0.0f;
  io::write_nifti(mask, dir / "mask.nii.gz", io::NiftiDtype::kUInt8);
  std::vector<PatientInput> pts;
  for (int i = 0; i < 4; ++i) pts.push_back({"D" + std::to_string(i), series, dir / "mask.nii.gz", {}});
  // the RLE file alone is a compressed single-slice "series": exercise the forked decoder too
  fs::create_directories(dir / "rle");
  fs::copy_file(std::string(CERV_TEST_DATA) + "/io/dicom/MR_small_RLE.dcm", dir / "rle" / "a.dcm");
  io::Volume rle = io::read_dicom(dir / "rle");
  io::Volume rmask = rle;
  for (auto& x : rmask.voxels) x = 0;
  for (int j = 20; j < 40; ++j)
    for (int i = 22; i < 44; ++i) rmask.at(i, j, 0) = 1;
  io::write_nifti(rmask, dir / "rmask.nii.gz", io::NiftiDtype::kUInt8);
  for (int i = 0; i < 4; ++i) pts.push_back({"R" + std::to_string(i), dir / "rle", dir / "rmask.nii.gz", {}});
  PreprocessParams p;
  p.spacing_mm = 0.4;
  auto out = preprocess_cohort(pts, p, 2, "");
  ASSERT_EQ(out.size(), 8u);
  EXPECT_EQ(out[0].slice_index, 1);
  for (int i = 1; i < 4; ++i) EXPECT_EQ(out[i].tumour.data, out[0].tumour.data);
  for (int i = 5; i < 8; ++i) EXPECT_EQ(out[i].context.data, out[4].context.data);
  // the same as the serial single-patient pipeline
  PatientSample direct = preprocess(rle, io::read_mask(dir / "rmask.nii.gz", rle.geometry), p);
  EXPECT_EQ(direct.tumour.data, out[4].tumour.data);
}

// preprocess.tumour_fov_mm: a fixed field of view keeps absolute size -- a smaller tumour fills
// less of the crop -- where the default (bounding box + margin) scales every tumour to fill it.
TEST(Imaging, FixedTumourFieldOfViewKeepsAbsoluteSize) {
  io::Volume image = io::read_nifti(idata("phantom.nii.gz"));
  io::Volume big = io::read_mask(idata("phantom_mask.nii.gz"), image.geometry);
  // The small tumour: the big one's voxels within the middle half of its in-plane box.
  const auto& sh = big.geometry.shape;
  std::int64_t i0 = sh[0], i1 = -1, j0 = sh[1], j1 = -1;
  for (std::int64_t k = 0; k < sh[2]; ++k)
    for (std::int64_t j = 0; j < sh[1]; ++j)
      for (std::int64_t i = 0; i < sh[0]; ++i)
        if (big.at(i, j, k) > 0.5f) i0 = std::min(i0, i), i1 = std::max(i1, i), j0 = std::min(j0, j), j1 = std::max(j1, j);
  io::Volume small = big;
  for (std::int64_t k = 0; k < sh[2]; ++k)
    for (std::int64_t j = 0; j < sh[1]; ++j)
      for (std::int64_t i = 0; i < sh[0]; ++i) {
        const bool inner = 4 * (i - i0) >= (i1 - i0) && 4 * (i1 - i) >= (i1 - i0) && 4 * (j - j0) >= (j1 - j0) &&
                           4 * (j1 - j) >= (j1 - j0);
        if (!inner) small.voxels[static_cast<std::size_t>((k * sh[1] + j) * sh[0] + i)] = 0.f;
      }
  // Share of the tumour crop's pixels that fall inside the tumour (nearest voxel, centre slice).
  auto filled = [&](const PatientSample& s, const io::Volume& m) {
    int in = 0, all = 0;
    for (int y = 0; y < s.tumour.height; ++y)
      for (int x = 0; x < s.tumour.width; ++x) {
        const auto ijk = s.tumour.box.pixel_to_index(image.geometry, x, y);
        const auto i = std::llround(ijk[0]), j = std::llround(ijk[1]);
        ++all;
        if (i >= 0 && j >= 0 && i < sh[0] && j < sh[1]) in += m.at(i, j, s.slice_index) > 0.5f;
      }
    return static_cast<double>(in) / all;
  };
  PreprocessParams p = acquisition_params();
  const auto big_box = preprocess(image, big, p), small_box = preprocess(image, small, p);
  EXPECT_GT(big_box.tumour.box.side_mm, 1.5 * small_box.tumour.box.side_mm);  // the crop follows the tumour
  p.tumour_fov_mm = big_box.tumour.box.side_mm;
  const auto big_fov = preprocess(image, big, p), small_fov = preprocess(image, small, p);
  EXPECT_DOUBLE_EQ(big_fov.tumour.box.side_mm, p.tumour_fov_mm);
  EXPECT_DOUBLE_EQ(small_fov.tumour.box.side_mm, p.tumour_fov_mm);
  EXPECT_NEAR(filled(big_fov, big), filled(big_box, big), 1e-12);  // the same crop for the big one
  // Fixed field of view: the small tumour fills about a quarter of what the big one fills
  // (half the width, half the height); with box-scaled crops both fill a similar share.
  EXPECT_LT(filled(small_fov, small), 0.5 * filled(big_fov, big));
  EXPECT_GT(filled(small_box, small), 0.5 * filled(big_box, big));
  // The context crop around it is fixed too: the tumour's field of view + 2 context margins.
  EXPECT_DOUBLE_EQ(small_fov.context.box.side_mm, p.tumour_fov_mm + 2 * p.context_margin_mm);
}

// ---- the canonical sagittal frame ----

namespace {
// A textured volume (smooth ramps + a fixed pseudo-random pattern) with an ellipsoid tumour, in
// the canonical sagittal geometry: i = anterior -> posterior, j = superior -> inferior, k =
// towards the patient's right, origin on the in-plane lattice of `s`.
std::pair<io::Volume, io::Volume> canonical_phantom(double s, double slice) {
  io::Volume v;
  v.geometry.shape = {60, 56, 11};
  v.geometry.spacing_mm = {s, s, slice};
  v.geometry.direction_lps = {{{0, 0, -1}, {1, 0, 0}, {0, -1, 0}}};
  v.geometry.origin_lps_mm = {12.0, 40 * s, -20 * s};
  v.voxels.resize(static_cast<std::size_t>(v.geometry.voxel_count()));
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<float> u(0.f, 40.f);
  for (auto& x : v.voxels) x = 200.f + u(rng);
  io::Volume m = v;
  for (std::int64_t k = 0; k < 11; ++k)
    for (std::int64_t j = 0; j < 56; ++j)
      for (std::int64_t i = 0; i < 60; ++i) {
        v.at(i, j, k) += static_cast<float>(3 * i + 2 * j + 10 * k);
        const double di = (i - 31) / 12.0, dj = (j - 25) / 9.0, dk = (k - 5.2) / 2.5;
        const bool in = di * di + dj * dj + dk * dk <= 1;
        m.at(i, j, k) = in ? 1.f : 0.f;
        if (in) v.at(i, j, k) += 300.f;
      }
  return {v, m};
}

// The same voxels stored in another index order: axis `a` reversed (the geometry follows, so
// every voxel keeps its world position; centre C's "rows posterior -> anterior" convention).
io::Volume reverse_axis(const io::Volume& v, int a) {
  io::Volume r = v;
  const auto& sh = v.geometry.shape;
  for (std::int64_t k = 0; k < sh[2]; ++k)
    for (std::int64_t j = 0; j < sh[1]; ++j)
      for (std::int64_t i = 0; i < sh[0]; ++i) {
        std::int64_t q[3] = {i, j, k};
        q[a] = sh[a] - 1 - q[a];
        r.at(q[0], q[1], q[2]) = v.at(i, j, k);
      }
  io::Vec3 last{0, 0, 0};
  last[a] = static_cast<double>(sh[a] - 1);
  r.geometry.origin_lps_mm = v.geometry.index_to_lps(last);
  for (int row = 0; row < 3; ++row) r.geometry.direction_lps[row][a] = -v.geometry.direction_lps[row][a];
  return r;
}

double pearson(const std::vector<float>& a, const std::vector<float>& b) {
  double ma = 0, mb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) ma += a[i], mb += b[i];
  ma /= a.size(), mb /= b.size();
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    sab += (a[i] - ma) * (b[i] - mb), saa += (a[i] - ma) * (a[i] - ma), sbb += (b[i] - mb) * (b[i] - mb);
  return sab / std::sqrt(saa * sbb);
}
}  // namespace

TEST(ImagingCanonical, OnASagittalLatticeSeriesTheFrameIsTheAcquisition) {
  // Slices already sagittal, in-plane on the lattice, slice spacing = the frame's: the sagittal
  // frame samples exactly the voxels the acquisition frame resamples (same crops to rounding).
  auto [image, mask] = canonical_phantom(0.8, 4.0);
  PreprocessParams sag;
  sag.tumour_fov_mm = 24, sag.context_fov_mm = 36;  // both crops inside the volume
  PreprocessParams acq = sag;
  acq.frame = Frame::kAcquisition;
  const PatientSample a = preprocess(image, mask, acq), s = preprocess(image, mask, sag);
  EXPECT_EQ(s.frame, Frame::kSagittal);
  EXPECT_EQ(s.slice_index, a.slice_index);
  EXPECT_EQ(s.slice_indices, a.slice_indices);
  EXPECT_NEAR(s.tumour_area_mm2, a.tumour_area_mm2, 1e-9);
  ASSERT_EQ(s.tumour.data.size(), a.tumour.data.size());
  for (std::size_t i = 0; i < s.tumour.data.size(); ++i) ASSERT_NEAR(s.tumour.data[i], a.tumour.data[i], 1e-4) << i;
  for (std::size_t i = 0; i < s.context.data.size(); ++i) ASSERT_NEAR(s.context.data[i], a.context.data[i], 1e-4) << i;
  for (int r = 0; r < 3; ++r) EXPECT_NEAR(s.tumour.box.centre_lps_mm[r], a.tumour.box.centre_lps_mm[r], 1e-9);
}

TEST(ImagingCanonical, IndexOrderAndAxisDirectionsDoNotChangeTheCrops) {
  // Centre C stores rows posterior -> anterior, others slices right -> left: the same body in
  // the same world positions must give the same sagittal crops (the acquisition frame mirrors).
  auto [image, mask] = canonical_phantom(0.7, 4.0);
  PreprocessParams p;
  p.tumour_fov_mm = 24, p.context_fov_mm = 36;
  const PatientSample ref = preprocess(image, mask, p);
  for (int axis = 0; axis < 3; ++axis) {
    SCOPED_TRACE(axis);
    const PatientSample s = preprocess(reverse_axis(image, axis), reverse_axis(mask, axis), p);
    ASSERT_EQ(s.tumour.data.size(), ref.tumour.data.size());
    double worst = 0;
    for (std::size_t i = 0; i < s.tumour.data.size(); ++i)
      worst = std::max(worst, double(std::fabs(s.tumour.data[i] - ref.tumour.data[i])));
    EXPECT_LT(worst, 1e-3);
    for (int r = 0; r < 3; ++r) EXPECT_NEAR(s.tumour.box.centre_lps_mm[r], ref.tumour.box.centre_lps_mm[r], 1e-6);
  }
  PreprocessParams acq = p;
  acq.frame = Frame::kAcquisition;
  const PatientSample a0 = preprocess(image, mask, acq), a1 = preprocess(reverse_axis(image, 0), reverse_axis(mask, 0), acq);
  double mirrored = 0;  // the acquisition frame mirrors the crop
  for (std::size_t i = 0; i < a0.tumour.data.size(); ++i)
    mirrored = std::max(mirrored, double(std::fabs(a0.tumour.data[i] - a1.tumour.data[i])));
  EXPECT_GT(mirrored, 0.5);
}

TEST(ImagingCanonical, FlipIsPatientLeftRight) {
  auto [image, mask] = canonical_phantom(0.8, 4.0);
  PreprocessParams p;
  p.tumour_fov_mm = 40;
  const PatientSample s = preprocess(image, mask, p);
  Crop c = s.tumour;
  AugmentDraw f;
  f.flip = true;
  apply_augment(c, f, Frame::kSagittal);
  // The planes change places (left <-> right); the in-plane image is not mirrored.
  for (int ch = 0; ch < 3; ++ch)
    for (int y = 0; y < c.height; y += 7)
      for (int x = 0; x < c.width; x += 5) EXPECT_FLOAT_EQ(c.at(ch, y, x), s.tumour.at(2 - ch, y, x));
  const io::Vec3 n = s.tumour.box.normal_lps;
  EXPECT_NEAR(n[0], -1, 1e-12);  // the planes are stacked along patient left-right
  EXPECT_NEAR(s.tumour.box.slice_step_mm, 4.0, 1e-12);
}

TEST(ImagingCanonical, OnePatientInEveryCentresGeometryGivesTheSameCrops) {
  // One synthetic body written with centre A's (sagittal), B's (oblique axial, 24 and 7 degrees)
  // and C's (sagittal, rows posterior -> anterior) grid, spacing and matrix; the appearance
  // (contrast, bias, noise) of A for all three so that only the geometry differs.
  data::SynthOptions o;
  o.patients = 40;
  o.images = false;
  const auto centres = data::center_profiles(3, "auto");
  const auto patients = data::synth_biology(o, centres);
  const data::SynthPatient* p = nullptr;
  for (const auto& q : patients)
    if (!p || q.size_cm > p->size_cm) p = &q;  // the largest tumour: many planes across it
  ASSERT_NE(p, nullptr);
  std::vector<PatientSample> sag, acq;
  PreprocessParams ps, pa;
  pa.frame = Frame::kAcquisition;
  for (int c = 0; c < 3; ++c) {
    data::CenterProfile prof = centres[0];
    prof.spacing_mm = centres[c].spacing_mm, prof.slice_mm = centres[c].slice_mm;
    prof.matrix = centres[c].matrix, prof.direction_lps = centres[c].direction_lps, prof.oblique = centres[c].oblique;
    prof.noise = 0;
    const auto im = data::synth_images(*p, prof, data::SynthSize::kFull);
    sag.push_back(preprocess(im.image, im.mask, ps));
    acq.push_back(preprocess(im.image, im.mask, pa));
  }
  for (int c = 1; c < 3; ++c) {
    const double r_sag = pearson(sag[0].tumour.data, sag[c].tumour.data);
    // The context over the pixels both volumes cover: B's 24 planes 4.5 mm apart (a 108 mm
    // slab, oblique) leave part of the 102 mm sagittal context crop outside the image, where
    // it holds the padding value (the clip's low end).
    std::vector<float> ctx_a, ctx_c;
    const float pad_a = sag[0].stats.apply(float(sag[0].stats.clip_low)), pad_c = sag[c].stats.apply(float(sag[c].stats.clip_low));
    for (std::size_t i = 0; i < sag[0].context.data.size(); ++i)
      if (sag[0].context.data[i] > pad_a + 1e-4f && sag[c].context.data[i] > pad_c + 1e-4f)
        ctx_a.push_back(sag[0].context.data[i]), ctx_c.push_back(sag[c].context.data[i]);
    EXPECT_GT(ctx_a.size(), sag[0].context.data.size() / 2) << "centre " << c;
    const double r_ctx = pearson(ctx_a, ctx_c);
    const double r_acq = pearson(acq[0].tumour.data, acq[c].tumour.data);
    std::printf("centre %c geometry: tumour crop r = %.3f (sagittal frame) vs %.3f (acquisition); context r = %.3f\n",
                'A' + c, r_sag, r_acq, r_ctx);
    EXPECT_GT(r_sag, 0.9) << "centre " << c;
    // B's planes are 4.5 mm apart along superior-inferior (A: 0.75 mm): coarser.
    EXPECT_GT(r_ctx, 0.85) << "centre " << c;
    EXPECT_GT(r_sag, r_acq + 0.1) << "centre " << c;
    // The crop centres agree in the world within a few mm (the mask is resampled differently).
    double d2 = 0;
    for (int r = 0; r < 3; ++r) d2 += std::pow(sag[0].tumour.box.centre_lps_mm[r] - sag[c].tumour.box.centre_lps_mm[r], 2);
    EXPECT_LT(std::sqrt(d2), 4.0) << "centre " << c;
  }
}

// preprocess.mask_channel: the mask planes are the mask sampled on the image planes' pixels.
TEST(ImagingCanonical, MaskChannelIsTheMaskOnTheCropPlanes) {
  auto [image, mask] = canonical_phantom(0.8, 4.0);
  for (Frame frame : {Frame::kSagittal, Frame::kAcquisition}) {
    SCOPED_TRACE(frame_name(frame));
    PreprocessParams p;
    p.frame = frame;
    p.tumour_fov_mm = 40, p.context_fov_mm = 60;
    p.tumour_size_px = 50;  // 0.8 mm pixels: the lattice of the phantom
    const PatientSample plain = preprocess(image, mask, p);
    EXPECT_TRUE(plain.tumour.mask.empty());
    EXPECT_EQ(plain.tumour.input_channels(), 3);
    EXPECT_EQ(p.canonical().find("mask_channel"), std::string::npos);  // old cache keys unchanged
    p.mask_channel = true;
    EXPECT_NE(p.canonical().find("mask_channel=1"), std::string::npos);
    const PatientSample s = preprocess(image, mask, p);
    // The image planes are untouched by the option.
    EXPECT_EQ(s.tumour.data, plain.tumour.data);
    EXPECT_EQ(s.context.data, plain.context.data);
    for (const Crop* c : {&s.tumour, &s.context}) {
      ASSERT_EQ(c->mask.size(), c->data.size());
      EXPECT_EQ(c->input_channels(), 2 * c->channels);
      for (float m : c->mask) ASSERT_TRUE(m >= 0.f && m <= 1.f) << m;
    }
    // Centre plane: the mask's area in the crop is the tumour's area on that slice, counted by
    // hand on the phantom's voxels (0.8 x 0.8 mm, the crop's pixel size).
    const int ch = s.tumour.channels / 2, n = s.tumour.width;
    double area = 0;
    for (int i = 0; i < n * n; ++i) area += s.tumour.mask[static_cast<std::size_t>(ch * n * n + i)];
    area *= s.tumour.box.pixel_mm * s.tumour.box.pixel_mm;
    std::int64_t voxels = 0;
    const auto& sh = mask.geometry.shape;
    for (std::int64_t j = 0; j < sh[1]; ++j)
      for (std::int64_t i = 0; i < sh[0]; ++i) voxels += mask.at(i, j, s.slice_index) > 0.5f;
    EXPECT_NEAR(area, voxels * 0.64, 0.03 * voxels * 0.64);
    // Pixel by pixel: where the crop pixel's nearest voxel is well inside (all neighbours in)
    // the mask plane is 1, well outside 0.
    int checked = 0;
    for (int y = 0; y < n; ++y)
      for (int x = 0; x < n; ++x) {
        const auto ijk = s.tumour.box.pixel_to_index(image.geometry, x, y);
        const std::int64_t i = std::llround(ijk[0]), j = std::llround(ijk[1]);
        if (i < 1 || j < 1 || i >= sh[0] - 1 || j >= sh[1] - 1) continue;
        int inside = 0;
        for (int dj = -1; dj <= 1; ++dj)
          for (int di = -1; di <= 1; ++di) inside += mask.at(i + di, j + dj, s.slice_index) > 0.5f;
        const float m = s.tumour.mask[static_cast<std::size_t>((ch * n + y) * n + x)];
        if (inside != 9 && inside != 0) continue;
        EXPECT_NEAR(m, inside == 9 ? 1.f : 0.f, 1e-4) << x << "," << y;
        ++checked;
      }
    EXPECT_GT(checked, n * n / 2);
    // Augmentation moves the mask with the image and leaves its values alone.
    Crop c = s.tumour;
    AugmentDraw d;
    d.gain = 2, d.offset = 0.5, d.flip = true;
    apply_augment(c, d, frame);
    Crop img_only = plain.tumour;
    apply_augment(img_only, d, frame);
    EXPECT_EQ(c.data, img_only.data);
    Crop as_image = s.tumour;  // the mask planes as if they were image planes, with no gain
    as_image.data = s.tumour.mask;
    as_image.mask.clear();
    AugmentDraw geometry_only = d;
    geometry_only.gain = 1, geometry_only.offset = 0;
    apply_augment(as_image, geometry_only, frame);
    EXPECT_EQ(c.mask, as_image.data);
    // A rotation keeps the mask's area (the tumour stays inside the crop).
    Crop r = s.tumour;
    AugmentDraw rot;
    rot.angle_rad = 0.3;
    apply_augment(r, rot, frame);
    double rotated = 0;
    for (int i = 0; i < n * n; ++i) rotated += r.mask[static_cast<std::size_t>(ch * n * n + i)];
    EXPECT_NEAR(rotated * s.tumour.box.pixel_mm * s.tumour.box.pixel_mm, area, 0.03 * area);
  }
}

TEST(Imaging, CacheKeepsTheMaskPlanes) {
  TempDir dir("cache-mask");
  std::vector<PatientInput> pts = {{"P0", idata("phantom.nii.gz"), idata("phantom_mask.nii.gz"), {}}};
  PreprocessParams p;
  CohortStats st;
  preprocess_cohort(pts, p, 1, dir / "cache", &st);
  p.mask_channel = true;  // another key: computed, not the plain entry
  const auto a = preprocess_cohort(pts, p, 1, dir / "cache", &st);
  EXPECT_EQ(st.computed, 1);
  const auto b = preprocess_cohort(pts, p, 1, dir / "cache", &st);
  EXPECT_EQ(st.cache_hits, 1);
  ASSERT_FALSE(a[0].tumour.mask.empty());
  EXPECT_EQ(b[0].tumour.mask, a[0].tumour.mask);
  EXPECT_EQ(b[0].context.mask, a[0].context.mask);
  EXPECT_EQ(b[0].tumour.data, a[0].tumour.data);
  p.mask_channel = false;
  const auto c = preprocess_cohort(pts, p, 1, dir / "cache", &st);
  EXPECT_EQ(st.cache_hits, 1);
  EXPECT_TRUE(c[0].tumour.mask.empty());
}
