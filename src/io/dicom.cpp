// DICOM series reader over GDCM. Geometry: DICOM PS3.3 C.7.6.2.1.1 (Image Position / Image
// Orientation (Patient): the patient coordinate system is LPS, the row cosine is the direction
// of increasing column index); enhanced multi-frame: PS3.3 C.7.6.16 (per-frame and shared
// functional groups). Character sets: PS3.3 C.12.1.1.2 (Specific Character Set -> ICU names).
#include "io/dicom.h"

#include <gdcmDataSet.h>
#include <gdcmFileMetaInformation.h>
#include <gdcmImage.h>
#include <gdcmImageReader.h>
#include <gdcmReader.h>
#include <gdcmSequenceOfItems.h>
#include <gdcmStringFilter.h>
#include <gdcmTrace.h>
#include <gdcmTransferSyntax.h>
#include <unicode/ucnv.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <numeric>
#include <regex>
#include <sstream>

#include "core/error.h"
#include "core/log.h"

namespace cervirisk::io {
namespace {

namespace fs = std::filesystem;

void quiet_gdcm() {
  static std::once_flag once;
  std::call_once(once, [] {
    gdcm::Trace::SetDebug(false);
    gdcm::Trace::SetWarning(false);
    gdcm::Trace::SetError(false);
  });
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  std::size_t b = 0;
  while (b < s.size() && s[b] == ' ') ++b;
  return s.substr(b);
}

// Raw bytes of a string-valued element (DS, IS, CS, LO, UI, ...): no endianness involved.
std::string raw_string(const gdcm::DataSet& ds, std::uint16_t g, std::uint16_t e) {
  gdcm::Tag t(g, e);
  if (!ds.FindDataElement(t)) return "";
  const gdcm::ByteValue* bv = ds.GetDataElement(t).GetByteValue();
  if (!bv || !bv->GetPointer()) return "";
  return std::string(bv->GetPointer(), bv->GetLength());
}

std::vector<double> numbers(const std::string& s) {
  std::vector<double> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, '\\')) {
    item = trim(item);
    if (item.empty()) continue;
    try {
      out.push_back(std::stod(item));
    } catch (...) {
      return {};
    }
  }
  return out;
}

std::vector<double> numbers(const gdcm::DataSet& ds, std::uint16_t g, std::uint16_t e) {
  return numbers(raw_string(ds, g, e));
}

const gdcm::DataSet* first_item(const gdcm::DataSet& ds, std::uint16_t g, std::uint16_t e) {
  gdcm::Tag t(g, e);
  if (!ds.FindDataElement(t)) return nullptr;
  gdcm::SmartPointer<gdcm::SequenceOfItems> sq = ds.GetDataElement(t).GetValueAsSQ();
  if (!sq || sq->GetNumberOfItems() < 1) return nullptr;
  return &sq->GetItem(1).GetNestedDataSet();
}

// DICOM defined terms -> ICU converter names (PS3.3 Table C.12-2..5).
const char* icu_charset(const std::string& term) {
  static const std::map<std::string, const char*> m = {
      {"", "ISO-8859-1"},  // default repertoire is ASCII; Latin-1 is a superset
      {"ISO_IR 6", "ISO-8859-1"},        {"ISO_IR 100", "ISO-8859-1"},   {"ISO_IR 101", "ISO-8859-2"},
      {"ISO_IR 109", "ISO-8859-3"},      {"ISO_IR 110", "ISO-8859-4"},   {"ISO_IR 144", "ISO-8859-5"},
      {"ISO_IR 127", "ISO-8859-6"},      {"ISO_IR 126", "ISO-8859-7"},   {"ISO_IR 138", "ISO-8859-8"},
      {"ISO_IR 148", "ISO-8859-9"},      {"ISO_IR 203", "ISO-8859-15"},  {"ISO_IR 166", "TIS-620"},
      {"ISO_IR 13", "Shift_JIS"},        {"ISO_IR 192", "UTF-8"},        {"GB18030", "GB18030"},
      {"GBK", "GBK"},                    {"ISO 2022 IR 6", "ISO-8859-1"}, {"ISO 2022 IR 100", "ISO-8859-1"},
      {"ISO 2022 IR 87", "ISO-2022-JP-2"}, {"ISO 2022 IR 159", "ISO-2022-JP-2"},
      {"ISO 2022 IR 149", "ISO-2022-KR"}, {"ISO 2022 IR 58", "ISO-2022-CN"},
  };
  auto it = m.find(term);
  return it == m.end() ? nullptr : it->second;
}

