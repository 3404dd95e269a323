// DICOM series via GDCM against pydicom/numpy goldens (scripts/make_dicom_goldens.py): every
// transfer syntax of MR_small decodes to the same pixels, series grouping and splitting,
// slice order by position, spacing checks, enhanced multi-frame geometry, MONOCHROME1,
// GB18030 descriptions, clear errors for mosaics and truncated files.
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "core/error.h"
#include "io/dicom.h"
#include "io_golden.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace cervirisk;
using cervirisk::testing::io_data;
using cervirisk::testing::io_goldens;
using cervirisk::testing::TempDir;

namespace {
const nlohmann::json& golden(const std::string& file) {
  for (const auto& g : io_goldens()["dicom"])
    if (g["file"] == file) return g;
  throw std::runtime_error("no golden for " + file);
}

void gunzip_to(const fs::path& gz, const fs::path& out) {
  gzFile g = gzopen(gz.string().c_str(), "rb");
  std::ofstream f(out, std::ios::binary);
  char buf[65536];
  int n;
  while ((n = gzread(g, buf, sizeof buf)) > 0) f.write(buf, n);
  gzclose(g);
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
}  // namespace

TEST(Dicom, EveryTransferSyntaxOfMrSmallMatchesPydicom) {
  int n = 0;
  for (const auto& g : io_goldens()["dicom"]) {
    std::string file = g["file"];
    if (file.rfind("dicom/MR_small", 0) != 0) continue;
    io::Volume v = io::read_dicom(io_data(file));
    cervirisk::testing::expect_matches_golden(v, g, file + " (" + g["transfer_syntax"].get<std::string>() + ")");
    EXPECT_EQ(v.metadata["format"], "dicom");
    ++n;
  }
  EXPECT_EQ(n, 7);  // explicit LE, implicit, explicit BE (x2), RLE, JPEG-LS, JPEG 2000
}

TEST(Dicom, FolderWithManySeriesIsGroupedAndSplit) {
  auto all = io::list_dicom_series(io_data("dicomdirtests"));
  int readable = 0, localizers = 0, derived = 0, split = 0;
  const io::DicomSeriesInfo* ct5n = nullptr;
  const io::DicomSeriesInfo* gap = nullptr;
  for (const auto& s : all) {
    if (s.skip_reason.empty() && s.exclude_reason.empty()) ++readable;
    if (s.exclude_reason == "localizer") ++localizers;
    if (s.exclude_reason.rfind("derived", 0) == 0) ++derived;
    if (!s.split_key.empty()) ++split;
    if (s.description == "SmartScore - Gated 0.5 sec") ct5n = &s;
    if (s.description == "Routine Brain") gap = &s;
  }
  EXPECT_EQ(readable, 1);
  EXPECT_EQ(localizers, 12);  // MR FAST LOCALIZER x4, CT Scout x2, MR pilots x6 (split by orientation)
  EXPECT_GE(derived, 8);       // CR radiographs and the MR angio projections
  EXPECT_GE(split, 8);         // one SeriesInstanceUID holding several orientations -> split
  ASSERT_NE(ct5n, nullptr);
  ASSERT_NE(gap, nullptr);
  // "Routine Brain": 4 slices, one 202.5 mm away from the others -> named, not read
  EXPECT_NE(gap->skip_reason.find("non-uniform slice spacing: gap of 202.500000 mm"), std::string::npos) << gap->skip_reason;
  // the only candidate is chosen automatically; its files are sorted by position, not by name
  io::Volume v = io::read_dicom(io_data("dicomdirtests"));
  const auto& g = golden("dicomdirtests/98892001/CT5N");
  cervirisk::testing::expect_matches_golden(v, g, "CT5N");
  ASSERT_EQ(ct5n->files.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(ct5n->files[i].filename().string(), g["sorted_files"][i].get<std::string>());
  EXPECT_NEAR(v.geometry.spacing_mm[2], 2.5, 1e-4);  // from positions
}

TEST(Dicom, ShuffledSeriesSortsByPositionAndRescales) {
  const auto& g = golden("dicom_derived/series_a");
  io::Volume v = io::read_dicom(io_data("dicom_derived/series_a"));
  cervirisk::testing::expect_matches_golden(v, g, "series_a");
  EXPECT_NEAR(v.geometry.spacing_mm[2], 2.5, 1e-6);  // SliceThickness says 0.8: positions win
}

TEST(Dicom, Monochrome1IsInverted) {
  const auto& g = golden("dicom_derived/mono1");
  cervirisk::testing::expect_matches_golden(io::read_dicom(io_data("dicom_derived/mono1")), g, "mono1");
}

TEST(Dicom, SeriesChosenByPatternOrUidAndGb18030Description) {
  // three series in one folder: the choice is ambiguous without a pattern
  try {
    io::read_dicom(io_data("dicom_derived"));
    FAIL();
  } catch (const InputError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("3 DICOM series"), std::string::npos) << m;
    EXPECT_NE(m.find("AX T2 shuffled"), std::string::npos) << m;
  }
  auto all = io::list_dicom_series(io_data("dicom_derived"));
  bool found = false;
  for (const auto& s : all)
    if (s.description == golden("dicom_derived/gb18030")["description"].get<std::string>()) found = true;
  EXPECT_TRUE(found) << "GB18030 SeriesDescription not decoded to UTF-8";
  io::DicomReadOptions o;
  o.series_pattern = "盆腔";
  cervirisk::testing::expect_matches_golden(io::read_dicom(io_data("dicom_derived"), o), golden("dicom_derived/gb18030"), "gb");
  o.series_pattern = "t2 shuff";  // case-insensitive
  EXPECT_EQ(io::read_dicom(io_data("dicom_derived"), o).geometry.shape[2], 3);
  o = {};
  o.series_uid = golden("dicom_derived/mono1")["series_uid"];
  EXPECT_EQ(io::read_dicom(io_data("dicom_derived"), o).metadata["description"], "mono1");
  o = {};
  o.series_pattern = "no such series";
  EXPECT_THROW(io::read_dicom(io_data("dicom_derived"), o), InputError);
}

TEST(Dicom, EnhancedMultiFrameGeometryFromPerFrameGroups) {
  TempDir dir("mf");
  gunzip_to(io_data("philips_mprage.dcm.gz"), dir / "philips.dcm");
  const auto& g = golden("philips_mprage.dcm.gz");
  io::Volume v = io::read_dicom(dir / "philips.dcm");
  cervirisk::testing::expect_matches_golden(v, g, "philips_mprage");
  EXPECT_NEAR(v.geometry.spacing_mm[2], 1.0, 1e-4);
}

TEST(Dicom, MosaicIsRefusedWithTheReason) {
  TempDir dir("mosaic");
  gunzip_to(io_data("siemens_dwi_0.dcm.gz"), dir / "dwi.dcm");
  try {
    io::read_dicom(dir / "dwi.dcm");
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_EQ(e.exit_code(), 4);
    EXPECT_NE(std::string(e.what()).find("Siemens mosaic"), std::string::npos) << e.what();
  }
}

TEST(Dicom, SameUidSamePositionIsADuplicate) {
  // the seven MR_small variants share their SeriesInstanceUID and position
  auto all = io::list_dicom_series(io_data("dicom"));
  ASSERT_EQ(all.size(), 1u);
  EXPECT_NE(all[0].skip_reason.find("duplicate slice position"), std::string::npos) << all[0].skip_reason;
}

TEST(Dicom, TruncatedAndCorruptFilesGiveFormatError) {
  TempDir dir("trunc");
  try {
    io::read_dicom(io_data("dicom_truncated_MR.dcm"));
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("dicom_truncated_MR.dcm"), std::string::npos) << e.what();
  }
  for (const char* src : {"dicom/MR_small.dcm", "dicom/MR_small_RLE.dcm", "dicom/MR_small_jpeg_ls_lossless.dcm",
                          "dicom/MR_small_jp2klossless.dcm", "dicom/MR_small_bigendian.dcm"}) {
    std::string raw = slurp(io_data(src));
    for (std::size_t cut : {std::size_t{0}, std::size_t{64}, std::size_t{200}, std::size_t{700}, raw.size() / 2,
                            raw.size() - 100, raw.size() - 1}) {
      fs::path p = dir / "cut.dcm";
      {
        std::ofstream f(p, std::ios::binary);
        f.write(raw.data(), static_cast<std::streamsize>(cut));
      }
      SCOPED_TRACE(std::string(src) + " cut at " + std::to_string(cut));
      try {
        io::read_dicom(p);
        ADD_FAILURE() << "read a truncated file without error";
      } catch (const FormatError& e) {
        EXPECT_NE(std::string(e.what()).find("cut.dcm"), std::string::npos) << e.what();
      } catch (const InputError& e) {
        ADD_FAILURE() << "InputError instead of FormatError: " << e.what();
      }
    }
  }
}

