// NRRD (teem) and MetaImage readers against files other tools wrote (tests/data/formats,
// scripts/make_format_fixtures.py): plastimatch's conversions of a NIfTI must give the NIfTI's
// geometry and voxels through our NIfTI reader; 3D Slicer segmentation layouts; robustness
// against truncated, malformed and randomly corrupted files (an Error with an exit code, never
// a crash or a huge allocation).
#include <gtest/gtest.h>

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>

#include "core/error.h"
#include "io/metaimage.h"
#include "io/nifti.h"
#include "io/nrrd.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace cervirisk;
using cervirisk::testing::error_message;
using cervirisk::testing::TempDir;
using cervirisk::testing::thrown_by;

namespace {

std::string fx(const std::string& name) { return std::string(CERV_TEST_DATA) + "/formats/" + name; }

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

const io::Volume& nifti_t2() {
  static io::Volume v = io::read_nifti(fx("oblique_t2.nii.gz"));
  return v;
}
const io::Volume& nifti_mask() {
  static io::Volume v = io::read_nifti(fx("oblique_mask.nii.gz"));
  return v;
}

// Same grid as the reference to 1e-4 mm at the 8 corners, same spacing and direction.
void expect_same_geometry(const io::Geometry& g, const io::Geometry& ref, const std::string& what) {
  SCOPED_TRACE(what);
  for (int a = 0; a < 3; ++a) ASSERT_EQ(g.shape[a], ref.shape[a]);
  for (int c = 0; c < 8; ++c) {
    io::Vec3 ijk{};
    for (int a = 0; a < 3; ++a) ijk[a] = (c >> a & 1) ? static_cast<double>(ref.shape[a] - 1) : 0.0;
    io::Vec3 p = g.index_to_lps(ijk), q = ref.index_to_lps(ijk);
    for (int r = 0; r < 3; ++r) EXPECT_NEAR(p[r], q[r], 1e-4) << "corner " << c << " coordinate " << r;
  }
  for (int a = 0; a < 3; ++a) {
    EXPECT_NEAR(g.spacing_mm[a], ref.spacing_mm[a], 1e-5) << a;
    for (int r = 0; r < 3; ++r) EXPECT_NEAR(g.direction_lps[r][a], ref.direction_lps[r][a], 1e-6) << r << "," << a;
  }
}

std::int64_t count_ones(const io::Volume& v) {
  return std::count(v.voxels.begin(), v.voxels.end(), 1.0f);
}

}  // namespace

TEST(FormatPaths, NrrdAndMetaImageNames) {
  EXPECT_TRUE(io::is_nrrd_path("a/b.nrrd"));
  EXPECT_TRUE(io::is_nrrd_path("a/B.NRRD"));
  EXPECT_TRUE(io::is_nrrd_path("x.seg.nrrd"));
  EXPECT_TRUE(io::is_nrrd_path("x.NHDR"));
  EXPECT_FALSE(io::is_nrrd_path("x.nrrd.gz"));
  EXPECT_FALSE(io::is_nrrd_path("x.nii.gz"));
  EXPECT_TRUE(io::is_metaimage_path("x.mha"));
  EXPECT_TRUE(io::is_metaimage_path("x.MHD"));
  EXPECT_FALSE(io::is_metaimage_path("x.raw"));
  EXPECT_FALSE(io::is_metaimage_path("mha"));
}

// plastimatch (ITK) wrote these from oblique_t2.nii.gz; nibabel wrote the NIfTI.
TEST(Nrrd, PlastimatchAndHandWrittenFilesMatchTheNifti) {
  const io::Volume& ref = nifti_t2();
  for (const char* name : {"t2_plastimatch.nrrd", "t2_detached.nhdr"}) {
    io::Volume v = io::read_nrrd(fx(name));
    expect_same_geometry(v.geometry, ref.geometry, name);
    EXPECT_EQ(v.voxels, ref.voxels) << name;
    EXPECT_EQ(v.metadata["format"], "nrrd");
    EXPECT_EQ(v.metadata["type"], "short");
    EXPECT_EQ(v.metadata["encoding"], "gzip");
    EXPECT_EQ(v.metadata["space"], "left-posterior-superior");
    EXPECT_EQ(v.metadata["dims"], "40x36x12");
    EXPECT_EQ(v.metadata.count("geometry_warning"), 0u);
  }
}