// Text of a string element in UTF-8, decoded with the file's Specific Character Set.
std::string decode_text(const std::string& raw, const std::string& charset_value) {
  bool ascii = std::all_of(raw.begin(), raw.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii && raw.find('\x1b') == std::string::npos) return trim(raw);
  // Several values (code extensions): use the last non-empty one that we know, which is the
  // one that carries the non-ASCII repertoire in practice (e.g. "\ISO 2022 IR 87").
  std::vector<std::string> terms;
  std::stringstream ss(charset_value);
  std::string t;
  while (std::getline(ss, t, '\\')) terms.push_back(trim(t));
  const char* name = nullptr;
  for (auto it = terms.rbegin(); it != terms.rend() && !name; ++it)
    if (!it->empty()) name = icu_charset(*it);
  if (!name) name = icu_charset(terms.empty() ? "" : terms.front());
  if (!name) name = "ISO-8859-1";
  UErrorCode err = U_ZERO_ERROR;
  std::string out(raw.size() * 4 + 16, '\0');
  int32_t n = ucnv_convert("UTF-8", name, out.data(), static_cast<int32_t>(out.size()), raw.data(),
                           static_cast<int32_t>(raw.size()), &err);
  if (U_FAILURE(err)) {
    std::string safe = raw;
    for (char& c : safe)
      if (static_cast<unsigned char>(c) >= 0x80) c = '?';
    return trim(safe);
  }
  out.resize(static_cast<std::size_t>(n));
  return trim(out);
}

struct SliceInfo {
  fs::path file;
  std::string series_uid, description, modality, sop_class, transfer_syntax, image_type, photometric;
  std::vector<double> iop, ipp, pixel_spacing;
  double slice_thickness = 0, spacing_between = 0;
  long rows = 0, cols = 0, frames = 1;
  std::string echo, b_value;
  bool multiframe_functional = false;
};

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

long to_long(const std::string& s) {
  try {
    return std::stol(trim(s));
  } catch (...) {
    return 0;
  }
}

