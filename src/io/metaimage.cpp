// MetaImage reader (see metaimage.h). Header syntax: one "Key = Value" per line; in a .mha the
// header ends with the ElementDataFile line (ElementDataFile must be the last key, MetaIO
// documentation) and the data begin right after its newline.
#include "io/metaimage.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "core/error.h"

namespace cervirisk::io {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kMaxVoxels = std::uint64_t{1} << 31;
// Longest header we read before deciding the file is not a MetaImage (plastimatch's headers,
// which copy every NIfTI field, are ~1.5 KB).
constexpr std::size_t kMaxHeader = 1 << 20;

bool ends_with_ci(const std::string& s, const std::string& suffix) {
  if (s.size() < suffix.size()) return false;
  for (std::size_t i = 0; i < suffix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[s.size() - suffix.size() + i])) != suffix[i]) return false;
  return true;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// A header value quoted in an error: short and printable.
std::string quote(const std::string& v) {
  std::string s = v.size() > 60 ? v.substr(0, 60) + "..." : v;
  return "\"" + s + "\"";
}

struct ElementType {
  const char* name;
  int bytes;
  bool is_signed;
  bool is_float;
};
// metaTypes.h: MET_ValueTypeSize (MET_LONG / MET_ULONG are 4 bytes in MetaIO on every platform).
constexpr ElementType kTypes[] = {
    {"MET_CHAR", 1, true, false},       {"MET_UCHAR", 1, false, false},      {"MET_SHORT", 2, true, false},
    {"MET_USHORT", 2, false, false},    {"MET_INT", 4, true, false},         {"MET_UINT", 4, false, false},
    {"MET_LONG", 4, true, false},       {"MET_ULONG", 4, false, false},      {"MET_LONG_LONG", 8, true, false},
    {"MET_ULONG_LONG", 8, false, false}, {"MET_FLOAT", 4, true, true},       {"MET_DOUBLE", 8, true, true},
};

struct Header {
  std::map<std::string, std::pair<std::string, std::string>> fields;  // lower(key) -> (key, value)
  std::uint64_t data_offset = 0;  // .mha: where the data begin in the file
};

// The header lines; for a .mha (`local` unknown until ElementDataFile is seen) stops after the
// ElementDataFile line.
Header read_header(const fs::path& path, const std::string& where) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw InputError("cannot open MetaImage file " + where);
  Header h;
  std::string line;
  std::uint64_t pos = 0;
  int number = 0;
  for (;;) {
    line.clear();
    char c;
    bool eol = false;
    while (f.get(c)) {
      ++pos;
      if (c == '\n') {
        eol = true;
        break;
      }
      if (c == '\0')
        throw FormatError("MetaImage file " + where + ": binary bytes in the header (line " +
                          std::to_string(number + 1) + "); not a MetaImage header, or ElementDataFile missing");
      line += c;
      if (pos > kMaxHeader)
        throw FormatError("MetaImage file " + where + ": no ElementDataFile key in the first " +
                          std::to_string(kMaxHeader) + " bytes (not a MetaImage header?)");
    }
    if (!eol && line.empty()) break;  // end of file
    ++number;
    const std::string t = trim(line);
    if (t.empty()) {
      if (!eol) break;
      continue;
    }
    const std::size_t eq = t.find('=');
    if (eq == std::string::npos)
      throw FormatError("MetaImage file " + where + ": header line " + std::to_string(number) + " " + quote(t) +
                        " is not \"Key = Value\"");
    const std::string key = trim(t.substr(0, eq)), value = trim(t.substr(eq + 1));
    if (key.empty())
      throw FormatError("MetaImage file " + where + ": header line " + std::to_string(number) + " has no key");
    h.fields[lower(key)] = {key, value};
    if (lower(key) == "elementdatafile") {
      h.data_offset = pos;
      return h;
    }
    if (!eol) break;
  }
  throw FormatError("MetaImage file " + where + ": no ElementDataFile key (it must end the header)");
}

class Fields {
 public:
  Fields(const Header& h, std::string where) : h_(h), where_(std::move(where)) {}