// Deflated Explicit VR Little Endian (pydicom wrote MR_small.dcm so): the same voxels as the
// original; GDCM parses the inflated data set with assertions on, so a damaged stream must be
// refused by the structure check first (found by fuzzing), naming the file.
TEST(Dicom, DeflatedDataSetReadsLikeTheOriginalAndADamagedOneIsRefused) {
  const io::Volume plain = io::read_dicom(io_data("dicom/MR_small.dcm"));
  const io::Volume deflated = io::read_dicom(io_data("dicom_deflate/MR_small_deflate.dcm"));
  EXPECT_EQ(deflated.voxels, plain.voxels);
  EXPECT_TRUE(deflated.geometry.same_grid(plain.geometry));
  TempDir dir("deflate");
  const std::string raw = slurp(io_data("dicom_deflate/MR_small_deflate.dcm"));
  for (std::size_t cut : {raw.size() - 1, raw.size() - 40, raw.size() / 2, std::size_t{400}}) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    const fs::path p = dir / "deflate_cut.dcm";
    {
      std::ofstream f(p, std::ios::binary);
      f.write(raw.data(), static_cast<std::streamsize>(cut));
    }
    try {
      io::read_dicom(p);
      ADD_FAILURE() << "read a truncated deflated file without error";
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find("deflate_cut.dcm"), std::string::npos) << e.what();
    }
  }
}