TEST(Nrrd, MasksInEveryEncodingAndSpaceMatchTheNifti) {
  const io::Volume& ref = nifti_mask();
  ASSERT_GT(count_ones(ref), 100);
  // gzip LPS (plastimatch), detached raw, attached raw big-endian int16 in RAS space (values 0/7)
  for (const char* name : {"mask_plastimatch.nrrd", "mask_detached.nhdr", "mask_ras_raw.nrrd"}) {
    io::Volume m = io::read_nrrd_mask(fx(name), "");
    expect_same_geometry(m.geometry, ref.geometry, name);
    EXPECT_EQ(m.voxels, ref.voxels) << name;
  }
  io::Volume ras = io::read_nrrd(fx("mask_ras_raw.nrrd"));
  EXPECT_EQ(ras.metadata["encoding"], "raw");
  EXPECT_EQ(ras.metadata["space"], "right-anterior-superior");
  EXPECT_EQ(*std::max_element(ras.voxels.begin(), ras.voxels.end()), 7.0f);
  // a label value on a plain label image
  io::Volume seven = io::read_nrrd_mask(fx("mask_ras_raw.nrrd"), "7");
  EXPECT_EQ(seven.voxels, ref.voxels);
}

TEST(MetaImage, PlastimatchAndHandWrittenFilesMatchTheNifti) {
  const io::Volume& ref = nifti_t2();
  for (const char* name : {"t2_plastimatch.mha", "t2_plastimatch.mhd", "t2_zraw.mhd"}) {
    io::Volume v = io::read_metaimage(fx(name));
    expect_same_geometry(v.geometry, ref.geometry, name);
    EXPECT_EQ(v.voxels, ref.voxels) << name;
    EXPECT_EQ(v.metadata["format"], "metaimage");
    EXPECT_EQ(v.metadata["element_type"], "MET_SHORT");
    EXPECT_EQ(v.metadata["anatomical_orientation"], "LPI");
  }
  EXPECT_EQ(io::read_metaimage(fx("t2_zraw.mhd")).metadata["compressed"], "true");
  EXPECT_EQ(io::read_metaimage(fx("t2_plastimatch.mha")).metadata["compressed"], "false");
}

// TransformMatrix order: the direction of axis c is at 3c..3c+2. A transposed reading would
// swap off-diagonal terms; the oblique fixture's are far from symmetric, so this pins it.
TEST(MetaImage, TransformMatrixHoldsDirectionColumns) {
  io::Volume v = io::read_metaimage(fx("t2_plastimatch.mha"));
  const auto& d = v.geometry.direction_lps;
  EXPECT_NEAR(d[0][0], -0.9396926208176406, 1e-12);
  EXPECT_NEAR(d[1][0], -0.3368240884389565, 1e-12);  // TransformMatrix[1]
  EXPECT_NEAR(d[0][1], 0.34202013446850377, 1e-12);  // TransformMatrix[3]
  EXPECT_GT(std::fabs(d[1][0] - d[0][1]), 0.5);
}

// ---------------------------------------------------------------- 3D Slicer segmentations
TEST(SegNrrd, SegmentsAreListedInOrder) {
  auto segs = io::nrrd_segments(fx("three_segments.seg.nrrd"));
  ASSERT_EQ(segs.size(), 3u);
  EXPECT_EQ(segs[0].name, "GTV");
  EXPECT_EQ(segs[0].id, "Segment_1");
  EXPECT_EQ(segs[0].label, 1);
  EXPECT_EQ(segs[1].name, "CTV ring");
  EXPECT_EQ(segs[1].label, 2);
  EXPECT_EQ(segs[2].name, "Bladder");
  EXPECT_EQ(segs[2].label, 3);
  auto over = io::nrrd_segments(fx("overlap.seg.nrrd"));
  ASSERT_EQ(over.size(), 3u);
  EXPECT_EQ(over[2].name, "GTV");
  EXPECT_EQ(over[2].label, 1);
  EXPECT_TRUE(io::nrrd_segments(fx("mask_plastimatch.nrrd")).empty());
}

TEST(SegNrrd, OneLayerChoiceByNameIdAndLabel) {
  const io::Volume& ref = nifti_mask();
  const std::string f = fx("three_segments.seg.nrrd");
  io::Volume gtv = io::read_nrrd_mask(f, "gtv");  // case-insensitive
  expect_same_geometry(gtv.geometry, ref.geometry, "gtv");
  EXPECT_EQ(gtv.voxels, ref.voxels);
  EXPECT_EQ(gtv.metadata["segment_name"], "GTV");
  EXPECT_EQ(io::read_nrrd_mask(f, "Segment_1").voxels, ref.voxels);  // by ID
  EXPECT_EQ(io::read_nrrd_mask(f, "1").voxels, ref.voxels);          // by label value
  io::Volume ring = io::read_nrrd_mask(f, "ctv RING");
  io::Volume bladder = io::read_nrrd_mask(f, "3");
  EXPECT_EQ(bladder.metadata["segment_name"], "Bladder");
  EXPECT_GT(count_ones(ring), 0);
  EXPECT_GT(count_ones(bladder), 0);
  for (std::size_t i = 0; i < ref.voxels.size(); ++i)  // one layer: segments are disjoint
    ASSERT_LE(ring.voxels[i] + gtv.voxels[i] + bladder.voxels[i], 1.0f) << i;
  // As an image, the one-layer file is its label map.
  io::Volume lab = io::read_nrrd(f);
  EXPECT_EQ(*std::max_element(lab.voxels.begin(), lab.voxels.end()), 3.0f);
}

