// NIfTI reader/writer against nibabel's goldens (scripts/make_io_goldens.py) on files that
// other tools wrote, round trips, robustness against truncated / corrupted files.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "core/error.h"
#include "io/mask.h"
#include "io/nifti.h"
#include "io_golden.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace cervirisk;
using cervirisk::testing::io_data;
using cervirisk::testing::io_goldens;
using cervirisk::testing::TempDir;

namespace {
std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void spit(const fs::path& p, const std::string& s) {
  std::ofstream f(p, std::ios::binary);
  f.write(s.data(), static_cast<std::streamsize>(s.size()));
}

// Uncompressed bytes of a (possibly gzipped) file, via our own writer's counterpart: zlib.
std::string gunzip(const fs::path& p);

}  // namespace

#include <zlib.h>
namespace {
std::string gunzip(const fs::path& p) {
  gzFile g = gzopen(p.string().c_str(), "rb");
  std::string out;
  char buf[65536];
  int n;
  while ((n = gzread(g, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  gzclose(g);
  return out;
}
}  // namespace

TEST(Nifti, EveryGoldenFileMatchesNibabel) {
  const auto& g = io_goldens();
  ASSERT_GE(g["nifti"].size(), 20u);
  for (const auto& f : g["nifti"]) {
    io::NiftiReadOptions opt;
    opt.volume_index = f["volume_index"].get<std::int64_t>();
    io::Volume v = io::read_nifti(io_data(f["file"].get<std::string>()), opt);
    cervirisk::testing::expect_matches_golden(v, f, f["file"].get<std::string>());
    EXPECT_EQ(v.metadata["datatype"], f["dtype"].get<std::string>()) << f["file"];
    EXPECT_EQ(v.metadata["byte_order"], f["byte_order"].get<std::string>()) << f["file"];
    EXPECT_EQ(v.metadata["sform_code"], std::to_string(f["sform_code"].get<int>()));
    for (int a = 0; a < 3; ++a) EXPECT_NEAR(v.geometry.spacing_mm[a], f["zooms"][a].get<double>(), 1e-5);
  }
}

// The zlib streaming reader and the libdeflate whole-buffer path give identical volumes.
TEST(Nifti, ZlibAndFastInflateAgree) {
  for (const auto& f : io_goldens()["nifti"]) {
    std::string name = f["file"];
    if (name.size() < 3 || name.substr(name.size() - 3) != ".gz") continue;
    io::NiftiReadOptions opt;
    opt.volume_index = f["volume_index"].get<std::int64_t>();
    io::set_nifti_fast_inflate(false);
    io::Volume a = io::read_nifti(io_data(name), opt);
    io::set_nifti_fast_inflate(true);
    io::Volume b = io::read_nifti(io_data(name), opt);
    EXPECT_EQ(a.voxels, b.voxels) << name;
    EXPECT_TRUE(a.geometry.same_grid(b.geometry, 0.0)) << name;
    cervirisk::testing::expect_matches_golden(a, f, name + " (zlib)");
  }
}

TEST(Nifti, AffineSourceFollowsCodes) {
  EXPECT_EQ(io::read_nifti(io_data("derived/sform_wins.nii.gz")).metadata["affine_source"], "sform");
  EXPECT_EQ(io::read_nifti(io_data("derived/qform_only_lefthanded.nii")).metadata["affine_source"], "qform");
  EXPECT_EQ(io::read_nifti(io_data("derived/pixdim_only.nii")).metadata["affine_source"], "pixdim");
  io::NiftiInfo info = io::read_nifti_info(io_data("anatomical.nii"));
  EXPECT_TRUE(info.big_endian);
  EXPECT_EQ(info.version, 1);
  EXPECT_EQ(io::read_nifti_info(io_data("example_nifti2.nii.gz")).version, 2);
}

TEST(Nifti, FourDimensionalVolumeIndex) {
  io::NiftiReadOptions opt;
  opt.volume_index = 2;
  try {
    io::read_nifti(io_data("derived/fourd.nii.gz"), opt);
    FAIL() << "expected an error";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("has 2 volume(s); volume index 2 is out of range"), std::string::npos) << e.what();
  }
}

// Flipping any axis (with the affine adjusted) leaves the world content unchanged: world
// lookups agree, and a reader that ignored the affine's sign would fail.
TEST(Nifti, FlippedAxesGiveSameWorldContent) {
  io::Volume ref = io::read_nifti(io_data("derived/flip_none.nii.gz"));
  for (int ax = 0; ax < 3; ++ax) {
    io::Volume f = io::read_nifti(io_data("derived/flip_axis" + std::to_string(ax) + ".nii.gz"));
    EXPECT_NE(f.voxels, ref.voxels) << "axis " << ax;  // the stored order differs...
    const auto& s = ref.geometry.shape;
    for (std::int64_t k = 0; k < s[2]; ++k)
      for (std::int64_t j = 0; j < s[1]; ++j)
        for (std::int64_t i = 0; i < s[0]; ++i) {
          io::Vec3 w = ref.geometry.index_to_lps({double(i), double(j), double(k)});
          io::Vec3 q = f.geometry.lps_to_index(w);
          std::int64_t fi = std::llround(q[0]), fj = std::llround(q[1]), fk = std::llround(q[2]);
          ASSERT_NEAR(q[0], fi, 1e-3);
          ASSERT_NEAR(q[1], fj, 1e-3);
          ASSERT_NEAR(q[2], fk, 1e-3);
          ASSERT_EQ(f.at(fi, fj, fk), ref.at(i, j, k));  // ...the world content does not
        }
    // resample_nearest onto the reference grid reproduces the reference exactly
    io::Volume r = io::resample_nearest(f, ref.geometry);
    EXPECT_EQ(r.voxels, ref.voxels);
  }
}

TEST(Nifti, WriteReadRoundTripKeepsAffineAndValues) {
  TempDir dir("rt");
  for (const char* src : {"example4d.nii.gz", "derived/qform_only_lefthanded.nii", "anatomical.nii",
                          "derived/sform_wins.nii.gz"}) {
    io::Volume v = io::read_nifti(io_data(src));
    for (auto [dt, name] : {std::pair{io::NiftiDtype::kFloat32, "f.nii.gz"}, {io::NiftiDtype::kInt16, "i.nii"}}) {
      fs::path out = dir / name;
      io::write_nifti(v, out, dt);
      io::Volume back = io::read_nifti(out);
      EXPECT_EQ(back.voxels, v.voxels) << src;
      EXPECT_EQ(back.metadata["sform_code"], "1");
      EXPECT_EQ(back.metadata["qform_code"], "1");
      EXPECT_TRUE(back.geometry.same_grid(v.geometry, 1e-4)) << src;
      // qform alone (sform cleared) must give the same geometry: qform = sform.
      std::string bytes = out.extension() == ".gz" ? gunzip(out) : slurp(out);
      bytes[254] = 0;
      bytes[255] = 0;
      spit(dir / "q.nii", bytes);
      io::Volume q = io::read_nifti(dir / "q.nii");
      EXPECT_EQ(q.metadata["affine_source"], "qform");
      EXPECT_TRUE(q.geometry.same_grid(v.geometry, 1e-3)) << src;
    }
  }
  io::Volume m = io::read_nifti(io_data("standard.nii.gz"));
  io::write_nifti(m, dir / "u8.nii.gz", io::NiftiDtype::kUInt8);
  EXPECT_EQ(io::read_nifti(dir / "u8.nii.gz").voxels, m.voxels);
  EXPECT_EQ(io::read_nifti_info(dir / "u8.nii.gz").datatype, "uint8");
}

TEST(Nifti, WriterRejectsOutOfRangeValues) {
  io::Volume v;
  v.geometry.shape = {2, 1, 1};
  v.voxels = {1.0f, 300.0f};
  TempDir dir("range");
  try {
    io::write_nifti(v, dir / "x.nii", io::NiftiDtype::kUInt8);
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("value 300.000000 does not fit uint8"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir / "x.nii"));
}

TEST(Nifti, MissingFileIsInputError) {
  try {
    io::read_nifti("/nonexistent/x.nii.gz");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.exit_code(), 3);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/x.nii.gz"), std::string::npos);
  }
}

// Every test file cut at several offsets (inside the header, at its end, inside the data, one
// byte short) -> FormatError (exit 4) with a message naming the file; never a crash or hang.
TEST(Nifti, TruncatedFilesGiveFormatError) {
  TempDir dir("trunc");
  for (const char* src : {"anatomical.nii", "functional.nii", "example_nifti2.nii.gz", "example4d.nii.gz",
                          "standard.nii.gz", "derived/nifti2_scaled.nii"}) {
    std::string raw = slurp(io_data(src));
    bool gz = std::string(src).size() > 3 && std::string(src).substr(std::string(src).size() - 3) == ".gz";
    std::vector<std::size_t> cuts = {0, 3, 100, 347, 348, 352, 600, raw.size() / 2, raw.size() - 1};
    if (gz) cuts = {0, 5, 20, 60, raw.size() / 3, raw.size() / 2, raw.size() - 9, raw.size() - 1};
    for (std::size_t cut : cuts) {
      if (cut >= raw.size()) continue;
      fs::path p = dir / (std::string("t") + (gz ? ".nii.gz" : ".nii"));
      spit(p, raw.substr(0, cut));
      SCOPED_TRACE(std::string(src) + " cut at " + std::to_string(cut));
      try {
        io::read_nifti(p);
        ADD_FAILURE() << "read a truncated file without error";
      } catch (const FormatError& e) {
        EXPECT_EQ(e.exit_code(), 4);
        EXPECT_NE(std::string(e.what()).find(p.string()), std::string::npos) << e.what();
      }
    }
  }
}

TEST(Nifti, CorruptHeaderFieldsGiveFormatError) {
  TempDir dir("corrupt");
  std::string raw = slurp(io_data("anatomical.nii"));  // big-endian NIfTI-1
  struct Case {
    std::size_t offset;
    std::string expect;
  };
  // offsets of sizeof_hdr, dim[0], dim[1], datatype, bitpix, vox_offset, magic, qform_code
  for (const Case& c : {Case{0, "sizeof_hdr"}, Case{40, "dim[0]"}, Case{42, "dim[1]"}, Case{70, "datatype"},
                        Case{72, "bitpix"}, Case{108, "vox_offset"}, Case{344, "magic"}, Case{252, "qform_code"}}) {
    std::string bad = raw;
    bad[c.offset] = static_cast<char>(bad[c.offset] ^ 0xC1);
    fs::path p = dir / "bad.nii";
    spit(p, bad);
    SCOPED_TRACE(c.expect);
    try {
      io::read_nifti(p);
      FAIL() << "no error for a flipped " << c.expect;
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find(c.expect), std::string::npos) << e.what();
    }
  }
  // Random flips anywhere in the header: success or FormatError, nothing else.
  std::mt19937_64 rng(11);
  int errors = 0;
  for (int t = 0; t < 400; ++t) {
    std::string bad = raw;
    std::size_t off = rng() % 352;
    bad[off] = static_cast<char>(bad[off] ^ static_cast<char>(1 + rng() % 255));
    spit(dir / "r.nii", bad);
    try {
      io::read_nifti(dir / "r.nii");
    } catch (const FormatError&) {
      ++errors;
    }
  }
  EXPECT_GT(errors, 20);
}