bool read_header(const fs::path& file, SliceInfo& s, std::string& why) {
  gdcm::Reader reader;
  reader.SetFileName(file.string().c_str());
  std::set<gdcm::Tag> skip;
  skip.insert(gdcm::Tag(0x7fe0, 0x0010));
  if (!reader.ReadUpToTag(gdcm::Tag(0x7fe0, 0x0010), skip)) {
    why = "not a readable DICOM file";
    return false;
  }
  const gdcm::File& f = reader.GetFile();
  const gdcm::DataSet& ds = f.GetDataSet();
  s.file = file;
  std::string ms = trim(raw_string(f.GetHeader(), 0x0002, 0x0002));
  if (ms == "1.2.840.10008.1.3.10") {
    why = "a DICOMDIR (media directory), not an image";
    return false;
  }
  gdcm::StringFilter sf;
  sf.SetFile(f);
  s.rows = ds.FindDataElement(gdcm::Tag(0x0028, 0x0010)) ? to_long(sf.ToString(gdcm::Tag(0x0028, 0x0010))) : 0;
  s.cols = ds.FindDataElement(gdcm::Tag(0x0028, 0x0011)) ? to_long(sf.ToString(gdcm::Tag(0x0028, 0x0011))) : 0;
  if (s.rows <= 0 || s.cols <= 0) {
    why = "no image (Rows/Columns missing)";
    return false;
  }
  const std::string charset = raw_string(ds, 0x0008, 0x0005);
  s.series_uid = trim(raw_string(ds, 0x0020, 0x000e));
  s.description = decode_text(raw_string(ds, 0x0008, 0x103e), charset);
  s.modality = trim(raw_string(ds, 0x0008, 0x0060));
  s.sop_class = trim(raw_string(ds, 0x0008, 0x0016));
  s.image_type = upper(trim(raw_string(ds, 0x0008, 0x0008)));
  s.photometric = trim(raw_string(ds, 0x0028, 0x0004));
  s.transfer_syntax = gdcm::TransferSyntax::GetTSString(f.GetHeader().GetDataSetTransferSyntax());
  s.iop = numbers(ds, 0x0020, 0x0037);
  s.ipp = numbers(ds, 0x0020, 0x0032);
  s.pixel_spacing = numbers(ds, 0x0028, 0x0030);
  auto th = numbers(ds, 0x0018, 0x0050);
  s.slice_thickness = th.empty() ? 0 : th[0];
  auto sb = numbers(ds, 0x0018, 0x0088);
  s.spacing_between = sb.empty() ? 0 : sb[0];
  s.frames = std::max(1L, to_long(raw_string(ds, 0x0028, 0x0008)));
  s.echo = trim(raw_string(ds, 0x0018, 0x0086)) + "/" + trim(raw_string(ds, 0x0018, 0x0081));
  s.b_value = trim(raw_string(ds, 0x0018, 0x9087));
  s.multiframe_functional = ds.FindDataElement(gdcm::Tag(0x5200, 0x9230));
  if (s.multiframe_functional) {
    // Shared groups give orientation and spacing; per-frame positions are read with the pixels.
    if (const gdcm::DataSet* sh = first_item(ds, 0x5200, 0x9229)) {
      if (const gdcm::DataSet* po = first_item(*sh, 0x0020, 0x9116)) s.iop = numbers(*po, 0x0020, 0x0037);
      if (const gdcm::DataSet* pm = first_item(*sh, 0x0028, 0x9110)) {
        s.pixel_spacing = numbers(*pm, 0x0028, 0x0030);
        auto t2 = numbers(*pm, 0x0018, 0x0050);
        if (!t2.empty()) s.slice_thickness = t2[0];
      }
    }
    if (const gdcm::DataSet* pf = first_item(ds, 0x5200, 0x9230)) {
      if (s.iop.size() != 6)
        if (const gdcm::DataSet* po = first_item(*pf, 0x0020, 0x9116)) s.iop = numbers(*po, 0x0020, 0x0037);
      if (s.pixel_spacing.size() != 2)
        if (const gdcm::DataSet* pm = first_item(*pf, 0x0028, 0x9110)) s.pixel_spacing = numbers(*pm, 0x0028, 0x0030);
      if (const gdcm::DataSet* pp = first_item(*pf, 0x0020, 0x9113)) s.ipp = numbers(*pp, 0x0020, 0x0032);
    }
  }
  return true;
}