  bool has(const char* key) const { return h_.fields.count(lower(key)) > 0; }
  // The value of the first of `keys` present (aliases), or nullptr.
  const std::pair<std::string, std::string>* find(std::initializer_list<const char*> keys) const {
    for (const char* k : keys) {
      auto it = h_.fields.find(lower(k));
      if (it != h_.fields.end()) return &it->second;
    }
    return nullptr;
  }
  std::string str(const char* key, const std::string& fallback = "") const {
    auto it = h_.fields.find(lower(key));
    return it == h_.fields.end() ? fallback : it->second.second;
  }
  bool boolean(const char* key, bool fallback) const {
    auto it = h_.fields.find(lower(key));
    if (it == h_.fields.end()) return fallback;
    const std::string v = lower(it->second.second);
    if (v == "true" || v == "t" || v == "1") return true;
    if (v == "false" || v == "f" || v == "0") return false;
    throw FormatError("MetaImage file " + where_ + ": " + it->second.first + " is " + quote(it->second.second) +
                      "; expected True or False");
  }
  // Exactly n numbers.
  std::vector<double> numbers(const std::pair<std::string, std::string>& kv, std::size_t n) const {
    std::vector<double> out;
    std::istringstream in(kv.second);
    std::string tok;
    while (in >> tok) {
      errno = 0;
      char* end = nullptr;
      const double v = std::strtod(tok.c_str(), &end);
      if (!end || *end != '\0' || errno == ERANGE || !std::isfinite(v))
        throw FormatError("MetaImage file " + where_ + ": " + kv.first + " has " + quote(tok) +
                          " where a finite number is expected");
      out.push_back(v);
    }
    if (out.size() != n)
      throw FormatError("MetaImage file " + where_ + ": " + kv.first + " has " + std::to_string(out.size()) +
                        " value(s); expected " + std::to_string(n) + " (NDims = 3)");
    return out;
  }
  std::int64_t integer(const std::pair<std::string, std::string>& kv) const {
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(kv.second.c_str(), &end, 10);
    if (kv.second.empty() || !end || *end != '\0' || errno == ERANGE)
      throw FormatError("MetaImage file " + where_ + ": " + kv.first + " is " + quote(kv.second) +
                        "; expected an integer");
    return v;
  }

 private:
  const Header& h_;
  std::string where_;
};

template <typename T>
T load_as(const unsigned char* p, bool swap) {
  unsigned char b[sizeof(T)];
  std::memcpy(b, p, sizeof(T));
  if (swap) std::reverse(b, b + sizeof(T));
  T v;
  std::memcpy(&v, b, sizeof(T));
  return v;
}

template <typename T>
void convert(const unsigned char* src, std::uint64_t n, bool swap, float* dst) {
  for (std::uint64_t i = 0; i < n; ++i) dst[i] = static_cast<float>(load_as<T>(src + i * sizeof(T), swap));
}

void convert_all(const ElementType& t, const unsigned char* src, std::uint64_t n, bool swap, float* dst) {
  const std::string name = t.name;
  if (name == "MET_CHAR") convert<std::int8_t>(src, n, swap, dst);
  else if (name == "MET_UCHAR") convert<std::uint8_t>(src, n, swap, dst);
  else if (name == "MET_SHORT") convert<std::int16_t>(src, n, swap, dst);
  else if (name == "MET_USHORT") convert<std::uint16_t>(src, n, swap, dst);
  else if (name == "MET_INT" || name == "MET_LONG") convert<std::int32_t>(src, n, swap, dst);
  else if (name == "MET_UINT" || name == "MET_ULONG") convert<std::uint32_t>(src, n, swap, dst);
  else if (name == "MET_LONG_LONG") convert<std::int64_t>(src, n, swap, dst);
  else if (name == "MET_ULONG_LONG") convert<std::uint64_t>(src, n, swap, dst);
  else if (name == "MET_FLOAT") convert<float>(src, n, swap, dst);
  else convert<double>(src, n, swap, dst);
}

bool host_is_big_endian() {
  const std::uint16_t one = 1;
  unsigned char b;
  std::memcpy(&b, &one, 1);
  return b == 0;
}

// Reads `n` bytes at `offset` of `path`; the caller has checked they exist.
std::vector<unsigned char> read_bytes(const fs::path& path, std::uint64_t offset, std::uint64_t n,
                                      const std::string& where) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw InputError("cannot open MetaImage data file " + path.string() + " (of " + where + ")");
  std::vector<unsigned char> buf(static_cast<std::size_t>(n));
  f.seekg(static_cast<std::streamoff>(offset));
  if (!f.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(n)) ||
      static_cast<std::uint64_t>(f.gcount()) != n)
    throw FormatError("truncated MetaImage data in " + path.string() + ": expected " + std::to_string(n) +
                      " bytes at offset " + std::to_string(offset));
  return buf;
}