TEST(Nifti, UnsupportedDatatypeNamesTheReason) {
  TempDir dir("dtype");
  std::string raw = slurp(io_data("derived/pixdim_only.nii"));  // little-endian
  raw[70] = 32;  // complex64
  raw[71] = 0;
  raw[72] = 64;
  spit(dir / "c.nii", raw);
  try {
    io::read_nifti(dir / "c.nii");
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("unsupported NIfTI datatype"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("complex64"), std::string::npos) << e.what();
  }
}

TEST(Nifti, MaskOnOtherGridIsResampledAndBadMasksAreValidationErrors) {
  TempDir dir("mask");
  io::Volume img = io::read_nifti(io_data("derived/flip_none.nii.gz"));
  io::Volume mask = img;
  for (auto& x : mask.voxels) x = 0;
  mask.at(3, 2, 1) = 1;
  mask.at(4, 2, 1) = 1;
  io::write_nifti(mask, dir / "same.nii.gz", io::NiftiDtype::kUInt8);
  io::Volume m = io::read_mask(dir / "same.nii.gz", img.geometry);
  EXPECT_EQ(m.voxels, mask.voxels);
  // the same mask stored with axis 0 flipped: resampled back onto the image grid exactly
  io::Volume fl = mask;
  fl.geometry = io::read_nifti(io_data("derived/flip_axis0.nii.gz")).geometry;
  for (std::int64_t k = 0; k < 4; ++k)
    for (std::int64_t j = 0; j < 5; ++j)
      for (std::int64_t i = 0; i < 7; ++i) fl.at(6 - i, j, k) = mask.at(i, j, k);
  io::write_nifti(fl, dir / "flipped.nii.gz", io::NiftiDtype::kUInt8);
  EXPECT_EQ(io::read_mask(dir / "flipped.nii.gz", img.geometry).voxels, mask.voxels);
  // empty
  io::Volume empty = mask;
  for (auto& x : empty.voxels) x = 0;
  io::write_nifti(empty, dir / "empty.nii.gz", io::NiftiDtype::kUInt8);
  try {
    io::read_mask(dir / "empty.nii.gz", img.geometry);
    FAIL();
  } catch (const ValidationError& e) {
    EXPECT_EQ(e.exit_code(), 5);
    EXPECT_NE(std::string(e.what()).find("is empty"), std::string::npos) << e.what();
  }
  // far away
  io::Volume far = mask;
  far.geometry.origin_lps_mm[2] += 500;
  io::write_nifti(far, dir / "far.nii.gz", io::NiftiDtype::kUInt8);
  try {
    io::read_mask(dir / "far.nii.gz", img.geometry);
    FAIL();
  } catch (const ValidationError& e) {
    EXPECT_NE(std::string(e.what()).find("does not overlap"), std::string::npos) << e.what();
  }
  // overlapping extents, but the mask voxels fall outside the image
  io::Volume edge = img;
  for (auto& x : edge.voxels) x = 0;
  edge.geometry.shape = {7, 5, 8};
  edge.voxels.assign(7 * 5 * 8, 0.0f);
  edge.at(3, 2, 7) = 1;
  io::write_nifti(edge, dir / "edge.nii.gz", io::NiftiDtype::kUInt8);
  try {
    io::read_mask(dir / "edge.nii.gz", img.geometry);
    FAIL();
  } catch (const ValidationError& e) {
    EXPECT_NE(std::string(e.what()).find("lies outside the image"), std::string::npos) << e.what();
  }
}