TEST(SegNrrd, OverlappingSegmentsInTwoLayers) {
  const io::Volume& ref = nifti_mask();
  const std::string f = fx("overlap.seg.nrrd");
  io::Volume gtv = io::read_nrrd_mask(f, "GTV");  // layer 1, label 1
  io::Volume ctv = io::read_nrrd_mask(f, "ctv");  // layer 0, label 1
  io::Volume bladder = io::read_nrrd_mask(f, "Segment_2");  // layer 0, label 2
  EXPECT_EQ(gtv.metadata["segment_layer"], "1");
  EXPECT_EQ(ctv.metadata["segment_layer"], "0");
  EXPECT_EQ(bladder.metadata["segment_label"], "2");
  // The file is cropped to the segments: its grid differs, the world content does not.
  EXPECT_FALSE(gtv.geometry.same_grid(ref.geometry));
  EXPECT_EQ(io::resample_nearest(gtv, ref.geometry).voxels, ref.voxels);
  std::int64_t both = 0;
  for (std::size_t i = 0; i < gtv.voxels.size(); ++i) both += gtv.voxels[i] == 1.0f && ctv.voxels[i] == 1.0f;
  EXPECT_EQ(both, count_ones(gtv));  // the GTV lies inside the CTV: the overlap survives
  EXPECT_EQ(count_ones(gtv), count_ones(ref));
  // "1" is a label in both layers: ambiguous.
  EXPECT_NE(error_message([&] { io::read_nrrd_mask(f, "1"); }, ExitCode::kValidationFailed).find("2 segments match"),
            std::string::npos);
  // Not an image.
  EXPECT_NE(error_message([&] { io::read_nrrd(f); }, ExitCode::kCorruptInput).find("4D 3D Slicer segmentation"),
            std::string::npos);
}

TEST(SegNrrd, ChoiceErrorsListTheSegments) {
  const std::string f = fx("three_segments.seg.nrrd");
  std::string m = error_message([&] { io::read_nrrd_mask(f, "uterus"); }, ExitCode::kValidationFailed);
  EXPECT_NE(m.find("no segment named \"uterus\""), std::string::npos) << m;
  EXPECT_NE(m.find("GTV [1], CTV ring [2], Bladder [3]"), std::string::npos) << m;
  m = error_message([&] { io::read_nrrd_mask(f, ""); }, ExitCode::kValidationFailed);
  EXPECT_NE(m.find("holds 3 segments"), std::string::npos) << m;
  EXPECT_NE(m.find("GTV [1], CTV ring [2], Bladder [3]"), std::string::npos) << m;
  m = error_message([&] { io::read_nrrd_mask(f, "7"); }, ExitCode::kValidationFailed);
  EXPECT_NE(m.find("Bladder [3]"), std::string::npos) << m;
}

TEST(SegNrrd, PlainLabelImageSelectors) {
  const std::string f = fx("mask_plastimatch.nrrd");
  EXPECT_EQ(io::read_nrrd_mask(f, "1").voxels, nifti_mask().voxels);
  std::string m = error_message([&] { io::read_nrrd_mask(f, "GTV"); }, ExitCode::kValidationFailed);
  EXPECT_NE(m.find("without named segments"), std::string::npos) << m;
  m = error_message([&] { io::read_nrrd_mask(f, "5"); }, ExitCode::kValidationFailed);
  EXPECT_NE(m.find("label 5 does not occur"), std::string::npos) << m;
  EXPECT_NE(m.find("non-zero values present: 1"), std::string::npos) << m;
}

// ---------------------------------------------------------------- hand-made variants
namespace {
// A small NRRD header + raw little-endian int16 data 0..n-1 on a 4x3x2 grid.
std::string small_nrrd(const std::string& extra_fields, const std::string& sizes = "4 3 2", int dim = 3) {
  std::string h = "NRRD0004\ntype: short\ndimension: " + std::to_string(dim) + "\nsizes: " + sizes +
                  "\nendian: little\nencoding: raw\n" + extra_fields + "\n";
  std::int64_t n = 1;
  std::istringstream in(sizes);
  std::int64_t s;
  while (in >> s) n *= s;
  std::string data;
  for (std::int64_t i = 0; i < n; ++i) {
    std::int16_t v = static_cast<std::int16_t>(i);
    data.append(reinterpret_cast<const char*>(&v), 2);
  }
  return h + data;
}
const char* kLpsGeom =
    "space: left-posterior-superior\nspace directions: (2,0,0) (0,3,0) (0,0,4)\nspace origin: (1,2,3)\n";
}  // namespace