TEST(Dicom, MissingPathIsInputError) {
  EXPECT_THROW(io::read_dicom("/nonexistent/dicom"), InputError);
}

// Flipped bytes anywhere in the header or the pixel data: a result or a FormatError, never a
// crash (Debian's GDCM aborts on some malformed input: the structure check must catch them).
TEST(Dicom, FlippedBytesNeverCrash) {
  TempDir dir("flip");
  std::mt19937_64 rng(5);
  int errors = 0, total = 0;
  for (const char* src : {"dicom/MR_small.dcm", "dicom/MR_small_implicit.dcm", "dicom/MR_small_RLE.dcm",
                          "dicom/MR_small_bigendian.dcm", "dicom/MR_small_jpeg_ls_lossless.dcm",
                          "dicom/MR_small_jp2klossless.dcm"}) {
    std::string raw = slurp(io_data(src));
    for (int t = 0; t < 60; ++t) {
      std::string bad = raw;
      std::size_t off = t % 3 == 0 ? rng() % raw.size() : 128 + rng() % 1500;
      bad[off] = static_cast<char>(bad[off] ^ static_cast<char>(1 + rng() % 255));
      {
        std::ofstream f(dir / "f.dcm", std::ios::binary);
        f.write(bad.data(), static_cast<std::streamsize>(bad.size()));
      }
      ++total;
      try {
        io::read_dicom(dir / "f.dcm");
      } catch (const FormatError&) {
        ++errors;
      } catch (const InputError&) {
        ++errors;  // e.g. a flipped byte in the series UID still leaves one series: never here
      }
    }
  }
  EXPECT_GT(errors, total / 20);
}

#include "cli_run.h"

