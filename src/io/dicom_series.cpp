// DICOM files -> regular 3D series (io/dicom.h): grouping by SeriesInstanceUID and the
// attributes that separate sub-series, sorting along the slice normal (PS3.3 C.7.6.2.1.1: the
// normal is row cosine x column cosine), the spacing check, and choosing the series to read.
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <regex>
#include <tuple>

#include <fmt/format.h>

#include "core/error.h"
#include "core/log.h"
#include "io/dicom.h"
#include "io/dicom_detail.h"

namespace cervirisk::io {
namespace {

namespace fs = std::filesystem;
using namespace dicom_detail;

std::string orientation_key(const std::vector<double>& iop) {
  std::string k;
  for (double v : iop) k += std::to_string(static_cast<long>(std::llround(v * 1e4))) + ",";
  return k;
}

// Geometry from the sorted positions: uniform spacing check (gaps, duplicates, in-plane drift).
void finish_geometry(DicomSeriesInfo& s, const std::vector<double>& iop, const std::vector<double>& ps,
                     std::vector<Vec3> positions, double single_spacing) {
  Vec3 row{iop[0], iop[1], iop[2]}, col{iop[3], iop[4], iop[5]};
  Vec3 n = cross(row, col);
  double nn = std::sqrt(dot(n, n));
  if (!(nn > 0.5)) {
    s.skip_reason = "invalid ImageOrientationPatient (row and column cosines are not orthogonal unit vectors)";
    return;
  }
  for (double& x : n) x /= nn;
  std::vector<double> d(positions.size());
  for (std::size_t i = 0; i < positions.size(); ++i) d[i] = dot(positions[i], n);
  // positions and files are sorted by the caller; here: duplicates, gaps, stacking
  double spacing = single_spacing > 0 ? single_spacing : 1.0;
  if (positions.size() > 1) {
    std::vector<double> gaps;
    for (std::size_t i = 1; i < d.size(); ++i) gaps.push_back(d[i] - d[i - 1]);
    for (std::size_t i = 0; i < gaps.size(); ++i)
      if (gaps[i] < 1e-3) {
        s.skip_reason = "duplicate slice position: slices " + std::to_string(i) + " and " + std::to_string(i + 1) +
                        " lie at the same position along the normal (" + std::to_string(d[i]) +
                        " mm); several acquisitions mixed in one series";
        return;
      }
    std::vector<double> sorted = gaps;
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2), sorted.end());
    double median = sorted[sorted.size() / 2];
    for (std::size_t i = 0; i < gaps.size(); ++i)
      if (std::fabs(gaps[i] - median) > std::max(0.01 * median, 0.01)) {
        s.skip_reason = "non-uniform slice spacing: gap of " + std::to_string(gaps[i]) + " mm between slices " +
                        std::to_string(i) + " and " + std::to_string(i + 1) + " (the other gaps are " +
                        std::to_string(median) + " mm): missing slices?";
        return;
      }
    spacing = (d.back() - d.front()) / static_cast<double>(d.size() - 1);
    // Slices must stack along the normal (no gantry tilt / in-plane shift).
    for (std::size_t i = 1; i < positions.size(); ++i) {
      Vec3 off;
      for (int r = 0; r < 3; ++r) off[r] = positions[i][r] - positions[0][r] - (d[i] - d[0]) * n[r];
      if (std::sqrt(dot(off, off)) > 0.01 * std::max(1.0, ps[0]) + 1e-3) {
        s.skip_reason = "slices are not stacked along the slice normal (gantry tilt or shifted slices) at slice " +
                        std::to_string(i);
        return;
      }
    }
  }
  Geometry& g = s.geometry;
  g.shape = {0, 0, static_cast<std::int64_t>(positions.size())};
  g.spacing_mm = {ps[1], ps[0], spacing};
  g.origin_lps_mm = positions.front();
  for (int r = 0; r < 3; ++r) {
    g.direction_lps[r][0] = row[r];
    g.direction_lps[r][1] = col[r];
    g.direction_lps[r][2] = n[r];
  }
}

std::vector<fs::path> collect_files(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError("DICOM path not found: " + path.string());
  std::vector<fs::path> files;
  if (fs::is_directory(path, ec)) {
    for (auto it = fs::recursive_directory_iterator(path, fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) break;
      if (it->is_regular_file(ec)) files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());
  } else {
    files.push_back(path);
  }
  return files;
}

// Files of one folder (or the one file), grouped into sub-series that are each one 3D grid.
struct SliceGroups {
  std::map<std::string, std::vector<SliceInfo>> slices;  // key: uid | orientation | size | echo | b
  std::map<std::string, std::string> split_of;            // key -> what tells it from its siblings
};