TEST(Nrrd, SpacesAndGeometryFallbacks) {
  TempDir dir("nrrdgeom");
  spit(dir / "lps.nrrd", small_nrrd(kLpsGeom));
  io::Volume v = io::read_nrrd(dir / "lps.nrrd");
  EXPECT_EQ(v.geometry.spacing_mm, (io::Vec3{2, 3, 4}));
  EXPECT_EQ(v.geometry.origin_lps_mm, (io::Vec3{1, 2, 3}));
  EXPECT_EQ(v.at(3, 2, 1), 23.0f);
  // The same grid described in RAS and in LAS (aliases RAS / LAS as teem spells them).
  spit(dir / "ras.nrrd", small_nrrd("space: RAS\nspace directions: (-2,0,0) (0,-3,0) (0,0,4)\nspace origin: (-1,-2,3)\n"));
  spit(dir / "las.nrrd", small_nrrd("space: LAS\nspace directions: (2,0,0) (0,-3,0) (0,0,4)\nspace origin: (1,-2,3)\n"));
  for (const char* n : {"ras.nrrd", "las.nrrd"}) {
    io::Volume w = io::read_nrrd(dir / n);
    expect_same_geometry(w.geometry, v.geometry, n);
    EXPECT_EQ(w.voxels, v.voxels);
  }
  // ASCII encoding of doubles: fewer characters than binary bytes, still accepted.
  std::string ascii = "NRRD0004\ntype: double\ndimension: 3\nsizes: 4 3 2\nencoding: ascii\n" + std::string(kLpsGeom) + "\n";
  for (int i = 0; i < 24; ++i) ascii += std::to_string(i) + " ";
  spit(dir / "ascii.nrrd", ascii);
  EXPECT_EQ(io::read_nrrd(dir / "ascii.nrrd").voxels, v.voxels);
  // No origin: 0, with a note.
  spit(dir / "noorigin.nrrd", small_nrrd("space: LPS\nspace directions: (2,0,0) (0,3,0) (0,0,4)\n"));
  io::Volume o = io::read_nrrd(dir / "noorigin.nrrd");
  EXPECT_EQ(o.geometry.origin_lps_mm, (io::Vec3{0, 0, 0}));
  EXPECT_EQ(o.metadata.count("origin_warning"), 1u);
  // Only "spacings": identity direction, with a warning in the metadata.
  spit(dir / "spacings.nrrd", small_nrrd("spacings: 0.5 0.5 3\n"));
  io::Volume s = io::read_nrrd(dir / "spacings.nrrd");
  EXPECT_EQ(s.geometry.spacing_mm, (io::Vec3{0.5, 0.5, 3}));
  EXPECT_EQ(s.metadata.count("geometry_warning"), 1u);
  // scanner-xyz: taken as LPS, with a warning.
  spit(dir / "scanner.nrrd", small_nrrd("space: scanner-xyz\nspace directions: (2,0,0) (0,3,0) (0,0,4)\nspace origin: (1,2,3)\n"));
  io::Volume sc = io::read_nrrd(dir / "scanner.nrrd");
  expect_same_geometry(sc.geometry, v.geometry, "scanner-xyz");
  EXPECT_EQ(sc.metadata.count("geometry_warning"), 1u);
}

TEST(Nrrd, UnusableFilesAreFormatErrors) {
  TempDir dir("nrrdbad");
  auto expect4 = [&](const std::string& name, const std::string& content, const std::string& needle) {
    spit(dir / name, content);
    std::string m = error_message([&] { io::read_nrrd(dir / name); }, ExitCode::kCorruptInput);
    EXPECT_NE(m.find(needle), std::string::npos) << name << ": " << m;
    EXPECT_NE(m.find(name), std::string::npos) << "names the file: " << m;
  };
  expect4("nogeom.nrrd", small_nrrd(""), "neither \"space directions\" nor \"spacings\"");
  expect4("fourd.nrrd",
          small_nrrd("space: LPS\nspace directions: (2,0,0) (0,3,0) (0,0,4) none\nkinds: domain domain domain list\n",
                     "4 3 2 2", 4),
          "is 4D (4x3x2x2)");
  expect4("twod.nrrd", small_nrrd("", "4 3", 2), "2D");
  expect4("cut.nrrd", small_nrrd(kLpsGeom).substr(0, 60) + "\n", "cannot read NRRD file");
  expect4("sizes.nrrd", "NRRD0004\ntype: short\ndimension: 3\nsizes: 100000 100000 100000\nendian: little\nencoding: raw\n" +
                            std::string(kLpsGeom) + "\n" + std::string(64, 'x'),
          "more than 2^31");
  expect4("short.nrrd", "NRRD0004\ntype: short\ndimension: 3\nsizes: 400 400 100\nendian: little\nencoding: raw\n" +
                            std::string(kLpsGeom) + "\n" + std::string(64, 'x'),
          "truncated NRRD file");
  expect4("zeroes.nrrd", small_nrrd("space: LPS\nspace directions: (0,0,0) (0,3,0) (0,0,4)\n"), "zero");
  expect4("flat.nrrd", small_nrrd("space: LPS\nspace directions: (1,0,0) (2,0,0) (0,0,4)\n"), "linearly dependent");
  expect4("time.nrrd", small_nrrd("space: right-anterior-superior-time\nspace directions: (1,0,0,0) (0,1,0,0) (0,0,1,0)\n"),
          "not supported");
  expect4("garbage.nrrd", std::string("\x89PNG\r\n\x1a\n garbage garbage"), "cannot read NRRD file");
  expect4("badkey.nrrd", small_nrrd(std::string(kLpsGeom) + "spaec directions: (1,0,0)\n"), "cannot read NRRD file");
  expect4("rgb.nrrd", small_nrrd(std::string(kLpsGeom) + "kinds: RGB-color domain domain\n", "3 3 2"), "");
  // A detached header whose data file is missing.
  spit(dir / "lost.nhdr", "NRRD0004\ntype: short\ndimension: 3\nsizes: 4 3 2\nendian: little\nencoding: raw\n" +
                              std::string(kLpsGeom) + "data file: nowhere.raw\n");
  std::string lost = error_message([&] { io::read_nrrd(dir / "lost.nhdr"); }, ExitCode::kCorruptInput);
  EXPECT_NE(lost.find("nowhere.raw"), std::string::npos) << lost;
  EXPECT_EQ(thrown_by([&] { io::read_nrrd(dir / "absent.nrrd"); }).exit_code, 3);
}