Vec3 cross(const Vec3& a, const Vec3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
double dot(const Vec3& a, const Vec3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

std::string orientation_key(const std::vector<double>& iop) {
  std::string k;
  for (double v : iop) k += std::to_string(static_cast<long>(std::llround(v * 1e4))) + ",";
  return k;
}

// Per-frame positions and rescale of an enhanced multi-frame file (PS3.3 C.7.6.16).
struct FrameInfo {
  Vec3 ipp{0, 0, 0};
  double slope = 1, intercept = 0;
  bool has_rescale = false;
};

std::vector<FrameInfo> frame_infos(const fs::path& file, std::string& why) {
  gdcm::Reader reader;
  reader.SetFileName(file.string().c_str());
  std::set<gdcm::Tag> skip;
  skip.insert(gdcm::Tag(0x7fe0, 0x0010));
  if (!reader.ReadUpToTag(gdcm::Tag(0x7fe0, 0x0010), skip)) {
    why = "not readable";
    return {};
  }
  const gdcm::DataSet& ds = reader.GetFile().GetDataSet();
  FrameInfo shared;
  if (const gdcm::DataSet* sh = first_item(ds, 0x5200, 0x9229))
    if (const gdcm::DataSet* pv = first_item(*sh, 0x0028, 0x9145)) {
      auto sl = numbers(*pv, 0x0028, 0x1053), in = numbers(*pv, 0x0028, 0x1052);
      if (!sl.empty()) shared.slope = sl[0], shared.has_rescale = true;
      if (!in.empty()) shared.intercept = in[0];
    }
  gdcm::Tag t(0x5200, 0x9230);
  if (!ds.FindDataElement(t)) return {};
  gdcm::SmartPointer<gdcm::SequenceOfItems> sq = ds.GetDataElement(t).GetValueAsSQ();
  std::vector<FrameInfo> out;
  if (!sq) return out;
  for (gdcm::SequenceOfItems::SizeType i = 1; i <= sq->GetNumberOfItems(); ++i) {
    const gdcm::DataSet& item = sq->GetItem(i).GetNestedDataSet();
    FrameInfo f = shared;
    const gdcm::DataSet* pp = first_item(item, 0x0020, 0x9113);
    std::vector<double> p = pp ? numbers(*pp, 0x0020, 0x0032) : std::vector<double>{};
    if (p.size() != 3) {
      why = "frame " + std::to_string(i) + " has no Plane Position (Patient)";
      return {};
    }
    f.ipp = {p[0], p[1], p[2]};
    if (const gdcm::DataSet* pv = first_item(item, 0x0028, 0x9145)) {
      auto sl = numbers(*pv, 0x0028, 0x1053), in = numbers(*pv, 0x0028, 0x1052);
      if (!sl.empty()) f.slope = sl[0], f.has_rescale = true;
      if (!in.empty()) f.intercept = in[0];
    }
    out.push_back(f);
  }
  return out;
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

}  // namespace

std::vector<DicomSeriesInfo> list_dicom_series(const fs::path& path) {
  quiet_gdcm();
  const std::vector<fs::path> files = collect_files(path);
  const bool single = files.size() == 1 && !fs::is_directory(path);
  std::map<std::string, std::vector<SliceInfo>> groups;  // key: uid | split
  std::map<std::string, std::string> split_of;
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
    std::string split = "orientation " + orientation_key(s.iop) + " size " + std::to_string(s.cols) + "x" +
                        std::to_string(s.rows) + " echo " + s.echo + " b " + s.b_value;
    const std::string key = s.series_uid + "|" + split;
    split_of[key] = split;
    groups[key].push_back(std::move(s));
  }
  if (n_images == 0) throw InputError("no DICOM image files in " + path.string());
  std::map<std::string, int> per_uid;
  for (const auto& [key, v] : groups) ++per_uid[v.front().series_uid];

  std::vector<DicomSeriesInfo> out;
  for (auto& [key, slices] : groups) {
    DicomSeriesInfo s;
    const SliceInfo& h = slices.front();
    s.series_uid = h.series_uid;
    s.description = h.description;
    s.modality = h.modality;
    s.sop_class_uid = h.sop_class;
    s.transfer_syntax = h.transfer_syntax;
    if (per_uid[h.series_uid] > 1) s.split_key = split_of[key];
    s.geometry.shape = {h.cols, h.rows, 0};
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
    if (!s.skip_reason.empty()) {
      s.n_slices = static_cast<int>(slices.size());
      for (const auto& sl : slices) s.files.push_back(sl.file);
      out.push_back(std::move(s));
      continue;
    }
    std::vector<Vec3> positions;
    if (h.frames > 1 || h.multiframe_functional) {
      if (slices.size() > 1) {
        s.skip_reason = "several multi-frame files in one series: not supported";
        out.push_back(std::move(s));
        continue;
      }
      s.multiframe = true;
      s.files = {h.file};
      std::string why;
      std::vector<FrameInfo> fr = h.multiframe_functional ? frame_infos(h.file, why) : std::vector<FrameInfo>{};
      if (fr.empty()) {
        s.skip_reason = "multi-frame file without per-frame positions" + (why.empty() ? "" : ": " + why);
        out.push_back(std::move(s));
        continue;
      }
      for (const auto& f : fr) positions.push_back(f.ipp);
    } else {
      for (const auto& sl : slices) positions.push_back({sl.ipp[0], sl.ipp[1], sl.ipp[2]});
    }
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
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const DicomSeriesInfo& a, const DicomSeriesInfo& b) {
    return std::tie(a.description, a.series_uid, a.split_key) < std::tie(b.description, b.series_uid, b.split_key);
  });
  return out;
}