SliceGroups group_slices(const fs::path& path, const std::vector<fs::path>& files) {
  const bool single = files.size() == 1 && !fs::is_directory(path);
  SliceGroups g;
  std::size_t n_images = 0;
  for (const auto& f : files) {
    SliceInfo s;
    std::string why;
    if (!read_header(f, s, why)) {
      if (single) throw FormatError("cannot read DICOM file " + f.string() + ": " + why);
      log::debug("skipping {}: {}", f.string(), why);
      continue;
    }
    ++n_images;
    const std::string key = s.series_uid + "|" + orientation_key(s.iop) + "|" + std::to_string(s.cols) + "x" +
                            std::to_string(s.rows) + "|" + s.echo + "|" + s.b_value;
    std::string split = "orientation";
    for (double c : s.iop) split += fmt::format(" {:.3f}", c);
    split += ", " + std::to_string(s.cols) + "x" + std::to_string(s.rows);
    if (s.echo != "/") split += ", echo " + s.echo;
    if (!s.b_value.empty()) split += ", b " + s.b_value;
    g.split_of[key] = split;
    g.slices[key].push_back(std::move(s));
  }
  if (n_images == 0) throw InputError("no DICOM image files in " + path.string());
  return g;
}

// Why a series cannot be read as a 3D grid (skip_reason) or is never chosen automatically
// (exclude_reason), from its first file.
void classify(const SliceInfo& h, DicomSeriesInfo& s) {
  const std::string& it = h.image_type;
  if (it.find("MOSAIC") != std::string::npos) {
    s.skip_reason = "Siemens mosaic (several slices tiled in one image): not supported; convert with dcm2niix";
  } else if (h.iop.size() != 6 || h.ipp.size() != 3 || h.pixel_spacing.size() != 2) {
    s.skip_reason = "no image plane geometry (ImageOrientationPatient / ImagePositionPatient / PixelSpacing)";
  } else if (h.photometric != "MONOCHROME1" && h.photometric != "MONOCHROME2") {
    s.skip_reason = "photometric interpretation " + h.photometric + " (only grey-scale MONOCHROME1/2 is read)";
  }
  if (it.find("LOCALIZER") != std::string::npos ||
      std::regex_search(h.description, std::regex("localizer|scout|survey|pilot", std::regex::icase)))
    s.exclude_reason = "localizer";
  else if (it.rfind("DERIVED", 0) == 0)
    s.exclude_reason = "derived image (ImageType DERIVED)";
}

// Slice positions of a classified series: one per frame of a multi-frame file, else one per
// file. Empty with s.skip_reason set when they cannot be had.
std::vector<Vec3> slice_positions(const std::vector<SliceInfo>& slices, DicomSeriesInfo& s) {
  const SliceInfo& h = slices.front();
  std::vector<Vec3> positions;
  if (h.frames > 1 || h.multiframe_functional) {
    if (slices.size() > 1) {
      s.skip_reason = "several multi-frame files in one series: not supported";
      return {};
    }
    s.multiframe = true;
    s.files = {h.file};
    std::string why;
    std::vector<FrameInfo> fr = h.multiframe_functional ? frame_infos(h.file, why) : std::vector<FrameInfo>{};
    if (fr.empty()) {
      s.skip_reason = "multi-frame file without per-frame positions" + (why.empty() ? "" : ": " + why);
      return {};
    }
    for (const auto& f : fr) positions.push_back(f.ipp);
  } else {
    for (const auto& sl : slices) positions.push_back({sl.ipp[0], sl.ipp[1], sl.ipp[2]});
  }
  return positions;
}