namespace {
struct MhaSpec {
  std::string type = "MET_SHORT";
  bool msb = false;
  std::string extra;       // more header lines
  std::string data_file;   // "" = LOCAL
  std::int64_t header_size = 0;  // 0 = none
  bool compress = false;
  bool size_key = true;
};

template <typename T>
std::string encode(const std::vector<double>& values, bool msb) {
  std::string out;
  for (double v : values) {
    T t = static_cast<T>(v);
    unsigned char b[sizeof(T)];
    std::memcpy(b, &t, sizeof(T));
    if (msb) std::reverse(b, b + sizeof(T));
    out.append(reinterpret_cast<const char*>(b), sizeof(T));
  }
  return out;
}

std::string encode_as(const std::string& type, const std::vector<double>& values, bool msb) {
  if (type == "MET_CHAR") return encode<std::int8_t>(values, msb);
  if (type == "MET_UCHAR") return encode<std::uint8_t>(values, msb);
  if (type == "MET_SHORT") return encode<std::int16_t>(values, msb);
  if (type == "MET_USHORT") return encode<std::uint16_t>(values, msb);
  if (type == "MET_INT" || type == "MET_LONG") return encode<std::int32_t>(values, msb);
  if (type == "MET_UINT" || type == "MET_ULONG") return encode<std::uint32_t>(values, msb);
  if (type == "MET_LONG_LONG") return encode<std::int64_t>(values, msb);
  if (type == "MET_ULONG_LONG") return encode<std::uint64_t>(values, msb);
  if (type == "MET_FLOAT") return encode<float>(values, msb);
  return encode<double>(values, msb);
}

// Writes `dir/name` (+ a data file) holding `values` on a 4x3x2 grid; returns the header path.
fs::path write_mha(const fs::path& dir, const std::string& name, const MhaSpec& s, const std::vector<double>& values) {
  std::string data = encode_as(s.type, values, s.msb);
  if (s.compress) {
    uLongf n = compressBound(static_cast<uLong>(data.size()));
    std::string z(n, '\0');
    compress2(reinterpret_cast<Bytef*>(&z[0]), &n, reinterpret_cast<const Bytef*>(data.data()),
              static_cast<uLong>(data.size()), 6);
    z.resize(n);
    data = z;
  }
  std::string prefix;
  if (s.header_size > 0) prefix = std::string(static_cast<std::size_t>(s.header_size), 'H');
  if (s.header_size == -1) prefix = "some other header of any length";
  std::string h = "ObjectType = Image\nNDims = 3\nBinaryData = True\n";
  h += std::string("BinaryDataByteOrderMSB = ") + (s.msb ? "True" : "False") + "\n";
  h += std::string("CompressedData = ") + (s.compress ? "True" : "False") + "\n";
  if (s.compress && s.size_key) h += "CompressedDataSize = " + std::to_string(data.size()) + "\n";
  h += "TransformMatrix = 0 1 0 -1 0 0 0 0 1\nOffset = 10 20 30\nElementSpacing = 0.5 0.25 2\n";
  h += "DimSize = 4 3 2\n";
  if (s.header_size != 0) h += "HeaderSize = " + std::to_string(s.header_size) + "\n";
  h += s.extra;
  h += "ElementType = " + s.type + "\n";
  if (s.data_file.empty()) {
    h += "ElementDataFile = LOCAL\n";
    spit(dir / name, h + prefix + data);
  } else {
    h += "ElementDataFile = " + s.data_file + "\n";
    spit(dir / name, h);
    spit(dir / s.data_file, prefix + data);
  }
  return dir / name;
}

std::vector<double> ramp(double start, double step) {
  std::vector<double> v;
  for (int i = 0; i < 24; ++i) v.push_back(start + step * i);
  return v;
}
}  // namespace