namespace {

// GDCM zero-pads native pixel data that ends early (with only a warning on its trace stream).
// Find the Pixel Data element header by its exact bytes (tag, optional VR, the declared
// length: 8-12 bytes that do not occur by chance) and check that the file holds the value.
void check_native_pixel_length(const fs::path& file, std::uint32_t declared, bool big_endian) {
  std::ifstream f(file, std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  unsigned char len_le[4] = {static_cast<unsigned char>(declared), static_cast<unsigned char>(declared >> 8),
                             static_cast<unsigned char>(declared >> 16), static_cast<unsigned char>(declared >> 24)};
  std::vector<std::string> patterns;
  std::string tag_le("\xe0\x7f\x10\x00", 4), tag_be("\x7f\xe0\x00\x10", 4);
  std::string l_le(reinterpret_cast<char*>(len_le), 4), l_be(l_le.rbegin(), l_le.rend());
  if (big_endian) {
    patterns = {tag_be + "OW" + std::string(2, '\0') + l_be, tag_be + "OB" + std::string(2, '\0') + l_be};
  } else {
    patterns = {tag_le + "OW" + std::string(2, '\0') + l_le, tag_le + "OB" + std::string(2, '\0') + l_le, tag_le + l_le};
  }
  std::size_t best = std::string::npos, best_len = 0;
  for (const auto& p : patterns) {
    std::size_t at = raw.rfind(p);
    if (at != std::string::npos && (best == std::string::npos || at > best)) best = at, best_len = p.size();
  }
  if (best == std::string::npos) return;  // not found: nothing to say
  const std::size_t have = raw.size() - (best + best_len);
  if (have < declared)
    throw FormatError("truncated pixel data in DICOM file " + file.string() + ": " + std::to_string(have) +
                      " of " + std::to_string(declared) + " bytes present");
}

struct DecodedFrames {
  std::vector<double> values;  // stored values (sign-extended), frame after frame
  long rows = 0, cols = 0, frames = 0;
  double slope = 1, intercept = 0;
  bool monochrome1 = false;
  int bits_stored = 16;
  bool is_signed = false;
};

DecodedFrames decode(const fs::path& file) {
  gdcm::ImageReader reader;
  reader.SetFileName(file.string().c_str());
  if (!reader.Read())
    throw FormatError("cannot decode DICOM file " + file.string() +
                      ": GDCM could not read it (corrupt, truncated or unsupported transfer syntax)");
  const gdcm::Image& img = reader.GetImage();
  const gdcm::PixelFormat& pf = img.GetPixelFormat();
  if (pf.GetSamplesPerPixel() != 1)
    throw FormatError("unsupported DICOM image " + file.string() + ": " + std::to_string(pf.GetSamplesPerPixel()) +
                      " samples per pixel (colour); only grey-scale is read");
  DecodedFrames d;
  d.cols = img.GetDimension(0);
  d.rows = img.GetDimension(1);
  d.frames = img.GetNumberOfDimensions() > 2 ? img.GetDimension(2) : 1;
  d.slope = img.GetSlope();
  d.intercept = img.GetIntercept();
  d.monochrome1 = img.GetPhotometricInterpretation() == gdcm::PhotometricInterpretation::MONOCHROME1;
  d.bits_stored = pf.GetBitsStored();
  d.is_signed = pf.GetPixelRepresentation() == 1;
  const std::size_t n = static_cast<std::size_t>(d.cols) * d.rows * d.frames;
  std::vector<char> buf(img.GetBufferLength());
  if (!img.GetBuffer(buf.data()))
    throw FormatError("cannot decode the pixel data of DICOM file " + file.string() + " (transfer syntax " +
                      gdcm::TransferSyntax::GetTSString(img.GetTransferSyntax()) + ")");
  const std::size_t bytes = pf.GetPixelSize();
  const gdcm::DataSet& ds = reader.GetFile().GetDataSet();
  if (ds.FindDataElement(gdcm::Tag(0x7fe0, 0x0010))) {
    const gdcm::DataElement& pd = ds.GetDataElement(gdcm::Tag(0x7fe0, 0x0010));
    if (!pd.GetSequenceOfFragments() && !pd.GetVL().IsUndefined())
      check_native_pixel_length(file, static_cast<std::uint32_t>(pd.GetVL()),
                                reader.GetFile().GetHeader().GetDataSetTransferSyntax() ==
                                    gdcm::TransferSyntax::ExplicitVRBigEndian);
  }
  if (buf.size() < n * bytes)
    throw FormatError("truncated pixel data in DICOM file " + file.string() + ": " + std::to_string(buf.size()) +
                      " bytes, expected " + std::to_string(n * bytes));
  d.values.resize(n);
  const int bs = pf.GetBitsStored();
  auto sign_extend = [&](std::int64_t v) -> double {
    if (bs >= 64 || bs <= 0) return static_cast<double>(v);
    std::int64_t mask = (std::int64_t{1} << bs) - 1;
    v &= mask;
    if (d.is_signed && (v >> (bs - 1)) & 1) v -= (std::int64_t{1} << bs);
    return static_cast<double>(v);
  };
  switch (pf.GetScalarType()) {
    case gdcm::PixelFormat::UINT8:
    case gdcm::PixelFormat::INT8:
      for (std::size_t i = 0; i < n; ++i) d.values[i] = sign_extend(static_cast<unsigned char>(buf[i]));
      break;
    case gdcm::PixelFormat::UINT12:
    case gdcm::PixelFormat::INT12:
    case gdcm::PixelFormat::UINT16:
    case gdcm::PixelFormat::INT16:
      for (std::size_t i = 0; i < n; ++i) {
        std::uint16_t v;
        std::memcpy(&v, buf.data() + 2 * i, 2);
        d.values[i] = sign_extend(v);
      }
      break;
    case gdcm::PixelFormat::UINT32:
    case gdcm::PixelFormat::INT32:
      for (std::size_t i = 0; i < n; ++i) {
        std::uint32_t v;
        std::memcpy(&v, buf.data() + 4 * i, 4);
        d.values[i] = sign_extend(v);
      }
      break;
    case gdcm::PixelFormat::FLOAT32:
      for (std::size_t i = 0; i < n; ++i) {
        float v;
        std::memcpy(&v, buf.data() + 4 * i, 4);
        d.values[i] = v;
      }
      break;
    case gdcm::PixelFormat::FLOAT64:
      for (std::size_t i = 0; i < n; ++i) {
        double v;
        std::memcpy(&v, buf.data() + 8 * i, 8);
        d.values[i] = v;
      }
      break;
    default:
      throw FormatError("unsupported DICOM pixel format in " + file.string() + " (" +
                        std::string(pf.GetScalarTypeAsString()) + ")");
  }
  if (d.monochrome1) {
    // MONOCHROME1: minimum = white. Invert within the stored range so that bright = high, as
    // MONOCHROME2 (PS3.3 C.7.6.3.1.2).
    const double lo = d.is_signed ? -std::ldexp(1.0, bs - 1) : 0.0;
    const double hi = d.is_signed ? std::ldexp(1.0, bs - 1) - 1 : std::ldexp(1.0, bs) - 1;
    for (double& v : d.values) v = lo + hi - v;
  }
  return d;
}

}  // namespace

Volume read_dicom_series(const DicomSeriesInfo& s) {
  quiet_gdcm();
  if (!s.skip_reason.empty())
    throw FormatError("cannot read DICOM series " + s.series_uid + " ('" + s.description + "'): " + s.skip_reason);
  Volume v;
  v.geometry = s.geometry;
  const std::int64_t ni = s.geometry.shape[0], nj = s.geometry.shape[1], nk = s.geometry.shape[2];
  v.voxels.resize(static_cast<std::size_t>(ni * nj * nk));
  const std::size_t plane = static_cast<std::size_t>(ni * nj);
  if (s.multiframe) {
    const fs::path& file = s.files.front();
    std::string why;
    std::vector<FrameInfo> fr = frame_infos(file, why);
    DecodedFrames d = decode(file);
    if (static_cast<std::int64_t>(fr.size()) != d.frames || d.frames != nk || d.cols != ni || d.rows != nj)
      throw FormatError("inconsistent multi-frame DICOM file " + file.string() + ": " + std::to_string(d.frames) +
                        " frames of " + std::to_string(d.cols) + "x" + std::to_string(d.rows) + ", " +
                        std::to_string(fr.size()) + " per-frame groups");
    Vec3 n{s.geometry.direction_lps[0][2], s.geometry.direction_lps[1][2], s.geometry.direction_lps[2][2]};
    std::vector<std::size_t> order(fr.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return dot(fr[a].ipp, n) < dot(fr[b].ipp, n); });
    for (std::int64_t k = 0; k < nk; ++k) {
      const FrameInfo& f = fr[order[static_cast<std::size_t>(k)]];
      double slope = f.has_rescale ? f.slope : d.slope, inter = f.has_rescale ? f.intercept : d.intercept;
      const double* src = d.values.data() + order[static_cast<std::size_t>(k)] * plane;
      float* dst = v.voxels.data() + static_cast<std::size_t>(k) * plane;
      for (std::size_t i = 0; i < plane; ++i) dst[i] = static_cast<float>(src[i] * slope + inter);
    }
  } else {
    for (std::int64_t k = 0; k < nk; ++k) {
      const fs::path& file = s.files[static_cast<std::size_t>(k)];
      DecodedFrames d = decode(file);
      if (d.cols != ni || d.rows != nj || d.frames != 1)
        throw FormatError("DICOM file " + file.string() + " is " + std::to_string(d.cols) + "x" +
                          std::to_string(d.rows) + "x" + std::to_string(d.frames) + ", the series is " +
                          std::to_string(ni) + "x" + std::to_string(nj));
      float* dst = v.voxels.data() + static_cast<std::size_t>(k) * plane;
      for (std::size_t i = 0; i < plane; ++i) dst[i] = static_cast<float>(d.values[i] * d.slope + d.intercept);
    }
  }
  v.metadata["format"] = "dicom";
  v.metadata["series_uid"] = s.series_uid;
  v.metadata["description"] = s.description;
  v.metadata["modality"] = s.modality;
  v.metadata["transfer_syntax"] = s.transfer_syntax;
  v.metadata["datatype"] = "float32";
  return v;
}