// zlib (or gzip: MetaIO's reader accepts both, inflateInit2 with 15 + 32) inflate of exactly
// `expected` bytes.
std::vector<unsigned char> inflate_exact(const std::vector<unsigned char>& in, std::uint64_t expected,
                                         const std::string& where) {
  std::vector<unsigned char> out(static_cast<std::size_t>(expected));
  z_stream z{};
  if (inflateInit2(&z, 15 + 32) != Z_OK) throw FormatError("cannot inflate MetaImage data of " + where + ": zlib init");
  std::uint64_t in_pos = 0, out_pos = 0;
  int rc = Z_OK;
  while (rc == Z_OK) {
    const uInt in_chunk = static_cast<uInt>(std::min<std::uint64_t>(in.size() - in_pos, 1u << 30));
    const uInt out_chunk = static_cast<uInt>(std::min<std::uint64_t>(expected - out_pos, 1u << 30));
    z.next_in = const_cast<Bytef*>(in.data() + in_pos);
    z.avail_in = in_chunk;
    z.next_out = out.data() + out_pos;
    z.avail_out = out_chunk;
    rc = inflate(&z, Z_NO_FLUSH);
    in_pos += in_chunk - z.avail_in;
    out_pos += out_chunk - z.avail_out;
    if (rc == Z_OK && z.avail_out == out_chunk && z.avail_in == in_chunk) break;  // no progress
    if (rc == Z_BUF_ERROR && out_pos < expected && in_pos < in.size()) rc = Z_OK;
  }
  const std::string msg = z.msg ? z.msg : "";
  inflateEnd(&z);
  if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_MEM_ERROR || rc == Z_STREAM_ERROR)
    throw FormatError("corrupt compressed MetaImage data in " + where + ": " + (msg.empty() ? "zlib error" : msg));
  if (out_pos < expected)
    throw FormatError("truncated compressed MetaImage data in " + where + ": inflates to " + std::to_string(out_pos) +
                      " bytes, DimSize x ElementType need " + std::to_string(expected));
  if (rc != Z_STREAM_END)
    throw FormatError("compressed MetaImage data in " + where + " inflate to more than the " +
                      std::to_string(expected) + " bytes DimSize x ElementType need");
  return out;
}

}  // namespace

bool is_metaimage_path(const fs::path& path) {
  const std::string n = path.filename().string();
  return ends_with_ci(n, ".mha") || ends_with_ci(n, ".mhd");
}