TEST(MetaImage, EveryElementTypeBothByteOrders) {
  TempDir dir("mhatypes");
  struct T {
    const char* type;
    double start, step;
  };
  for (T t : {T{"MET_CHAR", -12, 1}, T{"MET_UCHAR", 200, 2}, T{"MET_SHORT", -30000, 2000}, T{"MET_USHORT", 60000, 100},
              T{"MET_INT", -2000000, 123457}, T{"MET_UINT", 4000000000.0, 1000}, T{"MET_LONG", -7, 3},
              T{"MET_ULONG", 3000000000.0, 7}, T{"MET_LONG_LONG", -5, 1}, T{"MET_ULONG_LONG", 9, 1},
              T{"MET_FLOAT", -1.5, 0.25}, T{"MET_DOUBLE", 1e-3, 1e3}}) {
    for (bool msb : {false, true}) {
      MhaSpec s;
      s.type = t.type;
      s.msb = msb;
      const auto values = ramp(t.start, t.step);
      io::Volume v = io::read_metaimage(write_mha(dir, "t.mha", s, values));
      ASSERT_EQ(v.voxels.size(), 24u);
      for (int i = 0; i < 24; ++i) EXPECT_EQ(v.voxels[i], static_cast<float>(values[i])) << t.type << " msb " << msb;
      EXPECT_EQ(v.metadata["byte_order"], msb ? "big" : "little");
    }
  }
}

TEST(MetaImage, GeometryAndDataLayouts) {
  TempDir dir("mhalayout");
  const auto values = ramp(0, 1);
  MhaSpec base;
  io::Volume ref = io::read_metaimage(write_mha(dir, "a.mha", base, values));
  // TransformMatrix "0 1 0 -1 0 0 0 0 1": i along +y, j along -x.
  EXPECT_EQ(ref.geometry.direction_lps[1][0], 1.0);
  EXPECT_EQ(ref.geometry.direction_lps[0][1], -1.0);
  io::Vec3 p = ref.geometry.index_to_lps({1, 1, 1});
  EXPECT_NEAR(p[0], 10 - 0.25, 1e-12);
  EXPECT_NEAR(p[1], 20 + 0.5, 1e-12);
  EXPECT_NEAR(p[2], 30 + 2, 1e-12);
  EXPECT_EQ(ref.at(3, 2, 1), 23.0f);
  std::vector<MhaSpec> variants(7);
  variants[0].data_file = "a.raw";
  variants[1].data_file = "b.zraw", variants[1].compress = true;
  variants[2].data_file = "c.zraw", variants[2].compress = true, variants[2].size_key = false;
  variants[3].compress = true;  // compressed LOCAL
  variants[4].data_file = "e.raw", variants[4].header_size = 100;
  variants[5].data_file = "f.raw", variants[5].header_size = -1;
  variants[6].header_size = -1;  // LOCAL, data at the end
  int n = 0;
  for (const auto& s : variants) {
    io::Volume v = io::read_metaimage(write_mha(dir, "v" + std::to_string(n++) + ".mhd", s, values));
    EXPECT_EQ(v.voxels, ref.voxels) << n;
    EXPECT_TRUE(v.geometry.same_grid(ref.geometry, 0.0)) << n;
  }
  // Position / Rotation aliases, CRLF line ends.
  std::string h = slurp(dir / "a.mha");
  std::string alias = h;
  alias.replace(alias.find("Offset"), 6, "Position");
  alias.replace(alias.find("TransformMatrix"), 15, "Rotation");
  spit(dir / "alias.mha", alias);
  EXPECT_TRUE(io::read_metaimage(dir / "alias.mha").geometry.same_grid(ref.geometry, 0.0));
  std::string head = h.substr(0, h.find("LOCAL\n") + 6), data = h.substr(h.find("LOCAL\n") + 6);
  std::string crlf;
  for (char c : head) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  spit(dir / "crlf.mha", crlf + data);
  EXPECT_EQ(io::read_metaimage(dir / "crlf.mha").voxels, ref.voxels);
}

