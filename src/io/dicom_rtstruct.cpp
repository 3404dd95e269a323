// RT Structure Set -> mask on an image grid (io/dicom_objects.h): PS3.3 C.8.8.5 Structure Set
// Module (StructureSetROISequence), C.8.8.6 ROI Contour Module (ROIContourSequence ->
// ContourSequence: ContourGeometricType, NumberOfContourPoints, ContourData in patient LPS mm).
#include <gdcmDataSet.h>
#include <gdcmReader.h>

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "core/error.h"
#include "io/dicom_detail.h"
#include "io/dicom_objects.h"

namespace cervirisk::io {
namespace {

namespace fs = std::filesystem;
using namespace dicom_objects_detail;

constexpr const char* kRtStructClass = "1.2.840.10008.5.1.4.1.1.481.3";

struct Point2 {
  double x, y;  // continuous (i, j) index coordinates
};

std::vector<SegmentInfo> read_rois(const fs::path& file, const gdcm::DataSet& ds) {
  Sequence rois(file, ds, 0x3006, 0x0020);
  if (!rois.present)
    throw FormatError("RTSTRUCT " + file.string() + " has no StructureSetROISequence (3006,0020)");
  const std::string charset = raw_bytes(ds, 0x0008, 0x0005);
  std::vector<SegmentInfo> out;
  for (std::size_t n = 0; n < rois.items.size(); ++n) {
    const gdcm::DataSet& item = *rois.items[n];
    std::vector<double> number;
    if (!parse_numbers(raw_bytes(item, 0x3006, 0x0022), number) || number.size() != 1 ||
        number[0] != std::floor(number[0]) || std::fabs(number[0]) > 2147483647.0)
      throw FormatError("RTSTRUCT " + file.string() + ": item " + std::to_string(n + 1) +
                        " of StructureSetROISequence (3006,0020) has no valid ROINumber (3006,0022): '" +
                        text(item, 0x3006, 0x0022) + "'");
    SegmentInfo s;
    s.label = static_cast<long>(number[0]);
    s.name = dicom_detail::decode_text(raw_bytes(item, 0x3006, 0x0026), charset);
    out.push_back(std::move(s));
  }
  return out;
}

// One ROI's closed planar contours, grouped by slice (k), in (i, j) index coordinates.
struct SliceContours {
  std::map<std::int64_t, std::vector<std::vector<Point2>>> by_slice;
  int skipped = 0;  // POINT / OPEN_* / fewer than 3 points
};

SliceContours read_contours(const fs::path& file, const gdcm::DataSet& ds, const SegmentInfo& roi,
                            const Geometry& grid, Notes& notes) {
  Sequence roi_contours(file, ds, 0x3006, 0x0039);
  if (!roi_contours.present)
    throw FormatError("RTSTRUCT " + file.string() + " has no ROIContourSequence (3006,0039)");
  const std::string roi_name = "ROI '" + roi.name + "' [" + std::to_string(roi.label) + "]";
  const gdcm::DataSet* mine = nullptr;
  for (std::size_t n = 0; n < roi_contours.items.size(); ++n) {
    std::vector<double> ref;
    if (!parse_numbers(raw_bytes(*roi_contours.items[n], 0x3006, 0x0084), ref) || ref.size() != 1)
      throw FormatError("RTSTRUCT " + file.string() + ": item " + std::to_string(n + 1) +
                        " of ROIContourSequence (3006,0039) has no valid ReferencedROINumber (3006,0084)");
    if (static_cast<long>(ref[0]) == roi.label && ref[0] == std::floor(ref[0])) {
      if (mine) throw FormatError("RTSTRUCT " + file.string() + ": two ROIContourSequence (3006,0039) items for " + roi_name);
      mine = roi_contours.items[n];
    }
  }
  if (!mine) throw ValidationError("RTSTRUCT " + file.string() + ": " + roi_name + " has no contours (no ROIContourSequence item)");
  Sequence contours(file, *mine, 0x3006, 0x0040);
  if (contours.items.empty())
    throw ValidationError("RTSTRUCT " + file.string() + ": " + roi_name + " has no contours (empty ContourSequence (3006,0040))");

  const double spacing_k = grid.spacing_mm[2];
  const double tol_k = (0.25 * spacing_k + 1e-3) / spacing_k;  // in slice units
  SliceContours out;
  std::vector<double> xyz;
  for (std::size_t n = 0; n < contours.items.size(); ++n) {
    const gdcm::DataSet& c = *contours.items[n];
    const std::string where = "contour " + std::to_string(n + 1) + " of " + roi_name + " in " + file.string();
    const std::string type = text(c, 0x3006, 0x0042);
    if (type.empty()) throw FormatError("RTSTRUCT " + where + " has no ContourGeometricType (3006,0042)");
    if (!parse_numbers(raw_bytes(c, 0x3006, 0x0050), xyz))
      throw FormatError("RTSTRUCT " + where + ": ContourData (3006,0050) holds a value that is not a number");
    if (xyz.size() % 3 != 0)
      throw FormatError("RTSTRUCT " + where + ": ContourData (3006,0050) holds " + std::to_string(xyz.size()) +
                        " values, not a multiple of 3 (x\\y\\z triplets)");
    std::vector<double> npts;
    if (has(c, 0x3006, 0x0046)) {
      if (!parse_numbers(raw_bytes(c, 0x3006, 0x0046), npts) || npts.size() != 1)
        throw FormatError("RTSTRUCT " + where + ": NumberOfContourPoints (3006,0046) is not a number");
      if (npts[0] != static_cast<double>(xyz.size() / 3))
        throw FormatError("RTSTRUCT " + where + ": NumberOfContourPoints (3006,0046) is " + fmt::format("{}", npts[0]) +
                          " but ContourData (3006,0050) holds " + std::to_string(xyz.size() / 3) + " points");
    }
    if (type != "CLOSED_PLANAR") {
      if (type != "POINT" && type != "OPEN_PLANAR" && type != "OPEN_NONPLANAR")
        throw FormatError("RTSTRUCT " + where + ": unknown ContourGeometricType (3006,0042) '" + type + "'");
      ++out.skipped;
      continue;
    }
    if (xyz.size() < 9) {
      ++out.skipped;
      continue;
    }
    std::vector<Point2> poly;
    double kmin = 1e300, kmax = -1e300, ksum = 0;
    for (std::size_t p = 0; p < xyz.size(); p += 3) {
      Vec3 ijk = grid.lps_to_index({xyz[p], xyz[p + 1], xyz[p + 2]});
      poly.push_back({ijk[0], ijk[1]});
      kmin = std::min(kmin, ijk[2]);
      kmax = std::max(kmax, ijk[2]);
      ksum += ijk[2];
    }
    const double kmean = ksum / static_cast<double>(poly.size());
    bool finite = std::isfinite(kmean) && std::isfinite(kmax - kmin);
    for (const Point2& q : poly) finite = finite && std::isfinite(q.x) && std::isfinite(q.y);
    if (!finite)
      throw FormatError("RTSTRUCT " + where + ": ContourData (3006,0050) holds coordinates out of range");
    const double k_round = std::round(kmean);
    if ((kmax - kmin) > 2 * tol_k)
      throw ValidationError(fmt::format(
          "RTSTRUCT {}: the contour is not parallel to the image slices (its points span {:.3f} mm along the slice "
          "normal; allowed {:.3f} mm): drawn on another series or a tilted plane?",
          where, (kmax - kmin) * spacing_k, 2 * tol_k * spacing_k));
    if (!(k_round >= 0 && k_round <= static_cast<double>(grid.shape[2] - 1))) {
      const double beyond = k_round < 0 ? -kmean : kmean - static_cast<double>(grid.shape[2] - 1);
      throw ValidationError(fmt::format(
          "RTSTRUCT {}: the contour lies outside the image, {:.3f} mm beyond the {} slice (slices 0..{})", where,
          beyond * spacing_k, k_round < 0 ? "first" : "last", grid.shape[2] - 1));
    }
    if (std::fabs(kmax - k_round) > tol_k || std::fabs(kmin - k_round) > tol_k)
      throw ValidationError(fmt::format(
          "RTSTRUCT {}: the contour lies between image slices, {:.3f} mm from slice {} along the slice normal "
          "(allowed {:.3f} mm; slice spacing {:.3f} mm): not drawn on this image series?",
          where, (kmean - k_round) * spacing_k, static_cast<std::int64_t>(k_round), tol_k * spacing_k, spacing_k));
    const auto k = static_cast<std::int64_t>(k_round);
    double xmin = 1e300, xmax = -1e300, ymin = 1e300, ymax = -1e300;
    for (const Point2& q : poly) {
      xmin = std::min(xmin, q.x), xmax = std::max(xmax, q.x), ymin = std::min(ymin, q.y), ymax = std::max(ymax, q.y);
    }
    const double ni = static_cast<double>(grid.shape[0]), nj = static_cast<double>(grid.shape[1]);
    if (xmax < -0.5 || ymax < -0.5 || xmin > ni - 0.5 || ymin > nj - 0.5)
      throw ValidationError("RTSTRUCT " + where + ": the contour lies outside the image (in the plane of slice " +
                            std::to_string(k) + ")");
    if (xmin < -0.5 || ymin < -0.5 || xmax > ni - 0.5 || ymax > nj - 0.5)
      notes.warn(fmt::format("RTSTRUCT {}: the contour extends beyond the image edge on slice {}; clipped", where, k));
    out.by_slice[k].push_back(std::move(poly));
  }
  return out;
}

// Even-odd scanline fill of all polygons of one slice: crossings on the pixel-centre rows
// y = j, an edge counted for y0 <= y < y1 (half-open), voxel i inside when x_a <= i < x_b for a
// pair (x_a, x_b) of sorted crossings.
std::int64_t fill_slice(const std::vector<std::vector<Point2>>& polys, Volume& out, std::int64_t k) {
  const std::int64_t ni = out.geometry.shape[0], nj = out.geometry.shape[1];
  std::int64_t filled = 0;
  std::vector<double> xs;
  for (std::int64_t j = 0; j < nj; ++j) {
    const double y = static_cast<double>(j);
    xs.clear();
    for (const auto& poly : polys) {
      const std::size_t n = poly.size();
      for (std::size_t e = 0; e < n; ++e) {
        const Point2& a = poly[e];
        const Point2& b = poly[(e + 1) % n];
        if ((a.y <= y && y < b.y) || (b.y <= y && y < a.y)) xs.push_back(a.x + (y - a.y) * (b.x - a.x) / (b.y - a.y));
      }
    }
    std::sort(xs.begin(), xs.end());
    for (std::size_t p = 0; p + 1 < xs.size(); p += 2) {
      const double lo = std::clamp(std::ceil(xs[p]), 0.0, static_cast<double>(ni));
      const double hi = std::clamp(std::ceil(xs[p + 1]), 0.0, static_cast<double>(ni));  // exclusive
      for (auto i = static_cast<std::int64_t>(lo); i < static_cast<std::int64_t>(hi); ++i) {
        float& v = out.at(i, j, k);
        if (v == 0.0f) ++filled;
        v = 1.0f;
      }
    }
  }
  return filled;
}

}  // namespace

std::vector<SegmentInfo> rtstruct_rois(const fs::path& file) {
  return decode_segments(parse_isolated(file, "RTSTRUCT", [&](Notes&) {
    gdcm::Reader reader;
    read_object(file, reader, "RTSTRUCT");
    const gdcm::DataSet& ds = reader.GetFile().GetDataSet();
    expect_sop_class(file, ds, kRtStructClass, "RTSTRUCT", "RT Structure Set");
    return encode_segments(read_rois(file, ds));
  }));
}

Volume read_rtstruct_mask(const fs::path& file, const Geometry& grid, const std::string& selector) {
  check_grid(grid, file, "structures");
  // Parsed and rasterised in a child process (a GDCM abort on a corrupt file is a FormatError).
  return decode_mask(parse_isolated(file, "RTSTRUCT", [&](Notes& notes) {
    gdcm::Reader reader;
    read_object(file, reader, "RTSTRUCT");
    const gdcm::DataSet& ds = reader.GetFile().GetDataSet();
    expect_sop_class(file, ds, kRtStructClass, "RTSTRUCT", "RT Structure Set");
    const std::vector<SegmentInfo> rois = read_rois(file, ds);
    const SegmentInfo& roi = rois[choose_segment(rois, selector, file.string(), "ROI")];
    const SliceContours contours = read_contours(file, ds, roi, grid, notes);
    if (contours.skipped > 0)
      notes.info(fmt::format("RTSTRUCT {}: ROI '{}': {} contour(s) that are not CLOSED_PLANAR (or have fewer than 3 "
                             "points) ignored", file.string(), roi.name, contours.skipped));
    Volume out;
    out.geometry = grid;
    out.voxels.assign(static_cast<std::size_t>(grid.voxel_count()), 0.0f);
    std::int64_t total = 0;
    for (const auto& [k, polys] : contours.by_slice) total += fill_slice(polys, out, k);
    if (total == 0)
      throw ValidationError("RTSTRUCT " + file.string() + ": ROI '" + roi.name + "' [" + std::to_string(roi.label) +
                            "] covers no voxel centre of the image" +
                            (contours.by_slice.empty() ? " (no closed planar contour)" : ""));
    out.metadata["format"] = "dicom-rtstruct";
    out.metadata["roi_name"] = roi.name;
    out.metadata["roi_number"] = std::to_string(roi.label);
    return encode_mask(out);
  }), grid);
}

}  // namespace cervirisk::io
