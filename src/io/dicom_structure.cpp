// Structural check of a DICOM file before GDCM sees it (PS3.5 7.1 data elements, 7.5 nesting,
// A.4 encapsulation): every element's length must fit in the file, sequences and items must be
// closed. Debian's GDCM is built with assertions that abort the process on some truncated
// files, so a corrupt file must be rejected here, with a FormatError naming the offset.
#include <zlib.h>

#include <cctype>
#include <fstream>
#include <iterator>

#include "core/error.h"
#include "io/dicom_detail.h"

namespace cervirisk::io::dicom_detail {
namespace {

namespace fs = std::filesystem;

class StructureCheck {
 public:
  StructureCheck(const fs::path& file, const std::string& raw) : file_(file), b_(raw) {}

  void run() {
    std::size_t pos = 0;
    bool have_meta = b_.size() >= 132 && b_.compare(128, 4, "DICM") == 0;
    // GDCM also reads group 0002 elements at the very start of a file without the preamble.
    const bool bare_meta = !have_meta && b_.size() >= 4 && u16(0, false) == 0x0002;
    std::string ts = "1.2.840.10008.1.2";  // no meta header: implicit VR little endian
    if (have_meta || bare_meta) {
      pos = have_meta ? 132 : 0;
      const std::size_t meta_start = pos;
      const bool meta_explicit = b_.size() >= pos + 6 && std::isupper(static_cast<unsigned char>(b_[pos + 4])) &&
                                 std::isupper(static_cast<unsigned char>(b_[pos + 5]));
      std::size_t declared_end = 0;  // where (0002,0000) says the group ends; 0 = not given
      // File Meta Information: always explicit VR little endian.
      while (pos + 8 <= b_.size() && u16(pos, false) == 0x0002) {
        std::uint16_t elem = u16(pos + 2, false);
        std::size_t vstart, len;
        header(pos, meta_explicit, false, vstart, len);
        if (len == kUndefined) fail(pos, "undefined length in the file meta information");
        if (meta_explicit && b_.compare(pos + 4, 2, "SQ") == 0) fail(pos, "a sequence in the file meta information");
        need(vstart, len, pos);
        if (elem == 0x0010) ts = trim(b_.substr(vstart, len));
        // GDCM reads the group by its declared length and asserts when that runs past the end
        // of the file or ends inside an element (found by fuzzing).
        if (elem == 0x0000 && len == 4) {
          declared_end = vstart + 4 + u32(vstart, false);
          if (declared_end > b_.size())
            fail(pos, "file meta information group length (0002,0000) = " + std::to_string(u32(vstart, false)) +
                          " runs past the end of the file");
        }
        if (declared_end > pos && declared_end < vstart + len && elem != 0x0000)
          fail(pos, "file meta information group length (0002,0000) ends inside element (0002," +
                        hex4(elem) + ")");
        pos = vstart + len;
      }
      if (pos == meta_start) fail(pos, "no file meta information after 'DICM'");
      // GDCM reads one more tag after the group (and asserts when it cannot): at least a whole
      // data element header must follow, and not a truncated group 0002 element.
      if (pos + 4 > b_.size() || u16(pos, false) == 0x0002)
        fail(pos, "the file ends within or right after the file meta information");
    }
    if (ts == "1.2.840.10008.1.2.1.99") {
      // Deflated Explicit VR Little Endian: GDCM inflates the data set and parses it with the
      // same assertions (found by fuzzing), so the inflated bytes get the same check.
      const std::string bytes = inflate_raw(pos);  // outlives the check, which keeps a reference
      StructureCheck inflated(file_, bytes);
      inflated.explicit_ = true;
      inflated.dataset(0, inflated.b_.size(), 0, false);
      return;
    }
    explicit_ = ts != "1.2.840.10008.1.2";
    big_ = ts == "1.2.840.10008.1.2.2";
    dataset(pos, b_.size(), 0, false);
  }

 private:
  static constexpr std::size_t kUndefined = 0xFFFFFFFFu;

  // The raw DEFLATE stream (RFC 1951, no zlib header) from `at` to the end, inflated; a corrupt
  // or truncated stream, or one that expands past 1 GiB, is a FormatError.
  std::string inflate_raw(std::size_t at) const {
    z_stream z{};
    if (inflateInit2(&z, -15) != Z_OK) fail(at, "cannot start the inflater");
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(b_.data() + at));
    z.avail_in = static_cast<uInt>(b_.size() - at);
    std::string out;
    char buf[1 << 16];
    int rc = Z_OK;
    while (rc == Z_OK) {
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof buf;
      rc = inflate(&z, Z_NO_FLUSH);
      out.append(buf, sizeof buf - z.avail_out);
      if (out.size() > (std::size_t{1} << 30)) rc = Z_MEM_ERROR;
      if (rc == Z_BUF_ERROR && z.avail_in == 0) break;  // the stream ended without its final block
    }
    inflateEnd(&z);
    if (rc != Z_STREAM_END) fail(at, "the deflated data set is corrupt or truncated");
    return out;
  }
  static std::string hex4(std::uint16_t v) {
    static const char* digits = "0123456789ABCDEF";
    return {digits[v >> 12], digits[(v >> 8) & 15], digits[(v >> 4) & 15], digits[v & 15]};
  }
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

}  // namespace

void check_structure(const fs::path& file) {
  std::ifstream f(file, std::ios::binary);
  if (!f) throw InputError("cannot open DICOM file " + file.string());
  std::string raw((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  StructureCheck(file, raw).run();
}

}  // namespace cervirisk::io::dicom_detail
