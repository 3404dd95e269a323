// DICOM Segmentation -> mask on an image grid (io/dicom_objects.h): PS3.3 C.8.20.2
// Segmentation Image Module (SegmentationType, SegmentSequence, MaximumFractionalValue),
// C.7.6.16 Multi-frame Functional Groups (PlaneOrientation, PixelMeasures, PlanePosition),
// C.8.20.3 Segmentation Functional Groups (SegmentIdentificationSequence); PS3.5 8.1.1 for the
// packing of 1-bit pixels.
#include <gdcmDataSet.h>
#include <gdcmFileMetaInformation.h>
#include <gdcmReader.h>
#include <gdcmTransferSyntax.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "core/error.h"
#include "io/dicom_detail.h"
#include "io/dicom_objects.h"

namespace cervirisk::io {
namespace {

namespace fs = std::filesystem;
using namespace dicom_objects_detail;
using dicom_detail::cross;
using dicom_detail::dot;

constexpr const char* kSegClass = "1.2.840.10008.5.1.4.1.1.66.4";

std::vector<SegmentInfo> read_segments(const fs::path& file, const gdcm::DataSet& ds) {
  Sequence segs(file, ds, 0x0062, 0x0002);
  if (!segs.present) throw FormatError("DICOM-SEG " + file.string() + " has no SegmentSequence (0062,0002)");
  const std::string charset = raw_bytes(ds, 0x0008, 0x0005);
  std::vector<SegmentInfo> out;
  for (std::size_t n = 0; n < segs.items.size(); ++n) {
    const gdcm::DataSet& item = *segs.items[n];
    SegmentInfo s;
    if (!us_value(item, 0x0062, 0x0004, s.label))
      throw FormatError("DICOM-SEG " + file.string() + ": item " + std::to_string(n + 1) +
                        " of SegmentSequence (0062,0002) has no SegmentNumber (0062,0004)");
    s.name = dicom_detail::decode_text(raw_bytes(item, 0x0062, 0x0005), charset);
    s.description = dicom_detail::decode_text(raw_bytes(item, 0x0062, 0x0006), charset);
    out.push_back(std::move(s));
  }
  return out;
}

// One frame's plane: pixel (column x, row y) -> ipp + x * col_spacing * row_dir + y * row_spacing * col_dir.
struct FramePlane {
  Vec3 ipp{0, 0, 0}, row_dir{1, 0, 0}, col_dir{0, 1, 0};
  double row_spacing = 1, col_spacing = 1, spacing_between = 0, thickness = 0;
  long segment = 0;
};

struct PlaneDefaults {
  std::vector<double> iop, spacing;
  double spacing_between = 0, thickness = 0;
};

void read_plane_groups(const fs::path& file, const gdcm::DataSet& group, PlaneDefaults& d) {
  Sequence po(file, group, 0x0020, 0x9116);
  if (const gdcm::DataSet* item = po.first()) {
    std::vector<double> v;
    if (!parse_numbers(raw_bytes(*item, 0x0020, 0x0037), v) || v.size() != 6)
      throw FormatError("DICOM-SEG " + file.string() +
                        ": ImageOrientationPatient (0020,0037) in PlaneOrientationSequence (0020,9116) is not 6 numbers");
    d.iop = v;
  }
  Sequence pm(file, group, 0x0028, 0x9110);
  if (const gdcm::DataSet* item = pm.first()) {
    std::vector<double> v;
    if (has(*item, 0x0028, 0x0030)) {
      if (!parse_numbers(raw_bytes(*item, 0x0028, 0x0030), v) || v.size() != 2 || !(v[0] > 0) || !(v[1] > 0))
        throw FormatError("DICOM-SEG " + file.string() +
                          ": PixelSpacing (0028,0030) in PixelMeasuresSequence (0028,9110) is not 2 positive numbers");
      d.spacing = v;
    }
    if (parse_numbers(raw_bytes(*item, 0x0018, 0x0088), v) && v.size() == 1 && v[0] > 0) d.spacing_between = v[0];
    if (parse_numbers(raw_bytes(*item, 0x0018, 0x0050), v) && v.size() == 1 && v[0] > 0) d.thickness = v[0];
  }
}

std::vector<FramePlane> read_frames(const fs::path& file, const gdcm::DataSet& ds, long n_frames) {
  PlaneDefaults shared;
  Sequence sh(file, ds, 0x5200, 0x9229);
  if (const gdcm::DataSet* g = sh.first()) read_plane_groups(file, *g, shared);
  Sequence pf(file, ds, 0x5200, 0x9230);
  if (!pf.present)
    throw FormatError("DICOM-SEG " + file.string() + " has no PerFrameFunctionalGroupsSequence (5200,9230)");
  if (static_cast<long>(pf.items.size()) != n_frames)
    throw FormatError("DICOM-SEG " + file.string() + ": PerFrameFunctionalGroupsSequence (5200,9230) has " +
                      std::to_string(pf.items.size()) + " items but NumberOfFrames (0028,0008) is " +
                      std::to_string(n_frames));
  std::vector<FramePlane> out;
  for (std::size_t n = 0; n < pf.items.size(); ++n) {
    const gdcm::DataSet& item = *pf.items[n];
    const std::string where = "DICOM-SEG " + file.string() + ": frame " + std::to_string(n + 1);
    PlaneDefaults d = shared;
    read_plane_groups(file, item, d);
    if (d.iop.size() != 6)
      throw FormatError(where + " has no ImageOrientationPatient (PlaneOrientationSequence (0020,9116), shared or per frame)");
    if (d.spacing.size() != 2)
      throw FormatError(where + " has no PixelSpacing (PixelMeasuresSequence (0028,9110), shared or per frame)");
    Sequence pp(file, item, 0x0020, 0x9113);
    std::vector<double> ipp;
    if (!pp.first() || !parse_numbers(raw_bytes(*pp.first(), 0x0020, 0x0032), ipp) || ipp.size() != 3)
      throw FormatError(where + " has no ImagePositionPatient (0020,0032) in PlanePositionSequence (0020,9113)");
    Sequence si(file, item, 0x0062, 0x000A);
    FramePlane f;
    if (!si.first() || !us_value(*si.first(), 0x0062, 0x000B, f.segment))
      throw FormatError(where + " has no ReferencedSegmentNumber (0062,000B) in SegmentIdentificationSequence (0062,000A)");
    f.ipp = {ipp[0], ipp[1], ipp[2]};
    f.row_dir = {d.iop[0], d.iop[1], d.iop[2]};
    f.col_dir = {d.iop[3], d.iop[4], d.iop[5]};
    const double nr = std::sqrt(dot(f.row_dir, f.row_dir)), nc = std::sqrt(dot(f.col_dir, f.col_dir));
    if (!(std::fabs(nr - 1) < 1e-2 && std::fabs(nc - 1) < 1e-2 && std::fabs(dot(f.row_dir, f.col_dir)) < 1e-2))
      throw FormatError(where + ": ImageOrientationPatient (0020,0037) is not two orthogonal unit vectors");
    for (int r = 0; r < 3; ++r) f.row_dir[r] /= nr, f.col_dir[r] /= nc;
    f.row_spacing = d.spacing[0];  // between rows: along the column direction
    f.col_spacing = d.spacing[1];  // between columns: along the row direction
    f.spacing_between = d.spacing_between;
    f.thickness = d.thickness;
    out.push_back(f);
  }
  return out;
}

// The pixels of one frame: inside (true) or not.
struct PixelSource {
  const unsigned char* data = nullptr;
  long rows = 0, cols = 0;
  bool binary = true;
  long max_fractional = 1;
  bool inside(long frame, long y, long x) const {
    const std::size_t index = (static_cast<std::size_t>(frame) * static_cast<std::size_t>(rows) + static_cast<std::size_t>(y)) *
                                  static_cast<std::size_t>(cols) + static_cast<std::size_t>(x);
    if (binary) return (data[index >> 3] >> (index & 7)) & 1;
    return 2L * data[index] >= max_fractional;  // value / max >= 0.5
  }
};

// Places a frame whose pixels coincide with voxels of a slice of `grid`: true when it does
// (then copied, counting the inside pixels placed), false when it must be resampled.
bool place_direct(const FramePlane& f, long frame, const PixelSource& px, const Geometry& grid, Volume& out,
                  std::int64_t& placed, std::int64_t& dropped) {
  const Vec3 o = grid.lps_to_index(f.ipp);
  Vec3 px_x = f.ipp, px_y = f.ipp;
  for (int r = 0; r < 3; ++r) px_x[r] += f.col_spacing * f.row_dir[r], px_y[r] += f.row_spacing * f.col_dir[r];
  Vec3 dx = grid.lps_to_index(px_x), dy = grid.lps_to_index(px_y);
  for (int r = 0; r < 3; ++r) dx[r] -= o[r], dy[r] -= o[r];
  // Each step must be +-1 along one in-plane axis (within 0.01 voxel over the whole frame).
  auto unit_axis = [&](const Vec3& d, long n, int& axis, int& sign) {
    for (int a = 0; a < 2; ++a) {
      const double s = d[a] > 0 ? 1.0 : -1.0;
      bool ok = true;
      for (int r = 0; r < 3; ++r) ok = ok && std::fabs(d[r] - (r == a ? s : 0.0)) * static_cast<double>(std::max(n, 1L)) < 0.01;
      if (ok) {
        axis = a;
        sign = static_cast<int>(s);
        return true;
      }
    }
    return false;
  };
  int ax = 0, sx = 1, ay = 0, sy = 1;
  if (!unit_axis(dx, px.cols, ax, sx) || !unit_axis(dy, px.rows, ay, sy) || ax == ay) return false;
  Vec3 base;
  for (int r = 0; r < 3; ++r) {
    if (!std::isfinite(o[r])) return false;
    base[r] = std::round(o[r]);
    if (std::fabs(o[r] - base[r]) > 0.01) return false;
  }
  const std::int64_t ni = grid.shape[0], nj = grid.shape[1], nk = grid.shape[2];
  const double k = base[2];
  for (long y = 0; y < px.rows; ++y)
    for (long x = 0; x < px.cols; ++x) {
      if (!px.inside(frame, y, x)) continue;
      double idx[2] = {base[0], base[1]};
      idx[ax] += sx * static_cast<double>(x);
      idx[ay] += sy * static_cast<double>(y);
      if (idx[0] < 0 || idx[1] < 0 || k < 0 || idx[0] >= static_cast<double>(ni) || idx[1] >= static_cast<double>(nj) ||
          k >= static_cast<double>(nk)) {
        ++dropped;
        continue;
      }
      float& v = out.at(static_cast<std::int64_t>(idx[0]), static_cast<std::int64_t>(idx[1]), static_cast<std::int64_t>(k));
      v = 1.0f;
      ++placed;
    }
  return true;
}

// Frames that do not coincide with the grid, stacked by plane (orientation, spacing, in-plane
// origin) into regular volumes and resampled nearest-neighbour onto the grid.
void place_resampled(const std::string& where, const std::vector<std::pair<long, const FramePlane*>>& frames,
                     const PixelSource& px, const Geometry& grid, Volume& out, std::int64_t& placed) {
  using Key = std::tuple<long, long, long, long, long, long, long, long, long, long>;
  std::map<Key, std::vector<std::pair<long, const FramePlane*>>> stacks;
  auto q = [](double v, double unit) { return static_cast<long>(std::llround(std::clamp(v / unit, -1e15, 1e15))); };
  for (const auto& fr : frames) {
    const FramePlane& f = *fr.second;
    const double u = dot(f.ipp, f.row_dir), v = dot(f.ipp, f.col_dir);
    stacks[Key{q(f.row_dir[0], 1e-3), q(f.row_dir[1], 1e-3), q(f.row_dir[2], 1e-3), q(f.col_dir[0], 1e-3),
               q(f.col_dir[1], 1e-3), q(f.col_dir[2], 1e-3), q(f.row_spacing, 1e-3), q(f.col_spacing, 1e-3),
               q(u, 1e-2), q(v, 1e-2)}]
        .push_back(fr);
  }
  for (auto& [key, list] : stacks) {
    const FramePlane& f0 = *list.front().second;
    const Vec3 n = cross(f0.row_dir, f0.col_dir);
    std::sort(list.begin(), list.end(),
              [&](const auto& a, const auto& b) { return dot(a.second->ipp, n) < dot(b.second->ipp, n); });
    std::vector<double> d;
    for (const auto& fr : list) d.push_back(dot(fr.second->ipp, n));
    // Slice spacing: SpacingBetweenSlices, else the smallest gap between frames (empty frames
    // may be missing), else SliceThickness (one plane), else the grid's.
    double step = f0.spacing_between;
    if (!(step > 0)) {
      step = 0;
      for (std::size_t i = 1; i < d.size(); ++i)
        if (d[i] - d[i - 1] > 1e-3 && (step == 0 || d[i] - d[i - 1] < step)) step = d[i] - d[i - 1];
      if (!(step > 0)) step = f0.thickness > 0 ? f0.thickness : grid.spacing_mm[2];
    }
    const double span = (d.back() - d.front()) / step;
    if (!std::isfinite(span) || span > 100000)
      throw FormatError(where + ": the frames' ImagePositionPatient (0020,0032) span " +
                        fmt::format("{:.1f}", d.back() - d.front()) + " mm along their normal, " +
                        fmt::format("{:.0f}", span) + " slices of " + fmt::format("{:.3f}", step) + " mm");
    // The stack's geometry (frames at integer k, missing slices empty), mapped from the grid's
    // voxel centres through world coordinates, nearest neighbour (as io::resample_nearest).
    Geometry g;
    g.shape = {px.cols, px.rows, static_cast<std::int64_t>(std::llround(span)) + 1};
    g.spacing_mm = {f0.col_spacing, f0.row_spacing, step};
    g.origin_lps_mm = list.front().second->ipp;
    for (int r = 0; r < 3; ++r) {
      g.direction_lps[r][0] = f0.row_dir[r];
      g.direction_lps[r][1] = f0.col_dir[r];
      g.direction_lps[r][2] = n[r];
    }
    std::vector<std::vector<long>> at_k(static_cast<std::size_t>(g.shape[2]));
    for (const auto& [frame, f] : list)
      at_k[static_cast<std::size_t>(std::llround((dot(f->ipp, n) - d.front()) / step))].push_back(frame);
    const Vec3 o = g.lps_to_index(grid.index_to_lps({0, 0, 0}));
    Vec3 e[3];
    for (int c = 0; c < 3; ++c) {
      Vec3 unit{0, 0, 0};
      unit[c] = 1;
      const Vec3 p = g.lps_to_index(grid.index_to_lps(unit));
      for (int r = 0; r < 3; ++r) e[c][r] = p[r] - o[r];
    }
    // Only the grid voxels within the stack's bounding box (its corners in grid index space).
    std::int64_t lo[3], hi[3];
    {
      double mn[3] = {1e300, 1e300, 1e300}, mx[3] = {-1e300, -1e300, -1e300};
      for (int c = 0; c < 8; ++c) {
        const Vec3 corner{(c & 1) ? static_cast<double>(g.shape[0]) - 0.5 : -0.5,
                          (c & 2) ? static_cast<double>(g.shape[1]) - 0.5 : -0.5,
                          (c & 4) ? static_cast<double>(g.shape[2]) - 0.5 : -0.5};
        const Vec3 p = grid.lps_to_index(g.index_to_lps(corner));
        for (int r = 0; r < 3; ++r) mn[r] = std::min(mn[r], p[r]), mx[r] = std::max(mx[r], p[r]);
      }
      bool finite = true;
      for (int r = 0; r < 3; ++r) finite = finite && std::isfinite(mn[r]) && std::isfinite(mx[r]);
      if (!finite) continue;
      for (int r = 0; r < 3; ++r) {
        lo[r] = static_cast<std::int64_t>(std::clamp(std::floor(mn[r]), 0.0, static_cast<double>(grid.shape[r])));
        hi[r] = static_cast<std::int64_t>(std::clamp(std::ceil(mx[r]) + 1, 0.0, static_cast<double>(grid.shape[r])));
      }
    }
    for (std::int64_t k = lo[2]; k < hi[2]; ++k)
      for (std::int64_t j = lo[1]; j < hi[1]; ++j)
        for (std::int64_t i = lo[0]; i < hi[0]; ++i) {
          const auto idx = static_cast<std::size_t>(i + grid.shape[0] * (j + grid.shape[1] * k));
          double x[3];
          for (int r = 0; r < 3; ++r)
            x[r] = std::floor(o[r] + e[0][r] * static_cast<double>(i) + e[1][r] * static_cast<double>(j) +
                              e[2][r] * static_cast<double>(k) + 0.5);
          if (!(x[0] >= 0 && x[1] >= 0 && x[2] >= 0 && x[0] < static_cast<double>(g.shape[0]) &&
                x[1] < static_cast<double>(g.shape[1]) && x[2] < static_cast<double>(g.shape[2])))
            continue;
          for (long frame : at_k[static_cast<std::size_t>(x[2])])
            if (px.inside(frame, static_cast<long>(x[1]), static_cast<long>(x[0])) && out.voxels[idx] == 0) {
              out.voxels[idx] = 1.0f;
              ++placed;
            }
        }
  }
}

struct SegHeader {
  bool binary = true;
  long rows = 0, cols = 0, frames = 0, max_fractional = 1;
};

SegHeader read_seg_header(const fs::path& file, const gdcm::File& f) {
  const gdcm::DataSet& ds = f.GetDataSet();
  const std::string where = "DICOM-SEG " + file.string();
  SegHeader h;
  const std::string type = text(ds, 0x0062, 0x0001);
  if (type != "BINARY" && type != "FRACTIONAL")
    throw FormatError(where + ": SegmentationType (0062,0001) is '" + type + "', expected BINARY or FRACTIONAL");
  h.binary = type == "BINARY";
  const gdcm::TransferSyntax ts = f.GetHeader().GetDataSetTransferSyntax();
  if (ts == gdcm::TransferSyntax::ExplicitVRBigEndian)
    throw FormatError(where + ": the retired Explicit VR Big Endian transfer syntax is not supported for segmentations");
  long ba = 0, spp = 1;
  if (!us_value(ds, 0x0028, 0x0010, h.rows) || !us_value(ds, 0x0028, 0x0011, h.cols) || h.rows < 1 || h.cols < 1)
    throw FormatError(where + ": Rows (0028,0010) / Columns (0028,0011) missing or zero");
  if (!us_value(ds, 0x0028, 0x0100, ba)) throw FormatError(where + ": no BitsAllocated (0028,0100)");
  if (us_value(ds, 0x0028, 0x0002, spp) && spp != 1)
    throw FormatError(where + ": SamplesPerPixel (0028,0002) is " + std::to_string(spp) + ", expected 1");
  if (h.binary && ba != 1)
    throw FormatError(where + ": BitsAllocated (0028,0100) is " + std::to_string(ba) + ", a BINARY segmentation has 1");
  if (!h.binary) {
    if (ba != 8)
      throw FormatError(where + ": BitsAllocated (0028,0100) is " + std::to_string(ba) + ", a FRACTIONAL segmentation has 8");
    if (!us_value(ds, 0x0062, 0x000E, h.max_fractional) || h.max_fractional < 1 || h.max_fractional > 255)
      throw FormatError(where + ": MaximumFractionalValue (0062,000E) missing or not in 1..255");
  }
  std::vector<double> nf;
  if (!parse_numbers(raw_bytes(ds, 0x0028, 0x0008), nf) || nf.size() != 1 || nf[0] < 1 || nf[0] > 1e6 ||
      nf[0] != std::floor(nf[0]))
    throw FormatError(where + ": NumberOfFrames (0028,0008) missing or invalid: '" + text(ds, 0x0028, 0x0008) + "'");
  h.frames = static_cast<long>(nf[0]);
  return h;
}

}  // namespace

std::vector<SegmentInfo> dicom_seg_segments(const fs::path& file) {
  return decode_segments(parse_isolated(file, "DICOM-SEG", [&](Notes&) {
    gdcm::Reader reader;
    read_object(file, reader, "DICOM-SEG");
    const gdcm::DataSet& ds = reader.GetFile().GetDataSet();
    expect_sop_class(file, ds, kSegClass, "SEG", "DICOM Segmentation");
    return encode_segments(read_segments(file, ds));
  }));
}

namespace {

Volume seg_mask_in_process(const fs::path& file, const Geometry& grid, const std::string& selector, Notes& notes) {
  gdcm::Reader reader;
  read_object(file, reader, "DICOM-SEG");
  const gdcm::File& gf = reader.GetFile();
  const gdcm::DataSet& ds = gf.GetDataSet();
  const std::string where = "DICOM-SEG " + file.string();
  expect_sop_class(file, ds, kSegClass, "SEG", "DICOM Segmentation");
  const std::vector<SegmentInfo> segments = read_segments(file, ds);
  const SegmentInfo& seg = segments[choose_segment(segments, selector, file.string(), "segment")];
  const SegHeader h = read_seg_header(file, gf);
  const std::vector<FramePlane> frames = read_frames(file, ds, h.frames);

  // Pixel data: native (not encapsulated), exactly the bytes the header announces (+1 pad byte).
  const gdcm::Tag pixel_tag(0x7fe0, 0x0010);
  if (!ds.FindDataElement(pixel_tag)) throw FormatError(where + " has no PixelData (7FE0,0010)");
  const gdcm::DataElement& pd = ds.GetDataElement(pixel_tag);
  const gdcm::ByteValue* bv = pd.GetByteValue();
  if (pd.GetSequenceOfFragments())
    throw FormatError(where + ": encapsulated (compressed) PixelData (7FE0,0010) is not supported (transfer syntax " +
                      std::string(gdcm::TransferSyntax::GetTSString(gf.GetHeader().GetDataSetTransferSyntax())) + ")");
  const std::size_t pixels = static_cast<std::size_t>(h.rows) * static_cast<std::size_t>(h.cols) *
                             static_cast<std::size_t>(h.frames);
  const std::size_t expected = h.binary ? (pixels + 7) / 8 : pixels;
  const std::size_t actual = bv && bv->GetPointer() ? static_cast<std::size_t>(static_cast<std::uint32_t>(bv->GetLength())) : 0;
  if (actual != expected && actual != expected + (expected % 2))
    throw FormatError(where + ": PixelData (7FE0,0010) holds " + std::to_string(actual) + " bytes, expected " +
                      std::to_string(expected) + " (Rows " + std::to_string(h.rows) + " x Columns " +
                      std::to_string(h.cols) + " x NumberOfFrames " + std::to_string(h.frames) +
                      (h.binary ? ", 1 bit per pixel)" : ", 8 bits per pixel)"));
  PixelSource px;
  px.data = reinterpret_cast<const unsigned char*>(bv->GetPointer());
  px.rows = h.rows;
  px.cols = h.cols;
  px.binary = h.binary;
  px.max_fractional = h.max_fractional;

  Volume out;
  out.geometry = grid;
  out.voxels.assign(static_cast<std::size_t>(grid.voxel_count()), 0.0f);
  std::int64_t placed = 0, dropped = 0, inside = 0;
  long n_frames = 0;
  std::vector<std::pair<long, const FramePlane*>> to_resample;
  for (long fr = 0; fr < h.frames; ++fr) {
    const FramePlane& f = frames[static_cast<std::size_t>(fr)];
    if (f.segment != seg.label) continue;
    ++n_frames;
    std::int64_t in_frame = 0;
    for (long y = 0; y < h.rows; ++y)
      for (long x = 0; x < h.cols; ++x) in_frame += px.inside(fr, y, x);
    inside += in_frame;
    if (in_frame == 0) continue;
    if (!place_direct(f, fr, px, grid, out, placed, dropped)) to_resample.emplace_back(fr, &f);
  }
  const std::string name = "segment '" + seg.name + "' [" + std::to_string(seg.label) + "]";
  if (n_frames == 0) throw ValidationError(where + ": " + name + " has no frames");
  if (inside == 0) throw ValidationError(where + ": " + name + " is empty (no pixel of its " + std::to_string(n_frames) + " frames is set)");
  if (!to_resample.empty()) {
    notes.info(fmt::format("{}: {} frame(s) of {} are not on the image grid; resampled nearest-neighbour", where,
                           to_resample.size(), name));
    place_resampled(where, to_resample, px, grid, out, placed);
  }
  if (placed == 0)
    throw ValidationError(where + ": " + name + " lies outside the image (none of its " + std::to_string(inside) +
                          " pixels falls on the image grid): drawn on another series?");
  if (dropped > 0)
    notes.warn(fmt::format("{}: {} pixel(s) of {} lie outside the image and are dropped", where, dropped, name));
  out.metadata["format"] = "dicom-seg";
  out.metadata["segment_label"] = seg.name;
  out.metadata["segment_number"] = std::to_string(seg.label);
  return out;
}

}  // namespace

Volume read_dicom_seg_mask(const fs::path& file, const Geometry& grid, const std::string& selector) {
  check_grid(grid, file, "segments");
  // Parsed and placed in a child process (a GDCM abort on a corrupt file is a FormatError).
  return decode_mask(parse_isolated(file, "DICOM-SEG", [&](Notes& notes) {
    return encode_mask(seg_mask_in_process(file, grid, selector, notes));
  }), grid);
}

}  // namespace cervirisk::io