Volume read_metaimage(const fs::path& path) {
  const std::string where = path.string();
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError("MetaImage file not found: " + where);
  if (fs::is_directory(path, ec)) throw InputError("expected a MetaImage file, got a folder: " + where);
  const std::uint64_t header_file_size = fs::file_size(path, ec);
  if (ec) throw InputError("cannot read the size of MetaImage file " + where);

  const Header h = read_header(path, where);
  const Fields fl(h, where);
  auto require = [&](std::initializer_list<const char*> keys) {
    const auto* kv = fl.find(keys);
    if (!kv) throw FormatError("MetaImage file " + where + ": missing key " + *keys.begin());
    return kv;
  };

  const std::string object = fl.str("ObjectType", "Image");
  if (lower(object) != "image")
    throw FormatError("MetaImage file " + where + ": ObjectType is " + quote(object) + "; expected Image");
  const std::int64_t ndims = fl.integer(*require({"NDims"}));
  if (ndims != 3)
    throw FormatError("MetaImage file " + where + ": NDims is " + std::to_string(ndims) + "; expected 3 (a 3D image)");
  if (const auto* ch = fl.find({"ElementNumberOfChannels"}); ch && fl.integer(*ch) != 1)
    throw FormatError("MetaImage file " + where + ": ElementNumberOfChannels is " + ch->second +
                      "; expected 1 (a scalar image)");
  if (!fl.boolean("BinaryData", true))
    throw FormatError("MetaImage file " + where + ": BinaryData = False (ASCII voxel data) is not supported");

  // DimSize: integers > 0 whose product stays within kMaxVoxels.
  const auto* dim_kv = require({"DimSize"});
  const std::vector<double> dims = fl.numbers(*dim_kv, 3);
  Geometry g;
  std::uint64_t count = 1;
  for (int a = 0; a < 3; ++a) {
    if (dims[a] < 1 || dims[a] != std::floor(dims[a]) || dims[a] > static_cast<double>(kMaxVoxels))
      throw FormatError("MetaImage file " + where + ": DimSize " + quote(dim_kv->second) +
                        " must hold 3 integers >= 1");
    g.shape[a] = static_cast<std::int64_t>(dims[a]);
    count *= static_cast<std::uint64_t>(g.shape[a]);
    if (count > kMaxVoxels)
      throw FormatError("MetaImage file " + where + ": DimSize " + quote(dim_kv->second) +
                        " describes more than 2^31 voxels (corrupt header?)");
  }
  if (count > static_cast<std::uint64_t>(voxel_limit()))
    throw FormatError("MetaImage file " + where + ": DimSize " + quote(dim_kv->second) +
                      " promises more voxels than this process's limit of " + std::to_string(voxel_limit()));

  // Element type.
  const auto* type_kv = require({"ElementType"});
  const ElementType* type = nullptr;
  for (const auto& t : kTypes)
    if (type_kv->second == t.name) type = &t;
  if (!type)
    throw FormatError("MetaImage file " + where + ": ElementType " + quote(type_kv->second) +
                      " is not supported; expected MET_UCHAR, MET_CHAR, MET_SHORT, MET_USHORT, MET_INT, MET_UINT, "
                      "MET_LONG, MET_ULONG, MET_LONG_LONG, MET_ULONG_LONG, MET_FLOAT or MET_DOUBLE");
  const std::uint64_t bytes = count * static_cast<std::uint64_t>(type->bytes);
  bool msb = false;
  if (fl.has("BinaryDataByteOrderMSB")) msb = fl.boolean("BinaryDataByteOrderMSB", false);
  else if (fl.has("ElementByteOrderMSB")) msb = fl.boolean("ElementByteOrderMSB", false);

  // Geometry.
  if (const auto* sp = fl.find({"ElementSpacing"})) {
    const auto s = fl.numbers(*sp, 3);
    for (int a = 0; a < 3; ++a) {
      if (!(s[a] > 0))
        throw FormatError("MetaImage file " + where + ": ElementSpacing " + quote(sp->second) +
                          " must hold 3 numbers > 0");
      g.spacing_mm[a] = s[a];
    }
  } else {
    throw FormatError("MetaImage file " + where + ": missing key ElementSpacing (the voxel size)");
  }
  if (const auto* o = fl.find({"Offset", "Position", "Origin"})) {
    const auto v = fl.numbers(*o, 3);
    for (int a = 0; a < 3; ++a) g.origin_lps_mm[a] = v[a];
  }
  if (const auto* m = fl.find({"TransformMatrix", "Rotation", "Orientation"})) {
    const auto v = fl.numbers(*m, 9);
    for (int c = 0; c < 3; ++c) {
      const double n = std::sqrt(v[3 * c] * v[3 * c] + v[3 * c + 1] * v[3 * c + 1] + v[3 * c + 2] * v[3 * c + 2]);
      if (!(n > 1e-6))
        throw FormatError("MetaImage file " + where + ": " + m->first + " has a zero direction for axis " +
                          std::to_string(c));
      for (int r = 0; r < 3; ++r) g.direction_lps[r][c] = v[3 * c + r] / n;
    }
    const auto& d = g.direction_lps;
    const double det = d[0][0] * (d[1][1] * d[2][2] - d[1][2] * d[2][1]) -
                       d[0][1] * (d[1][0] * d[2][2] - d[1][2] * d[2][0]) +
                       d[0][2] * (d[1][0] * d[2][1] - d[1][1] * d[2][0]);
    if (!(std::fabs(det) > 1e-6))
      throw FormatError("MetaImage file " + where + ": " + m->first + " " + quote(m->second) +
                        " is singular (degenerate grid)");
  }

  // Where the data are.
  const auto* file_kv = require({"ElementDataFile"});
  const std::string data_name = file_kv->second;
  bool local = lower(data_name) == "local";
  if (data_name.empty())
    throw FormatError("MetaImage file " + where + ": ElementDataFile is empty; expected LOCAL or a file name");
  if (lower(data_name) == "list" || lower(data_name.substr(0, 5)) == "list " ||
      (data_name.find('%') != std::string::npos && data_name.find(' ') != std::string::npos))
    throw FormatError("MetaImage file " + where + ": ElementDataFile " + quote(data_name) +
                      " (one file per slice) is not supported; convert it to a single .mha or .nii.gz first");
  fs::path data_path = path;
  std::uint64_t base = h.data_offset;  // .mha: data follow the header
  std::uint64_t data_file_size = header_file_size;
  if (!local) {
    data_path = fs::path(data_name);
    if (data_path.is_relative()) data_path = path.parent_path() / data_path;
    if (!fs::exists(data_path, ec) || !fs::is_regular_file(data_path, ec))
      throw InputError("MetaImage data file " + data_path.string() + " (ElementDataFile of " + where + ") not found");
    data_file_size = fs::file_size(data_path, ec);
    if (ec) throw InputError("cannot read the size of MetaImage data file " + data_path.string());
    base = 0;
  }

  const bool compressed = fl.boolean("CompressedData", false);
  std::int64_t compressed_size = -1;
  if (const auto* cs = fl.find({"CompressedDataSize"})) {
    compressed_size = fl.integer(*cs);
    if (compressed_size <= 0)
      throw FormatError("MetaImage file " + where + ": CompressedDataSize is " + cs->second + "; expected > 0");
  }
  // The stored byte count: raw data, or the compressed stream (its size given, or up to the end).
  std::int64_t header_size = 0;
  if (const auto* hs = fl.find({"HeaderSize"})) {
    header_size = fl.integer(*hs);
    if (header_size < -1)
      throw FormatError("MetaImage file " + where + ": HeaderSize is " + hs->second + "; expected -1 or >= 0");
  }
  std::uint64_t stored = compressed ? (compressed_size > 0 ? static_cast<std::uint64_t>(compressed_size) : 0) : bytes;
  std::uint64_t offset = base;
  if (header_size > 0) offset = (local ? base : 0) + static_cast<std::uint64_t>(header_size);
  if (offset > data_file_size)
    throw FormatError("truncated MetaImage file " + data_path.string() + ": data should start at byte " +
                      std::to_string(offset) + " but the file has " + std::to_string(data_file_size) + " bytes");
  if (compressed && stored == 0) stored = data_file_size - offset;  // no CompressedDataSize: to the end
  if (header_size == -1) {
    // The data are the file's last bytes (MetaIO: HeaderSize = -1).
    if (stored > data_file_size - base)
      throw FormatError("truncated MetaImage data in " + data_path.string() + ": DimSize " + dim_kv->second +
                        " of " + type->name + " needs " + std::to_string(stored) + " bytes, the file has " +
                        std::to_string(data_file_size - base));
    offset = data_file_size - stored;
  }
  if (stored > data_file_size - offset)
    throw FormatError("truncated MetaImage data in " + data_path.string() + ": " +
                      (compressed ? "CompressedDataSize " + std::to_string(stored)
                                  : "DimSize " + dim_kv->second + " of " + type->name + " needs " +
                                        std::to_string(stored)) +
                      " bytes, only " + std::to_string(data_file_size - offset) + " present after byte " +
                      std::to_string(offset));
  // deflate cannot expand more than ~1032:1: a larger claim is a corrupt header, not a huge image.
  if (compressed && bytes > stored * 1100 + 4096)
    throw FormatError("MetaImage file " + where + ": DimSize " + dim_kv->second + " of " + type->name + " needs " +
                      std::to_string(bytes) + " bytes, more than " + std::to_string(stored) +
                      " compressed bytes can hold");

  std::vector<unsigned char> raw = read_bytes(data_path, offset, stored, where);
  if (compressed) raw = inflate_exact(raw, bytes, data_path.string());

  Volume v;
  v.geometry = g;
  reserve_voxels(v.voxels, count);
  v.voxels.resize(count);
  convert_all(*type, raw.data(), count, msb != host_is_big_endian() && type->bytes > 1, v.voxels.data());
  v.metadata["format"] = "metaimage";
  v.metadata["element_type"] = type->name;
  v.metadata["compressed"] = compressed ? "true" : "false";
  v.metadata["byte_order"] = msb ? "big" : "little";
  v.metadata["anatomical_orientation"] = fl.str("AnatomicalOrientation");
  v.metadata["dims"] = std::to_string(g.shape[0]) + "x" + std::to_string(g.shape[1]) + "x" + std::to_string(g.shape[2]);
  return v;
}

}  // namespace cervirisk::io