TEST(DicomCli, InspectFolderWithSeveralSeriesListsThem) {
  auto r = cervirisk::testing::run_cli("inspect " + io_data("dicom_derived") + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(r.out);
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"path", "format", "series"}));
  ASSERT_EQ(j["series"].size(), 3u);
  const auto& s0 = j["series"][0];
  std::vector<std::string> sk;
  for (auto it = s0.begin(); it != s0.end(); ++it) sk.push_back(it.key());
  EXPECT_EQ(sk, (std::vector<std::string>{"series_uid", "description", "n_slices", "shape", "spacing_mm", "affine_ras",
                                          "origin_lps_mm", "direction_lps", "dtype", "min", "max", "mean"}));
  bool found = false;
  for (const auto& s : j["series"])
    if (s["description"] == "AX T2 shuffled") {
      found = true;
      EXPECT_EQ(s["n_slices"], 3);
      EXPECT_EQ(s["dtype"], "int16");
      const auto& g = golden("dicom_derived/series_a");
      for (int a = 0; a < 4; ++a)
        for (int c = 0; c < 4; ++c)
          EXPECT_NEAR(s["affine_ras"][a][c].get<double>(), g["affine_ras"][a][c].get<double>(), 1e-4);
      EXPECT_DOUBLE_EQ(s["min"].get<double>(), g["min"].get<double>());
    }
  EXPECT_TRUE(found);
  // a single series: the plain object
  auto one = cervirisk::testing::run_cli("inspect " + io_data("dicom/MR_small_RLE.dcm") + " --json");
  ASSERT_EQ(one.code, 0) << one.err;
  EXPECT_EQ(nlohmann::ordered_json::parse(one.out)["format"], "dicom");
  EXPECT_EQ(nlohmann::ordered_json::parse(one.out)["shape"], nlohmann::ordered_json::parse("[64,64,1]"));
  // MR_small's PatientName is "CompressedSamples^MR1": never in outputs or logs
  auto text = cervirisk::testing::run_cli("-v inspect " + io_data("dicom/MR_small_RLE.dcm"));
  EXPECT_EQ(text.code, 0);
  for (const std::string& s : {one.out, one.err, text.out, text.err}) EXPECT_EQ(s.find("CompressedSamples"), std::string::npos) << s;
  // a mosaic: exit 4 naming the reason
  TempDir dir("climosaic");
  gunzip_to(io_data("siemens_dwi_0.dcm.gz"), dir / "dwi.dcm");
  auto m = cervirisk::testing::run_cli("inspect " + (dir / "dwi.dcm").string());
  EXPECT_EQ(m.code, 4);
  EXPECT_NE(m.err.find("Siemens mosaic"), std::string::npos) << m.err;
}

TEST(Dicom, EchoesOfOneSeriesAreSplit) {
  auto all = io::list_dicom_series(io_data("dicom_echoes"));
  ASSERT_EQ(all.size(), 2u);
  for (const auto& s : all) {
    EXPECT_TRUE(s.skip_reason.empty()) << s.skip_reason;
    EXPECT_EQ(s.n_slices, 2);
    EXPECT_NE(s.split_key.find("echo"), std::string::npos) << s.split_key;
    EXPECT_NEAR(s.geometry.spacing_mm[2], 3.0, 1e-4);
  }
  EXPECT_NE(all[0].split_key, all[1].split_key);
  // the two echoes differ by a factor of 2 in intensity (echo 2 = echo 1 // 2)
  io::Volume e1 = io::read_dicom_series(all[0].split_key.find("echo 1") != std::string::npos ? all[0] : all[1]);
  io::Volume e2 = io::read_dicom_series(all[0].split_key.find("echo 1") != std::string::npos ? all[1] : all[0]);
  EXPECT_EQ(e2.at(10, 20, 1), std::floor(e1.at(10, 20, 1) / 2));
  // read_dicom on the folder: two candidates, ambiguous
  EXPECT_THROW(io::read_dicom(io_data("dicom_echoes")), InputError);
}