TEST(MetaImage, MalformedHeadersNameTheKey) {
  TempDir dir("mhabad");
  const std::string good = slurp(fx("t2_plastimatch.mha"));
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    std::size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    s.replace(at, from.size(), to);
    return s;
  };
  struct Case {
    std::string name, content, needle;
  };
  const std::vector<Case> cases = {
      {"nodims.mha", with("DimSize = 40 36 12\n", ""), "missing key DimSize"},
      {"twodims.mha", with("DimSize = 40 36 12", "DimSize = 40 36"), "DimSize has 2 value(s); expected 3"},
      {"ndims.mha", with("NDims = 3", "NDims = 2"), "NDims is 2; expected 3"},
      {"zerodim.mha", with("DimSize = 40 36 12", "DimSize = 40 0 12"), "DimSize \"40 0 12\" must hold 3 integers"},
      {"bigdims.mha", with("DimSize = 40 36 12", "DimSize = 4000 3600 120"), "truncated MetaImage data"},
      {"hugedims.mha", with("DimSize = 40 36 12", "DimSize = 400000 360000 120000"), "more than 2^31 voxels"},
      {"type.mha", with("MET_SHORT", "MET_COMPLEX"), "ElementType \"MET_COMPLEX\" is not supported"},
      {"channels.mha", with("NDims = 3", "NDims = 3\nElementNumberOfChannels = 3"), "ElementNumberOfChannels is 3"},
      {"spacing.mha", with("ElementSpacing = 0.69999998807907104", "ElementSpacing = -0.7"), "ElementSpacing"},
      {"nan.mha", with("Offset = 12.5", "Offset = nan"), "Offset has \"nan\" where a finite number is expected"},
      {"matrix.mha", with("TransformMatrix = -0.9396926208176406 ", "TransformMatrix = "), "TransformMatrix has 8 value(s)"},
      {"singular.mha", with("0 0.17364818253298778 0.98480775215419081", "0 0 0"), "zero direction for axis 2"},
      {"list.mha", with("ElementDataFile = LOCAL", "ElementDataFile = LIST"), "not supported"},
      {"ascii.mha", with("BinaryData = True", "BinaryData = False"), "ASCII"},
      {"bool.mha", with("CompressedData = False", "CompressedData = Maybe"), "CompressedData is \"Maybe\""},
      {"object.mha", with("ObjectType = Image", "ObjectType = Tube"), "ObjectType is \"Tube\""},
      {"compressed.mha", with("CompressedData = False", "CompressedData = True"), "compressed"},
      {"noline.mha", with("NDims = 3", "NDims 3"), "is not \"Key = Value\""},
      {"truncated.mha", good.substr(0, good.size() - 100), "truncated MetaImage data"},
      {"headonly.mha", good.substr(0, good.find("ElementDataFile")), "no ElementDataFile"},
      {"garbage.mha", std::string("\x7f" "ELF\x02\x01\x01\0\0\0", 10) + std::string(100, '\0'), "binary bytes"},
      {"empty.mha", "", "no ElementDataFile"},
  };
  for (const auto& c : cases) {
    spit(dir / c.name, c.content);
    std::string m = error_message([&] { io::read_metaimage(dir / c.name); }, ExitCode::kCorruptInput);
    EXPECT_NE(m.find(c.needle), std::string::npos) << c.name << ": " << m;
    EXPECT_NE(m.find(c.name), std::string::npos) << c.name << " (names the file): " << m;
  }
  // A detached data file that is missing or short; compressed data that are corrupt.
  spit(dir / "lost.mhd", with("ElementDataFile = LOCAL", "ElementDataFile = lost.raw").substr(0, good.find("LOCAL") + 9));
  EXPECT_EQ(thrown_by([&] { io::read_metaimage(dir / "lost.mhd"); }).exit_code, 3);
  std::string zraw = slurp(fx("t2_zraw.zraw"));
  fs::copy_file(fx("t2_zraw.mhd"), dir / "t2_zraw.mhd");
  zraw[zraw.size() / 2] ^= 0x55;
  zraw[zraw.size() / 2 + 1] ^= 0x55;
  spit(dir / "t2_zraw.zraw", zraw);
  std::string m = error_message([&] { io::read_metaimage(dir / "t2_zraw.mhd"); }, ExitCode::kCorruptInput);
  EXPECT_NE(m.find("compressed"), std::string::npos) << m;
  spit(dir / "t2_zraw.zraw", slurp(fx("t2_zraw.zraw")).substr(0, 1000));
  m = error_message([&] { io::read_metaimage(dir / "t2_zraw.mhd"); }, ExitCode::kCorruptInput);
  EXPECT_NE(m.find("truncated MetaImage data"), std::string::npos) << m;
}