#include "cli_run.h"

// `cervirisk inspect PATH --json`: exactly one JSON object with the documented keys, in order,
// and nibabel's affine.
TEST(NiftiCli, InspectJsonIsExactlyTheDocumentedObject) {
  const auto* g = &io_goldens()["nifti"][0];
  ASSERT_EQ((*g)["file"], "example4d.nii.gz");
  auto r = cervirisk::testing::run_cli("inspect " + io_data("example4d.nii.gz") + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(r.out);
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"path", "format", "shape", "spacing_mm", "affine_ras", "origin_lps_mm",
                                            "direction_lps", "dtype", "min", "max", "mean"}));
  EXPECT_EQ(j["format"], "nifti");
  EXPECT_EQ(j["dtype"], "int16");
  EXPECT_EQ(j["shape"], nlohmann::ordered_json::parse("[128,96,24]"));
  for (int r2 = 0; r2 < 4; ++r2)
    for (int c = 0; c < 4; ++c)
      EXPECT_NEAR(j["affine_ras"][r2][c].get<double>(), (*g)["affine_ras"][r2][c].get<double>(), 1e-4);
  EXPECT_DOUBLE_EQ(j["max"].get<double>(), (*g)["max"].get<double>());
  EXPECT_NEAR(j["mean"].get<double>(), (*g)["mean"].get<double>(), 1e-6);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1);
  // readable summary without --json
  auto t = cervirisk::testing::run_cli("inspect " + io_data("anatomical.nii"));
  EXPECT_EQ(t.code, 0);
  EXPECT_NE(t.out.find("big-endian"), std::string::npos) << t.out;
}

TEST(NiftiCli, CorruptFileExitsFourWithMessage) {
  TempDir dir("cli");
  std::string raw = slurp(io_data("functional.nii"));
  spit(dir / "cut.nii", raw.substr(0, 1000));
  auto r = cervirisk::testing::run_cli("inspect " + (dir / "cut.nii").string() + " --json");
  EXPECT_EQ(r.code, 4);
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find("error: truncated NIfTI file"), std::string::npos) << r.err;
  auto m = cervirisk::testing::run_cli("inspect " + (dir / "missing.nii.gz").string());
  EXPECT_EQ(m.code, 3);
}
