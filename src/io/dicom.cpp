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
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unicode/ucnv.h>
#include <unistd.h>

#include <cerrno>

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

#include <fmt/format.h>

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

long to_long(const std::string& s) {
  try {
    return std::stol(trim(s));
  } catch (...) {
    return 0;
  }
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


// Structural check of a DICOM file before GDCM sees it (PS3.5 7.1 data elements, 7.5 nesting,
// A.4 encapsulation): every element's length must fit in the file, sequences and items must be
// closed. Debian's GDCM is built with assertions that abort the process on some truncated
// files, so a corrupt file must be rejected here, with a FormatError naming the offset.
class StructureCheck {
 public:
  StructureCheck(const fs::path& file, const std::string& raw) : file_(file), b_(raw) {}

  void run() {
    std::size_t pos = 0;
    bool have_meta = b_.size() >= 132 && b_.compare(128, 4, "DICM") == 0;
    std::string ts = "1.2.840.10008.1.2";  // no meta header: implicit VR little endian
    if (have_meta) {
      pos = 132;
      // File Meta Information: always explicit VR little endian.
      while (pos + 8 <= b_.size() && u16(pos, false) == 0x0002) {
        std::uint16_t elem = u16(pos + 2, false);
        std::size_t vstart, len;
        header(pos, true, false, vstart, len);
        if (len == kUndefined) fail(pos, "undefined length in the file meta information");
        need(vstart, len, pos);
        if (elem == 0x0010) ts = trim(b_.substr(vstart, len));
        pos = vstart + len;
      }
      if (pos == 132) fail(pos, "no file meta information after 'DICM'");
    }
    if (ts == "1.2.840.10008.1.2.1.99") return;  // deflated: the stream is checked by zlib in GDCM
    explicit_ = ts != "1.2.840.10008.1.2";
    big_ = ts == "1.2.840.10008.1.2.2";
    dataset(pos, b_.size(), 0, false);
  }

 private:
  static constexpr std::size_t kUndefined = 0xFFFFFFFFu;

  [[noreturn]] void fail(std::size_t at, const std::string& what) const {
    throw FormatError("corrupt or truncated DICOM file " + file_.string() + ": " + what + " at byte " +
                      std::to_string(at) + " of " + std::to_string(b_.size()));
  }
  std::uint16_t u16(std::size_t at, bool big) const {
    auto p = reinterpret_cast<const unsigned char*>(b_.data()) + at;
    return big ? static_cast<std::uint16_t>(p[0] << 8 | p[1]) : static_cast<std::uint16_t>(p[1] << 8 | p[0]);
  }
  std::uint32_t u32(std::size_t at, bool big) const {
    auto p = reinterpret_cast<const unsigned char*>(b_.data()) + at;
    return big ? (std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3])
               : (std::uint32_t{p[3]} << 24 | std::uint32_t{p[2]} << 16 | std::uint32_t{p[1]} << 8 | p[0]);
  }
  void need(std::size_t start, std::size_t len, std::size_t element) const {
    if (start > b_.size() || len > b_.size() - start)
      fail(element, "element value of " + std::to_string(len) + " bytes runs past the end of the file");
  }
  // Element header at pos: value start and length (kUndefined for undefined length).
  void header(std::size_t pos, bool expl, bool big, std::size_t& vstart, std::size_t& len) const {
    if (pos + 8 > b_.size()) fail(pos, "truncated element header");
    std::uint16_t group = u16(pos, big);
    if (group == 0xFFFE || !expl) {  // items and delimiters never carry a VR
      len = u32(pos + 4, big);
      vstart = pos + 8;
      return;
    }
    char v0 = b_[pos + 4], v1 = b_[pos + 5];
    static const std::string kVrs =
        "AE AS AT CS DA DS DT FL FD IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV";
    bool known = false;
    for (std::size_t i = 0; i + 1 < kVrs.size() && !known; i += 3) known = kVrs[i] == v0 && kVrs[i + 1] == v1;
    if (!known) fail(pos, std::string("invalid value representation '") + (v0 >= 32 && v0 < 127 ? v0 : '?') +
                              (v1 >= 32 && v1 < 127 ? v1 : '?') + "'");
    static const char* kLong[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"};
    bool long_form = false;
    for (const char* l : kLong) long_form |= (v0 == l[0] && v1 == l[1]);
    if (long_form) {
      if (pos + 12 > b_.size()) fail(pos, "truncated element header");
      len = u32(pos + 8, big);
      vstart = pos + 12;
    } else {
      len = u16(pos + 6, big);
      vstart = pos + 8;
    }
  }
  // Elements from pos up to end (or an item delimiter when in_item with undefined length).
  std::size_t dataset(std::size_t pos, std::size_t end, int depth, bool until_delimiter) {
    if (depth > 32) fail(pos, "sequences nested deeper than 32 levels");
    while (pos < end) {
      std::size_t vstart, len;
      header(pos, explicit_, big_, vstart, len);
      std::uint16_t group = u16(pos, big_), elem = u16(pos + 2, big_);
      if (group == 0xFFFE && elem == 0xE00D) {  // item delimitation
        if (!until_delimiter) fail(pos, "item delimiter outside an item");
        return vstart;
      }
      if (group == 0xFFFE) fail(pos, "unexpected item tag");
      bool is_sq = explicit_ && b_[pos + 4] == 'S' && b_[pos + 5] == 'Q';
      if (len == kUndefined) {
        if (group == 0x7FE0 && elem == 0x0010) {
          pos = fragments(vstart);
        } else {
          // an SQ (explicit) or, implicit VR, an undefined-length element that can only be a
          // sequence; UN with undefined length is a sequence in implicit VR (PS3.5 6.2.2)
          pos = items(vstart, depth);
        }
        continue;
      }
      need(vstart, len, pos);
      if (is_sq) items_defined(vstart, vstart + len, depth);
      pos = vstart + len;
    }
    if (until_delimiter) fail(pos, "item without its delimiter (file ends)");
    return pos;
  }
  // Items of an undefined-length sequence, up to its delimiter.
  std::size_t items(std::size_t pos, int depth) {
    for (;;) {
      if (pos + 8 > b_.size()) fail(pos, "sequence without its delimiter (file ends)");
      std::uint16_t group = u16(pos, big_), elem = u16(pos + 2, big_);
      std::size_t len = u32(pos + 4, big_);
      if (group == 0xFFFE && elem == 0xE0DD) return pos + 8;
      if (group != 0xFFFE || elem != 0xE000) fail(pos, "expected an item in a sequence");
      if (len == kUndefined) {
        pos = dataset(pos + 8, b_.size(), depth + 1, true);
      } else {
        need(pos + 8, len, pos);
        dataset(pos + 8, pos + 8 + len, depth + 1, false);
        pos = pos + 8 + len;
      }
    }
  }
  void items_defined(std::size_t pos, std::size_t end, int depth) {
    while (pos < end) {
      if (pos + 8 > end) fail(pos, "truncated item header");
      std::uint16_t group = u16(pos, big_), elem = u16(pos + 2, big_);
      std::size_t len = u32(pos + 4, big_);
      if (group != 0xFFFE || elem != 0xE000) fail(pos, "expected an item in a sequence");
      if (len == kUndefined) {
        pos = dataset(pos + 8, end, depth + 1, true);
      } else {
        if (pos + 8 > end || len > end - (pos + 8)) fail(pos, "item runs past its sequence");
        dataset(pos + 8, pos + 8 + len, depth + 1, false);
        pos += 8 + len;
      }
    }
  }
  // Encapsulated pixel data: offset table + fragments, then the sequence delimiter.
  std::size_t fragments(std::size_t pos) {
    for (;;) {
      if (pos + 8 > b_.size()) fail(pos, "encapsulated pixel data without its delimiter (file ends)");
      std::uint16_t group = u16(pos, big_), elem = u16(pos + 2, big_);
      std::size_t len = u32(pos + 4, big_);
      if (group == 0xFFFE && elem == 0xE0DD) return pos + 8;
      if (group != 0xFFFE || elem != 0xE000 || len == kUndefined) fail(pos, "invalid pixel data fragment");
      need(pos + 8, len, pos);
      pos += 8 + len;
    }
  }

  fs::path file_;
  const std::string& b_;
  bool explicit_ = true, big_ = false;
};

void check_structure(const fs::path& file) {
  std::ifstream f(file, std::ios::binary);
  if (!f) throw InputError("cannot open DICOM file " + file.string());
  std::string raw((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  StructureCheck(file, raw).run();
}

// Pixel-module attributes GDCM asserts on (Debian builds keep assertions): check them first.
// PS3.3 C.7.6.3: Samples per Pixel 1/3/4, Bits Stored <= Bits Allocated, High Bit < Bits Stored.
void check_pixel_attributes(const fs::path& file, const gdcm::File& f) {
  const gdcm::DataSet& ds = f.GetDataSet();
  gdcm::StringFilter sf;
  sf.SetFile(f);
  auto us = [&](std::uint16_t e, long dflt) {
    gdcm::Tag t(0x0028, e);
    return ds.FindDataElement(t) && !ds.GetDataElement(t).IsEmpty() ? to_long(sf.ToString(t)) : dflt;
  };
  long spp = us(0x0002, 1), ba = us(0x0100, 0), bs = us(0x0101, ba), hb = us(0x0102, bs - 1), pr = us(0x0103, 0);
  long rows = us(0x0010, 0), cols = us(0x0011, 0);
  auto bad = [&](const std::string& what) {
    throw FormatError("corrupt DICOM file " + file.string() + ": " + what);
  };
  if (spp != 1 && spp != 3 && spp != 4) bad("SamplesPerPixel = " + std::to_string(spp) + ", expected 1, 3 or 4");
  if (ba != 1 && ba != 8 && ba != 12 && ba != 16 && ba != 32 && ba != 64)
    bad("BitsAllocated = " + std::to_string(ba) + ", expected 1, 8, 16, 32 or 64");
  if (bs < 1 || bs > ba) bad("BitsStored = " + std::to_string(bs) + " with BitsAllocated = " + std::to_string(ba));
  if (hb < 0 || hb >= bs) bad("HighBit = " + std::to_string(hb) + " with BitsStored = " + std::to_string(bs));
  if (pr != 0 && pr != 1) bad("PixelRepresentation = " + std::to_string(pr) + ", expected 0 or 1");
  if (rows < 1 || cols < 1 || rows > 65535 || cols > 65535)
    bad("Rows x Columns = " + std::to_string(rows) + " x " + std::to_string(cols));
  long frames = std::max(1L, to_long(raw_string(ds, 0x0028, 0x0008)));
  if (frames > 100000) bad("NumberOfFrames = " + std::to_string(frames));
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


bool read_header(const fs::path& file, SliceInfo& s, std::string& why) {
  {
    // Non-DICOM files in a folder are skipped quietly; a DICOM file that is corrupt is an error.
    std::ifstream f(file, std::ios::binary);
    char magic[4] = {0, 0, 0, 0};
    f.seekg(128);
    f.read(magic, 4);
    if (!f || std::string(magic, 4) != "DICM") {
      why = "not a DICOM Part 10 file (no 'DICM' at byte 128)";
      return false;
    }
  }
  check_structure(file);
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
  if (!ds.FindDataElement(gdcm::Tag(0x7fe0, 0x0010)) && !ds.FindDataElement(gdcm::Tag(0x0028, 0x0010))) {
    why = "no image (no Pixel Data)";
    return false;
  }
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
  check_pixel_attributes(file, f);
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
  check_structure(file);
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
    const std::string key = s.series_uid + "|" + orientation_key(s.iop) + "|" + std::to_string(s.cols) + "x" +
                            std::to_string(s.rows) + "|" + s.echo + "|" + s.b_value;
    std::string split = "orientation";
    for (double c : s.iop) split += fmt::format(" {:.3f}", c);
    split += ", " + std::to_string(s.cols) + "x" + std::to_string(s.rows);
    if (s.echo != "/") split += ", echo " + s.echo;
    if (!s.b_value.empty()) split += ", b " + s.b_value;
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

struct DecodedFrames {
  std::vector<double> values;  // stored values (sign-extended), frame after frame
  long rows = 0, cols = 0, frames = 0;
  double slope = 1, intercept = 0;
  bool monochrome1 = false;
  int bits_stored = 16;
  int bits_allocated = 16;
  bool is_float = false;
  std::string dtype() const {
    if (is_float) return bits_allocated == 64 ? "float64" : "float32";
    return std::string(is_signed ? "int" : "uint") + std::to_string(bits_allocated);
  }
  bool is_signed = false;
};

DecodedFrames decode_in_process(const fs::path& file) {
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
  d.bits_allocated = pf.GetBitsAllocated();
  d.is_float = pf.GetScalarType() == gdcm::PixelFormat::FLOAT32 || pf.GetScalarType() == gdcm::PixelFormat::FLOAT64;
  d.is_signed = pf.GetPixelRepresentation() == 1;
  const std::size_t n = static_cast<std::size_t>(d.cols) * d.rows * d.frames;
  std::vector<char> buf(img.GetBufferLength());
  if (!img.GetBuffer(buf.data()))
    throw FormatError("cannot decode the pixel data of DICOM file " + file.string() + " (transfer syntax " +
                      gdcm::TransferSyntax::GetTSString(img.GetTransferSyntax()) + ")");
  const std::size_t bytes = pf.GetPixelSize();
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

// Compressed pixel data goes through third-party codecs (OpenJPEG, CharLS, libjpeg, GDCM's
// RLE) that can corrupt memory on malformed streams (seen: OpenJPEG on a flipped byte in a
// JPEG 2000 SIZ marker). Decode those in a forked child: a crash or a hang there becomes a
// FormatError here instead of taking the process down.
DecodedFrames decode_isolated(const fs::path& file) {
  int fds[2];
  if (pipe(fds) != 0) return decode_in_process(file);
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return decode_in_process(file);
  }
  auto write_all = [](int fd, const void* p, std::size_t n) {
    auto c = static_cast<const char*>(p);
    while (n > 0) {
      ssize_t w = ::write(fd, c, n);
      if (w <= 0) return;
      c += w;
      n -= static_cast<std::size_t>(w);
    }
  };
  if (pid == 0) {
    close(fds[0]);
    std::uint8_t status = 0;
    try {
      DecodedFrames d = decode_in_process(file);
      write_all(fds[1], &status, 1);
      std::int64_t meta[5] = {d.rows, d.cols, d.frames, d.bits_stored, (d.monochrome1 ? 1 : 0) | (d.is_signed ? 2 : 0) |
                                                                               (d.is_float ? 4 : 0) | (std::int64_t{d.bits_allocated} << 8)};
      double sc[2] = {d.slope, d.intercept};
      std::uint64_t n = d.values.size();
      write_all(fds[1], meta, sizeof meta);
      write_all(fds[1], sc, sizeof sc);
      write_all(fds[1], &n, sizeof n);
      write_all(fds[1], d.values.data(), n * sizeof(double));
    } catch (const std::exception& e) {
      status = 1;
      write_all(fds[1], &status, 1);
      std::string m = e.what();
      write_all(fds[1], m.data(), m.size());
    }
    close(fds[1]);
    _exit(0);
  }
  close(fds[1]);
  std::string out;
  char buf[1 << 16];
  bool timed_out = false;
  for (;;) {
    pollfd pfd{fds[0], POLLIN, 0};
    int r = poll(&pfd, 1, 120000);
    if (r == 0) {
      timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    if (r < 0 && errno == EINTR) continue;
    ssize_t got = ::read(fds[0], buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    out.append(buf, static_cast<std::size_t>(got));
  }
  close(fds[0]);
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (timed_out)
    throw FormatError("decoding the compressed pixel data of DICOM file " + file.string() + " did not finish in 120 s");
  if (!WIFEXITED(wstatus) || out.empty())
    throw FormatError("the pixel data decoder failed on DICOM file " + file.string() +
                      " (corrupt compressed pixel data" +
                      (WIFSIGNALED(wstatus) ? ", decoder killed by signal " + std::to_string(WTERMSIG(wstatus)) : "") + ")");
  if (out[0] != 0) throw FormatError(out.substr(1));
  DecodedFrames d;
  const std::size_t head = 1 + 5 * 8 + 2 * 8 + 8;
  if (out.size() < head) throw FormatError("the pixel data decoder returned nothing for " + file.string());
  std::int64_t meta[5];
  double sc[2];
  std::uint64_t n;
  std::memcpy(meta, out.data() + 1, sizeof meta);
  std::memcpy(sc, out.data() + 41, sizeof sc);
  std::memcpy(&n, out.data() + 57, sizeof n);
  if (out.size() != head + n * sizeof(double)) throw FormatError("the pixel data decoder output is short for " + file.string());
  d.rows = meta[0];
  d.cols = meta[1];
  d.frames = meta[2];
  d.bits_stored = static_cast<int>(meta[3]);
  d.monochrome1 = meta[4] & 1;
  d.is_signed = (meta[4] & 2) != 0;
  d.is_float = (meta[4] & 4) != 0;
  d.bits_allocated = static_cast<int>(meta[4] >> 8);
  d.slope = sc[0];
  d.intercept = sc[1];
  d.values.resize(n);
  std::memcpy(d.values.data(), out.data() + head, n * sizeof(double));
  return d;
}

DecodedFrames decode(const fs::path& file) {
  check_structure(file);
  gdcm::Reader header;
  header.SetFileName(file.string().c_str());
  std::set<gdcm::Tag> skip{gdcm::Tag(0x7fe0, 0x0010)};
  if (!header.ReadUpToTag(gdcm::Tag(0x7fe0, 0x0010), skip))
    throw FormatError("cannot read DICOM file " + file.string() + ": GDCM rejected its header");
  check_pixel_attributes(file, header.GetFile());
  if (header.GetFile().GetHeader().GetDataSetTransferSyntax().IsEncapsulated()) return decode_isolated(file);
  return decode_in_process(file);
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
  std::string dtype;
  if (s.multiframe) {
    const fs::path& file = s.files.front();
    std::string why;
    std::vector<FrameInfo> fr = frame_infos(file, why);
    DecodedFrames d = decode(file);
    dtype = d.dtype();
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
      dtype = d.dtype();
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
  v.metadata["datatype"] = dtype;
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