// ---------------------------------------------------------------- corruption fuzzing
namespace {
// Every truncation point of the first `head` bytes (and a spread over the rest), then
// `mutations` random corruptions (1-4 flipped bytes, biased to the header half of the time):
// `read` must succeed or throw a cervirisk::Error with an exit code in {3, 4, 5}; it must never
// crash, hang, or throw anything else.
void fuzz(const fs::path& src, const std::vector<std::string>& companions, const std::function<void(const fs::path&)>& read,
          std::size_t head, int mutations, unsigned seed) {
  TempDir dir("fuzz");
  const fs::path target = dir / src.filename();
  for (const auto& c : companions) fs::copy_file(fx(c), dir / c);
  const std::string good = slurp(src);
  std::size_t errors = 0, ok = 0;
  auto attempt = [&](const std::string& bytes, const std::string& what) {
    spit(target, bytes);
    try {
      read(target);
      ++ok;
    } catch (const Error& e) {
      ++errors;
      EXPECT_TRUE(e.exit_code() == 3 || e.exit_code() == 4 || e.exit_code() == 5) << what << ": " << e.what();
      EXPECT_FALSE(std::string(e.what()).empty());
    } catch (const std::exception& e) {
      ADD_FAILURE() << what << ": not a cervirisk::Error: " << e.what();
    }
  };
  for (std::size_t n = 0; n < std::min(head, good.size()); n += 1 + n / 64) attempt(good.substr(0, n), "cut " + std::to_string(n));
  for (std::size_t n = head; n < good.size(); n += std::max<std::size_t>(1, good.size() / 40))
    attempt(good.substr(0, n), "cut " + std::to_string(n));
  std::mt19937 rng(seed);
  for (int m = 0; m < mutations; ++m) {
    std::string bytes = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    const std::size_t range = (m % 2 == 0) ? std::min(head, bytes.size()) : bytes.size();
    for (int f = 0; f < flips; ++f) {
      const std::size_t at = rng() % range;
      switch (rng() % 3) {
        case 0: bytes[at] = static_cast<char>(rng() & 0xff); break;          // random byte
        case 1: bytes[at] = "0123456789 -.e(),\n:="[rng() % 19]; break;      // plausible header byte
        default: bytes[at] = static_cast<char>(bytes[at] ^ (1 << (rng() % 8)));  // bit flip
      }
    }
    attempt(bytes, "mutation " + std::to_string(m));
  }
  EXPECT_GT(errors, 0u);
  ::testing::Test::RecordProperty("ok", static_cast<int>(ok));
  ::testing::Test::RecordProperty("errors", static_cast<int>(errors));
}
std::size_t header_length(const std::string& path) {
  const std::string s = slurp(path);
  std::size_t a = s.find("\n\n");
  std::size_t b = s.find("ElementDataFile");
  if (a != std::string::npos) return a + 2;
  if (b != std::string::npos) return s.find('\n', b) + 1;
  return s.size();
}
}  // namespace

TEST(Fuzz, NrrdGzipAttached) {
  fuzz(fx("t2_plastimatch.nrrd"), {}, [](const fs::path& p) { io::read_nrrd(p); },
       header_length(fx("t2_plastimatch.nrrd")), 200, 1);
}
TEST(Fuzz, NrrdRawAttached) {
  fuzz(fx("mask_ras_raw.nrrd"), {}, [](const fs::path& p) { io::read_nrrd_mask(p, ""); },
       header_length(fx("mask_ras_raw.nrrd")), 200, 2);
}
TEST(Fuzz, NrrdDetachedHeaders) {
  fuzz(fx("t2_detached.nhdr"), {"t2_detached.raw.gz"}, [](const fs::path& p) { io::read_nrrd(p); }, 1 << 20, 200, 3);
  fuzz(fx("mask_detached.nhdr"), {"mask_detached.raw"}, [](const fs::path& p) { io::read_nrrd(p); }, 1 << 20, 200, 4);
}
TEST(Fuzz, SlicerSegmentations) {
  for (const char* f : {"three_segments.seg.nrrd", "overlap.seg.nrrd"}) {
    fuzz(fx(f), {}, [](const fs::path& p) {
      io::nrrd_segments(p);
      io::read_nrrd_mask(p, "GTV");
    }, header_length(fx(f)), 200, 5);
  }
}
TEST(Fuzz, MetaImageLocal) {
  fuzz(fx("t2_plastimatch.mha"), {}, [](const fs::path& p) { io::read_metaimage(p); },
       header_length(fx("t2_plastimatch.mha")), 200, 6);
}
TEST(Fuzz, MetaImageDetached) {
  fuzz(fx("t2_plastimatch.mhd"), {"t2_plastimatch.raw"}, [](const fs::path& p) { io::read_metaimage(p); }, 1 << 20,
       200, 7);
  fuzz(fx("t2_zraw.mhd"), {"t2_zraw.zraw"}, [](const fs::path& p) { io::read_metaimage(p); }, 1 << 20, 200, 8);
  // the compressed data file itself
  TempDir dir("fuzzz");
  fs::copy_file(fx("t2_zraw.mhd"), dir / "t2_zraw.mhd");
  const std::string z = slurp(fx("t2_zraw.zraw"));
  std::mt19937 rng(9);
  for (int m = 0; m < 200; ++m) {
    std::string bytes = z;
    for (int f = 0; f < 1 + m % 4; ++f) bytes[rng() % bytes.size()] ^= static_cast<char>(1 + rng() % 255);
    if (m % 5 == 0) bytes.resize(rng() % bytes.size());
    spit(dir / "t2_zraw.zraw", bytes);
    cervirisk::testing::Thrown t = thrown_by([&] { io::read_metaimage(dir / "t2_zraw.mhd"); });
    if (t.thrown) {
      EXPECT_EQ(t.exit_code, 4) << t.message;
    }
  }
}