DicomSeriesInfo make_series(const std::vector<SliceInfo>& slices) {
  DicomSeriesInfo s;
  const SliceInfo& h = slices.front();
  s.series_uid = h.series_uid;
  s.description = h.description;
  s.modality = h.modality;
  s.sop_class_uid = h.sop_class;
  s.transfer_syntax = h.transfer_syntax;
  s.geometry.shape = {h.cols, h.rows, 0};
  classify(h, s);
  if (!s.skip_reason.empty()) {
    s.n_slices = static_cast<int>(slices.size());
    for (const auto& sl : slices) s.files.push_back(sl.file);
    return s;
  }
  const std::vector<Vec3> positions = slice_positions(slices, s);
  if (!s.skip_reason.empty()) return s;
  // Sort along the slice normal (never by InstanceNumber).
  Vec3 n = cross({h.iop[0], h.iop[1], h.iop[2]}, {h.iop[3], h.iop[4], h.iop[5]});
  std::vector<std::size_t> order(positions.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return dot(positions[a], n) < dot(positions[b], n); });
  std::vector<Vec3> sorted;
  for (std::size_t i : order) sorted.push_back(positions[i]);
  if (!s.multiframe)
    for (std::size_t i : order) s.files.push_back(slices[i].file);
  s.n_slices = static_cast<int>(sorted.size());
  double single_spacing = h.spacing_between > 0 ? h.spacing_between : h.slice_thickness;
  finish_geometry(s, h.iop, h.pixel_spacing, sorted, single_spacing);
  s.geometry.shape[0] = h.cols;
  s.geometry.shape[1] = h.rows;
  s.geometry.shape[2] = s.n_slices;
  return s;
}

// The series a read_dicom call may mean (see io/dicom.h).
std::vector<const DicomSeriesInfo*> candidates(const std::vector<DicomSeriesInfo>& all, const fs::path& path,
                                               const DicomReadOptions& options) {
  std::vector<const DicomSeriesInfo*> readable, primary, chosen;
  for (const auto& s : all)
    if (s.skip_reason.empty()) {
      readable.push_back(&s);
      if (s.exclude_reason.empty()) primary.push_back(&s);
    }
  if (!options.series_uid.empty()) {
    for (const auto& s : all)
      if (s.series_uid == options.series_uid) chosen.push_back(&s);
    if (chosen.empty()) throw InputError("no DICOM series with SeriesInstanceUID " + options.series_uid + " in " + path.string());
  } else if (!options.series_pattern.empty()) {
    std::regex re;
    try {
      re = std::regex(options.series_pattern, std::regex::ECMAScript | std::regex::icase);
    } catch (const std::regex_error& e) {
      throw ConfigError("data.dicom_series: invalid regular expression '" + options.series_pattern + "': " + e.what());
    }
    for (const auto* s : readable)
      if (std::regex_search(s->description, re)) chosen.push_back(s);
  } else {
    // Localizers and derived images are not candidates, unless nothing else is there.
    chosen = primary.empty() ? readable : primary;
  }
  return chosen;
}

std::string listing(const std::vector<DicomSeriesInfo>& all) {
  std::string l;
  for (const auto& s : all)
    l += "\n  " + s.series_uid + (s.split_key.empty() ? "" : " [" + s.split_key + "]") + " '" + s.description +
         "' " + std::to_string(s.n_slices) + " slice(s)" + (s.skip_reason.empty() ? "" : " (unreadable: " + s.skip_reason + ")") +
         (s.exclude_reason.empty() ? "" : " (" + s.exclude_reason + ")");
  return l;
}

}  // namespace

std::vector<DicomSeriesInfo> list_dicom_series(const fs::path& path) {
  quiet_gdcm();
  const SliceGroups groups = group_slices(path, collect_files(path));
  std::map<std::string, int> per_uid;
  for (const auto& [key, v] : groups.slices) ++per_uid[v.front().series_uid];
  std::vector<DicomSeriesInfo> out;
  for (const auto& [key, slices] : groups.slices) {
    DicomSeriesInfo s = make_series(slices);
    if (per_uid[s.series_uid] > 1) s.split_key = groups.split_of.at(key);
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const DicomSeriesInfo& a, const DicomSeriesInfo& b) {
    return std::tie(a.description, a.series_uid, a.split_key) < std::tie(b.description, b.series_uid, b.split_key);
  });
  return out;
}

Volume read_dicom(const fs::path& path, const DicomReadOptions& options) {
  std::vector<DicomSeriesInfo> all = list_dicom_series(path);
  std::vector<const DicomSeriesInfo*> chosen = candidates(all, path, options);
  if (chosen.size() == 1) return read_dicom_series(*chosen.front());
  if (chosen.empty()) {
    const bool none_readable = std::none_of(all.begin(), all.end(), [](const auto& s) { return s.skip_reason.empty(); });
    if (none_readable && all.size() == 1) return read_dicom_series(all.front());  // names the reason
    throw InputError("no readable DICOM series" +
                     (options.series_pattern.empty() ? std::string() : " matches '" + options.series_pattern + "'") +
                     " in " + path.string() + ":" + listing(all));
  }
  throw InputError(std::to_string(chosen.size()) + " DICOM series in " + path.string() +
                   " could be the image; choose one with data.dicom_series (a pattern on the description) or a series UID:" +
                   listing(all));
}

}  // namespace cervirisk::io