Volume read_dicom(const fs::path& path, const DicomReadOptions& options) {
  std::vector<DicomSeriesInfo> all = list_dicom_series(path);
  std::vector<const DicomSeriesInfo*> readable, primary;
  for (const auto& s : all)
    if (s.skip_reason.empty()) {
      readable.push_back(&s);
      if (s.exclude_reason.empty()) primary.push_back(&s);
    }
  std::vector<const DicomSeriesInfo*> chosen;
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
  auto listing = [&] {
    std::string l;
    for (const auto& s : all)
      l += "\n  " + s.series_uid + (s.split_key.empty() ? "" : " [" + s.split_key + "]") + " '" + s.description +
           "' " + std::to_string(s.n_slices) + " slice(s)" + (s.skip_reason.empty() ? "" : " (unreadable: " + s.skip_reason + ")") +
           (s.exclude_reason.empty() ? "" : " (" + s.exclude_reason + ")");
    return l;
  };
  if (chosen.size() == 1) return read_dicom_series(*chosen.front());
  if (chosen.empty()) {
    if (readable.empty() && all.size() == 1) return read_dicom_series(all.front());  // names the reason
    throw InputError("no readable DICOM series" +
                     (options.series_pattern.empty() ? std::string() : " matches '" + options.series_pattern + "'") +
                     " in " + path.string() + ":" + listing());
  }
  throw InputError(std::to_string(chosen.size()) + " DICOM series in " + path.string() +
                   " could be the image; choose one with data.dicom_series (a pattern on the description) or a series UID:" +
                   listing());
}

}  // namespace cervirisk::io
