// NIfTI-1 / NIfTI-2 reader and NIfTI-1 writer. Header layouts: nifti1.h and nifti2.h
// (https://nifti.nimh.nih.gov/nifti-1, https://nifti.nimh.nih.gov/nifti-2); quaternion to
// matrix: nifti1_io.c nifti_quatern_to_mat44; fallback affine: nibabel
// AnalyzeHeader.get_base_affine (so that our geometry equals nibabel's img.affine).
#include "io/nifti.h"

#include <zlib.h>
#ifdef CERV_HAVE_LIBDEFLATE
#include <libdeflate.h>
#endif

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"

namespace cervirisk::io {
namespace {

namespace fs = std::filesystem;

std::atomic<bool> g_fast_inflate{true};

// Largest volume we accept (voxels of one 3D volume): a guard against corrupt dims.
constexpr std::int64_t kMaxVoxels = std::int64_t{1} << 31;

bool ends_with_ci(const std::string& s, const std::string& suffix) {
  if (s.size() < suffix.size()) return false;
  for (std::size_t i = 0; i < suffix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[s.size() - suffix.size() + i])) != suffix[i]) return false;
  return true;
}

bool is_gz_name(const fs::path& p) { return ends_with_ci(p.filename().string(), ".gz"); }

// Sequential byte source over a plain or gzip file. Never reads past what is asked for.
class ByteSource {
 public:
  explicit ByteSource(const fs::path& path) : path_(path) {
    std::error_code ec;
    if (!fs::exists(path, ec)) throw InputError("NIfTI file not found: " + path.string());
    if (fs::is_directory(path, ec)) throw InputError("expected a NIfTI file, got a folder: " + path.string());
    // gzopen reads plain files transparently too; it detects gzip by the magic bytes.
    gz_ = gzopen(path.string().c_str(), "rb");
    if (!gz_) throw InputError("cannot open NIfTI file " + path.string());
    gzbuffer(gz_, 1 << 18);
  }
  ~ByteSource() {
    if (gz_) gzclose(gz_);
  }
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;

  // Fast path for gzip files: when the gzip trailer's length equals what the header declares,
  // inflate the whole file at once with libdeflate (CRC checked) and serve the rest from
  // memory. Anything unusual (several gzip members, a mismatch, a corrupt stream) stays on the
  // zlib path, whose errors are the precise ones. `consumed` bytes were already read.
  void try_whole_inflate(std::uint64_t expected_total, std::uint64_t consumed) {
#ifdef CERV_HAVE_LIBDEFLATE
    if (!g_fast_inflate.load(std::memory_order_relaxed)) return;
    if (!compressed() || expected_total > (std::uint64_t{1} << 34)) return;
    std::ifstream f(path_, std::ios::binary | std::ios::ate);
    if (!f) return;
    const std::streamoff size = f.tellg();
    if (size < 18) return;
    // Per-thread scratch buffers keep their pages between files: re-faulting ~20 MB of fresh
    // memory per image costs as much as the inflate itself.
    static thread_local std::vector<unsigned char> in, out;
    if (in.size() < static_cast<std::size_t>(size)) in.resize(static_cast<std::size_t>(size));
    f.seekg(0);
    if (!f.read(reinterpret_cast<char*>(in.data()), size)) return;
    const unsigned char* t = in.data() + size - 4;
    const std::uint32_t isize = std::uint32_t{t[0]} | std::uint32_t{t[1]} << 8 | std::uint32_t{t[2]} << 16 |
                                std::uint32_t{t[3]} << 24;
    if (isize != static_cast<std::uint32_t>(expected_total)) return;
    if (out.size() < expected_total) out.resize(static_cast<std::size_t>(expected_total));
    libdeflate_decompressor* d = libdeflate_alloc_decompressor();
    if (!d) return;
    std::size_t in_used = 0, out_used = 0;
    libdeflate_result r = libdeflate_gzip_decompress_ex(d, in.data(), static_cast<std::size_t>(size), out.data(),
                                                        static_cast<std::size_t>(expected_total), &in_used, &out_used);
    libdeflate_free_decompressor(d);
    if (r != LIBDEFLATE_SUCCESS || in_used != static_cast<std::size_t>(size) || out_used != expected_total ||
        consumed > expected_total)
      return;
    mem_ = out.data();
    mem_size_ = static_cast<std::size_t>(expected_total);
    mem_pos_ = static_cast<std::size_t>(consumed);
    in_memory_ = true;
#else
    (void)expected_total;
    (void)consumed;
#endif
  }
  // In memory: a pointer to the next n bytes (advancing), or nullptr when fewer remain.
  const unsigned char* view(std::size_t n) {
    if (!in_memory_ || n > mem_size_ - mem_pos_) return nullptr;
    const unsigned char* p = mem_ + mem_pos_;
    mem_pos_ += n;
    return p;
  }

  // Reads up to n bytes; returns how many were read. Throws FormatError on a zlib error.
  std::size_t read(void* dst, std::size_t n) {
    if (in_memory_) {
      std::size_t k = std::min(n, mem_size_ - mem_pos_);
      std::memcpy(dst, mem_ + mem_pos_, k);
      mem_pos_ += k;
      return k;
    }
    std::size_t done = 0;
    auto* out = static_cast<unsigned char*>(dst);
    while (done < n) {
      unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(n - done, 1u << 30));
      int got = gzread(gz_, out + done, chunk);
      if (got < 0) {
        int errnum = 0;
        const char* msg = gzerror(gz_, &errnum);
        throw FormatError("corrupt compressed data in " + path_.string() + ": " + (msg ? msg : "zlib error"));
      }
      if (got == 0) {
        // zlib reports a stream cut short (also inside the CRC trailer) as Z_BUF_ERROR with a
        // 0-byte read, like a clean end of file: tell them apart here.
        int errnum = 0;
        gzerror(gz_, &errnum);
        if (errnum == Z_BUF_ERROR)
          throw FormatError("truncated compressed NIfTI file " + path_.string() + ": unexpected end of the gzip stream");
        break;
      }
      done += static_cast<std::size_t>(got);
    }
    return done;
  }
  bool compressed() const { return in_memory_ || gzdirect(gz_) == 0; }
  // Reads to the end: for gzip this makes zlib check the trailer (CRC-32 and length), so a
  // truncated or corrupted stream is reported even when we need only its first part.
  void verify_to_end() {
    if (in_memory_) return;  // libdeflate checked the CRC and the length of the whole stream
    std::vector<unsigned char> tmp(1 << 18);
    while (read(tmp.data(), tmp.size()) == tmp.size()) {
    }
  }
  void skip(std::uint64_t n, const char* what) {
    if (in_memory_) {
      if (n > mem_size_ - mem_pos_)
        throw FormatError("truncated NIfTI file " + path_.string() + ": ends inside " + what);
      mem_pos_ += static_cast<std::size_t>(n);
      return;
    }
    std::vector<unsigned char> tmp(std::min<std::uint64_t>(n, 1 << 20));
    while (n > 0) {
      std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(n, tmp.size()));
      std::size_t got = read(tmp.data(), want);
      if (got < want) throw FormatError("truncated NIfTI file " + path_.string() + ": ends inside " + what);
      n -= want;
    }
  }

 private:
  fs::path path_;
  gzFile gz_ = nullptr;
  bool in_memory_ = false;
  const unsigned char* mem_ = nullptr;  // the thread's scratch buffer, valid until its next use
  std::size_t mem_size_ = 0, mem_pos_ = 0;
};

template <typename T>
T load(const unsigned char* p, bool swap) {
  T v;
  unsigned char b[sizeof(T)];
  std::memcpy(b, p, sizeof(T));
  if (swap) std::reverse(b, b + sizeof(T));
  std::memcpy(&v, b, sizeof(T));
  return v;
}

struct DtypeInfo {
  int code;
  const char* name;
  int bytes;
};
constexpr DtypeInfo kDtypes[] = {
    {2, "uint8", 1},     {4, "int16", 2},    {8, "int32", 4},     {16, "float32", 4},
    {64, "float64", 8},  {256, "int8", 1},   {512, "uint16", 2},  {768, "uint32", 4},
    {1024, "int64", 8},  {1280, "uint64", 8},
};
const DtypeInfo* find_dtype(int code) {
  for (const auto& d : kDtypes)
    if (d.code == code) return &d;
  return nullptr;
}
const char* unsupported_dtype_name(int code) {
  switch (code) {
    case 32: return "complex64";
    case 128: return "rgb24";
    case 1536: return "float128";
    case 1792: return "complex128";
    case 2048: return "complex256";
    case 2304: return "rgba32";
    case 1: return "binary (1 bit)";
    default: return nullptr;
  }
}

struct Header {
  int version = 1;
  bool swap = false;
  std::int64_t dim[8]{};
  int datatype = 0;
  int bitpix = 0;
  double pixdim[8]{};
  std::int64_t vox_offset = 0;
  double scl_slope = 0, scl_inter = 0;
  int qform_code = 0, sform_code = 0;
  double quatern[3]{}, qoffset[3]{};
  double srow[3][4]{};
  std::string descrip;
  std::string magic;
};

std::string cstr(const unsigned char* p, std::size_t n) {
  std::size_t len = 0;
  while (len < n && p[len] != 0) ++len;
  std::string s(reinterpret_cast<const char*>(p), len);
  // Keep descriptions printable (they land in JSON and logs).
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  return s;
}

// Byte offsets of the header fields both versions share (nifti1.h, nifti2.h). NIfTI-2 is
// NIfTI-1 reordered, with 64-bit dims, double reals and 32-bit codes: one reader serves both.
struct FieldOffsets {
  std::size_t dim, datatype, bitpix, pixdim, scl_slope, scl_inter, descrip, qform_code, sform_code, quatern,
      qoffset, srow;
};
constexpr FieldOffsets kNifti1Fields{40, 70, 72, 76, 112, 116, 148, 252, 254, 256, 268, 280};
constexpr FieldOffsets kNifti2Fields{16, 12, 14, 104, 176, 184, 240, 344, 348, 352, 376, 400};

template <typename Dim, typename Real, typename Code>
void load_fields(const unsigned char* buf, bool swap, const FieldOffsets& at, Header& h) {
  for (int i = 0; i < 8; ++i) h.dim[i] = load<Dim>(buf + at.dim + sizeof(Dim) * i, swap);
  h.datatype = load<std::int16_t>(buf + at.datatype, swap);
  h.bitpix = load<std::int16_t>(buf + at.bitpix, swap);
  for (int i = 0; i < 8; ++i) h.pixdim[i] = load<Real>(buf + at.pixdim + sizeof(Real) * i, swap);
  h.scl_slope = load<Real>(buf + at.scl_slope, swap);
  h.scl_inter = load<Real>(buf + at.scl_inter, swap);
  h.descrip = cstr(buf + at.descrip, 80);
  h.qform_code = load<Code>(buf + at.qform_code, swap);
  h.sform_code = load<Code>(buf + at.sform_code, swap);
  for (int i = 0; i < 3; ++i) h.quatern[i] = load<Real>(buf + at.quatern + sizeof(Real) * i, swap);
  for (int i = 0; i < 3; ++i) h.qoffset[i] = load<Real>(buf + at.qoffset + sizeof(Real) * i, swap);
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) h.srow[r][c] = load<Real>(buf + at.srow + sizeof(Real) * (4 * r + c), swap);
}

Header parse_header(ByteSource& src, const fs::path& path) {
  const std::string where = path.string();
  unsigned char buf[540];
  std::size_t got = src.read(buf, 4);
  if (got < 4) throw FormatError("not a NIfTI file (shorter than a header): " + where);
  std::int32_t sz_native, sz_swapped;
  std::memcpy(&sz_native, buf, 4);
  sz_swapped = load<std::int32_t>(buf, true);
  Header h;
  if (sz_native == 348 || sz_native == 540) {
    h.swap = false;
  } else if (sz_swapped == 348 || sz_swapped == 540) {
    h.swap = true;
  } else {
    throw FormatError("not a NIfTI file: " + where + ": sizeof_hdr is " + std::to_string(sz_native) +
                      ", expected 348 (NIfTI-1) or 540 (NIfTI-2)");
  }
  const std::int32_t sizeof_hdr = h.swap ? sz_swapped : sz_native;
  h.version = sizeof_hdr == 348 ? 1 : 2;
  got = src.read(buf + 4, static_cast<std::size_t>(sizeof_hdr) - 4);
  if (got < static_cast<std::size_t>(sizeof_hdr) - 4)
    throw FormatError("truncated NIfTI file " + where + ": header has " + std::to_string(got + 4) + " of " +
                      std::to_string(sizeof_hdr) + " bytes");
  const bool s = h.swap;
  if (h.version == 1) {
    h.magic = cstr(buf + 344, 4);
    if (h.magic == "ni1")
      throw FormatError("unsupported NIfTI file " + where + ": a .hdr/.img pair (magic 'ni1'); convert to a single .nii");
    if (h.magic != "n+1")
      throw FormatError("not a NIfTI-1 file: " + where + ": magic is '" + h.magic + "', expected 'n+1'");
    load_fields<std::int16_t, float, std::int16_t>(buf, s, kNifti1Fields, h);
    // NIfTI-1 stores vox_offset as a float (nifti1.h): check it before it becomes an offset.
    double vo = load<float>(buf + 108, s);
    if (!std::isfinite(vo) || vo < 0 || vo > 1e12)
      throw FormatError("corrupt NIfTI header in " + where + ": vox_offset = " + std::to_string(vo));
    h.vox_offset = static_cast<std::int64_t>(vo);
  } else {
    h.magic = cstr(buf + 4, 3);
    static const unsigned char kMagic2[8] = {'n', '+', '2', 0, '\r', '\n', 0x1a, '\n'};
    if (std::memcmp(buf + 4, kMagic2, 8) != 0) {
      if (h.magic == "ni2")
        throw FormatError("unsupported NIfTI-2 file " + where + ": a .hdr/.img pair (magic 'ni2')");
      throw FormatError("not a NIfTI-2 file: " + where + ": bad magic (expected 'n+2\\0\\r\\n\\032\\n')");
    }
    load_fields<std::int64_t, double, std::int32_t>(buf, s, kNifti2Fields, h);
    h.vox_offset = load<std::int64_t>(buf + 168, s);
  }
  // Validate every field we use, so a corrupt header is reported here and not as a crash.
  if (h.dim[0] < 1 || h.dim[0] > 7)
    throw FormatError("corrupt NIfTI header in " + where + ": dim[0] = " + std::to_string(h.dim[0]) +
                      ", expected 1..7");
  for (int i = 1; i <= h.dim[0]; ++i)
    if (h.dim[i] < 1 || h.dim[i] > (std::int64_t{1} << 31))
      throw FormatError("corrupt NIfTI header in " + where + ": dim[" + std::to_string(i) + "] = " +
                        std::to_string(h.dim[i]) + ", expected >= 1");
  for (int i = static_cast<int>(h.dim[0]) + 1; i < 8; ++i) h.dim[i] = 1;
  const DtypeInfo* dt = find_dtype(h.datatype);
  if (!dt) {
    const char* un = unsupported_dtype_name(h.datatype);
    if (un)
      throw FormatError("unsupported NIfTI datatype in " + where + ": " + un + " (code " +
                        std::to_string(h.datatype) + "); only scalar integer and float images are read");
    throw FormatError("corrupt NIfTI header in " + where + ": unknown datatype code " + std::to_string(h.datatype));
  }
  if (h.bitpix != dt->bytes * 8)
    throw FormatError("corrupt NIfTI header in " + where + ": bitpix = " + std::to_string(h.bitpix) +
                      " but datatype " + dt->name + " has " + std::to_string(dt->bytes * 8) + " bits");
  if (h.vox_offset < sizeof_hdr)
    throw FormatError("corrupt NIfTI header in " + where + ": vox_offset = " + std::to_string(h.vox_offset) +
                      " lies inside the " + std::to_string(sizeof_hdr) + "-byte header");
  if (h.qform_code < 0 || h.qform_code > 5 || h.sform_code < 0 || h.sform_code > 5)
    throw FormatError("corrupt NIfTI header in " + where + ": qform_code = " + std::to_string(h.qform_code) +
                      ", sform_code = " + std::to_string(h.sform_code) + ", expected 0..4");
  if (!std::isfinite(h.scl_inter) && std::isfinite(h.scl_slope) && h.scl_slope != 0)
    throw FormatError("corrupt NIfTI header in " + where + ": scl_inter is not finite");
  if (std::isinf(h.scl_slope))
    throw FormatError("corrupt NIfTI header in " + where + ": scl_slope is infinite");
  return h;
}

using Mat44 = std::array<std::array<double, 4>, 4>;

// nifti1_io.c nifti_quatern_to_mat44 (qfac from pixdim[0]; nibabel treats 0 as 1).
Mat44 qform_affine(const Header& h) {
  double b = h.quatern[0], c = h.quatern[1], d = h.quatern[2];
  double a = 1.0 - (b * b + c * c + d * d);
  if (a < 1.e-7) {  // nibabel fillpositive: tolerate tiny negatives, else renormalise
    a = 1.0 / std::sqrt(b * b + c * c + d * d);
    b *= a;
    c *= a;
    d *= a;
    a = 0.0;
  } else {
    a = std::sqrt(a);
  }
  double xd = h.pixdim[1], yd = h.pixdim[2], zd = h.pixdim[3];
  double qfac = h.pixdim[0] < 0 ? -1.0 : 1.0;
  zd *= qfac;
  Mat44 m{};
  m[0][0] = (a * a + b * b - c * c - d * d) * xd;
  m[0][1] = 2 * (b * c - a * d) * yd;
  m[0][2] = 2 * (b * d + a * c) * zd;
  m[1][0] = 2 * (b * c + a * d) * xd;
  m[1][1] = (a * a + c * c - b * b - d * d) * yd;
  m[1][2] = 2 * (c * d - a * b) * zd;
  m[2][0] = 2 * (b * d - a * c) * xd;
  m[2][1] = 2 * (c * d + a * b) * yd;
  m[2][2] = (a * a + d * d - c * c - b * b) * zd;
  m[0][3] = h.qoffset[0];
  m[1][3] = h.qoffset[1];
  m[2][3] = h.qoffset[2];
  m[3][3] = 1;
  return m;
}

Mat44 best_affine(const Header& h, const fs::path& path, std::string& source) {
  Mat44 m{};
  if (h.sform_code > 0) {
    source = "sform";
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 4; ++c) m[r][c] = h.srow[r][c];
    m[3][3] = 1;
  } else if (h.qform_code > 0) {
    source = "qform";
    for (int i = 1; i <= 3; ++i)
      if (h.pixdim[i] < 0)
        throw FormatError("corrupt NIfTI header in " + path.string() + ": pixdim[" + std::to_string(i) +
                          "] is negative with a qform");
    m = qform_affine(h);
  } else {
    // nibabel AnalyzeHeader.get_base_affine: x flipped, voxel centre of the grid at 0.
    source = "pixdim";
    log::warn("{}: neither sform nor qform set; using pixdim only (orientation unknown, assumed LAS as nibabel)",
              path.string());
    double zooms[3];
    for (int i = 0; i < 3; ++i) zooms[i] = (h.dim[0] > i) ? h.pixdim[i + 1] : 1.0;
    zooms[0] = -zooms[0];
    for (int i = 0; i < 3; ++i) {
      double n = static_cast<double>(h.dim[i + 1]);
      m[i][i] = zooms[i];
      m[i][3] = -((n - 1) / 2.0) * zooms[i];
    }
    m[3][3] = 1;
  }
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c)
      if (!std::isfinite(m[r][c]))
        throw FormatError("corrupt NIfTI header in " + path.string() + ": the " + source + " affine is not finite");
  // A singular affine (all-zero column) cannot define a geometry.
  for (int c = 0; c < 3; ++c)
    if (m[0][c] == 0 && m[1][c] == 0 && m[2][c] == 0)
      throw FormatError("corrupt NIfTI header in " + path.string() + ": the " + source + " affine has a zero column " +
                        std::to_string(c) + " (zero voxel size)");
  return m;
}

template <typename T>
void convert(const unsigned char* in, std::size_t n, bool swap, float* out, double slope, double inter, bool scale) {
  for (std::size_t i = 0; i < n; ++i) {
    T v;
    if (swap) {
      v = load<T>(in + i * sizeof(T), true);
    } else {
      std::memcpy(&v, in + i * sizeof(T), sizeof(T));
    }
    out[i] = scale ? static_cast<float>(static_cast<double>(v) * slope + inter) : static_cast<float>(v);
  }
}

void convert_any(int dtype, const unsigned char* in, std::size_t n, bool swap, float* out, double slope,
                 double inter, bool scale) {
  switch (dtype) {
    case 2: convert<std::uint8_t>(in, n, swap, out, slope, inter, scale); break;
    case 4: convert<std::int16_t>(in, n, swap, out, slope, inter, scale); break;
    case 8: convert<std::int32_t>(in, n, swap, out, slope, inter, scale); break;
    case 16: convert<float>(in, n, swap, out, slope, inter, scale); break;
    case 64: convert<double>(in, n, swap, out, slope, inter, scale); break;
    case 256: convert<std::int8_t>(in, n, swap, out, slope, inter, scale); break;
    case 512: convert<std::uint16_t>(in, n, swap, out, slope, inter, scale); break;
    case 768: convert<std::uint32_t>(in, n, swap, out, slope, inter, scale); break;
    case 1024: convert<std::int64_t>(in, n, swap, out, slope, inter, scale); break;
    case 1280: convert<std::uint64_t>(in, n, swap, out, slope, inter, scale); break;
    default: break;
  }
}

NiftiInfo to_info(const Header& h) {
  NiftiInfo info;
  info.version = h.version;
  info.big_endian = h.swap ? !(__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__) : (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__);
  for (int i = 0; i < 8; ++i) info.dims[i] = h.dim[i];
  info.datatype = find_dtype(h.datatype)->name;
  info.qform_code = h.qform_code;
  info.sform_code = h.sform_code;
  info.scl_slope = h.scl_slope;
  info.scl_inter = h.scl_inter;
  info.description = h.descrip;
  return info;
}

}  // namespace

void set_nifti_fast_inflate(bool enabled) { g_fast_inflate = enabled; }

bool nifti_fast_inflate_available() {
#ifdef CERV_HAVE_LIBDEFLATE
  return true;
#else
  return false;
#endif
}

bool is_nifti_path(const fs::path& path) {
  std::string n = path.filename().string();
  return ends_with_ci(n, ".nii") || ends_with_ci(n, ".nii.gz");
}

NiftiInfo read_nifti_info(const fs::path& path) {
  ByteSource src(path);
  return to_info(parse_header(src, path));
}

namespace {

// Volumes along dims 4..7 (1 for a 3D image).
std::int64_t volume_count(const Header& h, const std::string& where) {
  std::int64_t n_volumes = 1;
  for (int i = 4; i <= 7; ++i) {
    if (n_volumes > (std::int64_t{1} << 40) / std::max<std::int64_t>(h.dim[i], 1))
      throw FormatError("corrupt NIfTI header in " + where + ": dimensions overflow");
    n_volumes *= h.dim[i];
  }
  return n_volumes;
}

std::int64_t volume_to_read(const Header& h, const std::string& where, std::int64_t n_volumes, std::int64_t index) {
  if (index < 0) {
    index = 0;
    if (n_volumes > 1)
      log::warn("{}: {}D image with {} volumes; reading the first (choose another with a volume index)", where,
                h.dim[0], n_volumes);
  } else if (index >= n_volumes) {
    throw FormatError("NIfTI file " + where + " has " + std::to_string(n_volumes) + " volume(s); volume index " +
                      std::to_string(index) + " is out of range");
  }
  return index;
}

// n3 voxels of volume `index`, scaled, from a source positioned at its first byte.
void read_voxels(ByteSource& src, const Header& h, const std::string& where, std::int64_t n3, std::int64_t index,
                 std::vector<float>& voxels) {
  const DtypeInfo* dt = find_dtype(h.datatype);
  const std::uint64_t bytes_per_volume = static_cast<std::uint64_t>(n3) * static_cast<std::uint64_t>(dt->bytes);
  const bool scale = std::isfinite(h.scl_slope) && h.scl_slope != 0 && !(h.scl_slope == 1 && h.scl_inter == 0);
  const double slope = h.scl_slope;
  const double inter = std::isfinite(h.scl_inter) ? h.scl_inter : 0.0;
  reserve_voxels(voxels, static_cast<std::size_t>(n3));
  voxels.resize(static_cast<std::size_t>(n3));
  if (const unsigned char* p = src.view(static_cast<std::size_t>(bytes_per_volume))) {
    convert_any(h.datatype, p, static_cast<std::size_t>(n3), h.swap, voxels.data(), slope, inter, scale);
    return;
  }
  // Read in chunks so that a truncated file fails before we allocate what its header claims.
  const std::size_t chunk_voxels = std::size_t{1} << 20;
  std::vector<unsigned char> raw(std::min<std::size_t>(static_cast<std::size_t>(n3), chunk_voxels) * dt->bytes);
  std::size_t done = 0;
  while (done < static_cast<std::size_t>(n3)) {
    std::size_t count = std::min<std::size_t>(static_cast<std::size_t>(n3) - done, chunk_voxels);
    std::size_t want = count * static_cast<std::size_t>(dt->bytes);
    std::size_t got = src.read(raw.data(), want);
    if (got < want)
      throw FormatError("truncated NIfTI file " + where + ": voxel data ends after " +
                        std::to_string(done * dt->bytes + got) + " of " + std::to_string(bytes_per_volume) +
                        " bytes of volume " + std::to_string(index));
    convert_any(h.datatype, raw.data(), count, h.swap, voxels.data() + done, slope, inter, scale);
    done += count;
  }
}

// The whole file must hold every volume the header declares (a truncated 4D file is corrupt
// even when the requested volume is complete). `src` stands after volume `index`.
void check_complete(ByteSource& src, const fs::path& path, const Header& h, std::uint64_t bytes_per_volume,
                    std::int64_t n_volumes, std::int64_t index) {
  const std::uint64_t rest = bytes_per_volume * static_cast<std::uint64_t>(n_volumes - index - 1);
  if (src.compressed()) {
    src.skip(rest, "the later volumes");
    src.verify_to_end();
    return;
  }
  std::error_code ec;
  std::uint64_t size = fs::file_size(path, ec);
  std::uint64_t need = static_cast<std::uint64_t>(h.vox_offset) + bytes_per_volume * static_cast<std::uint64_t>(n_volumes);
  if (!ec && size < need)
    throw FormatError("truncated NIfTI file " + path.string() + ": " + std::to_string(size) +
                      " bytes, the header declares " + std::to_string(need));
}

}  // namespace

Volume read_nifti(const fs::path& path, const NiftiReadOptions& options) {
  ByteSource src(path);
  Header h = parse_header(src, path);
  const std::string where = path.string();
  const DtypeInfo* dt = find_dtype(h.datatype);
  std::int64_t n3 = 1;
  bool overflow = false;  // the product of three dims up to 2^31 can pass 2^63
  for (int i = 1; i <= 3; ++i) {
    overflow = overflow || n3 > std::numeric_limits<std::int64_t>::max() / h.dim[i];
    if (!overflow) n3 *= h.dim[i];
  }
  if (overflow || n3 > kMaxVoxels)
    throw FormatError("corrupt or unsupported NIfTI file " + where + ": " + std::to_string(h.dim[1]) + " x " +
                      std::to_string(h.dim[2]) + " x " + std::to_string(h.dim[3]) + " = " +
                      (overflow ? std::string("more than 2^63") : std::to_string(n3)) +
                      " voxels per volume (limit 2^31)");
  if (n3 > voxel_limit())
    throw FormatError("NIfTI file " + where + ": its header promises " + std::to_string(n3) +
                      " voxels per volume, over this process's limit of " + std::to_string(voxel_limit()));
  const std::int64_t n_volumes = volume_count(h, where);
  const std::int64_t index = volume_to_read(h, where, n_volumes, options.volume_index);

  Volume v;
  std::string affine_source;
  Mat44 a = best_affine(h, path, affine_source);
  Mat4 affine;
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) affine[r][c] = a[r][c];
  v.geometry = Geometry::from_affine_ras(affine, {h.dim[1], h.dim[2], h.dim[3]});

  // Position at the requested volume: skip the header extensions and earlier volumes.
  const std::uint64_t bytes_per_volume = static_cast<std::uint64_t>(n3) * static_cast<std::uint64_t>(dt->bytes);
  const std::int64_t header_size = h.version == 1 ? 348 : 540;
  src.try_whole_inflate(static_cast<std::uint64_t>(h.vox_offset) + bytes_per_volume * static_cast<std::uint64_t>(n_volumes),
                        static_cast<std::uint64_t>(header_size));
  src.skip(static_cast<std::uint64_t>(h.vox_offset - header_size), "the header extensions");
  src.skip(bytes_per_volume * static_cast<std::uint64_t>(index), "the earlier volumes");
  read_voxels(src, h, where, n3, index, v.voxels);
  check_complete(src, path, h, bytes_per_volume, n_volumes, index);

  std::string dims;
  for (int i = 1; i <= h.dim[0]; ++i) dims += (i > 1 ? "x" : "") + std::to_string(h.dim[i]);
  v.metadata["format"] = "nifti";
  v.metadata["nifti_version"] = std::to_string(h.version);
  v.metadata["datatype"] = dt->name;
  v.metadata["qform_code"] = std::to_string(h.qform_code);
  v.metadata["sform_code"] = std::to_string(h.sform_code);
  v.metadata["affine_source"] = affine_source;
  v.metadata["description"] = h.descrip;
  v.metadata["dims"] = dims;
  v.metadata["byte_order"] = to_info(h).big_endian ? "big" : "little";
  return v;
}

namespace {

// Matrix -> quaternion (nifti1_io.c nifti_mat44_to_quatern), for a rotation R with columns of unit
// length; qfac = det sign. Returns b, c, d and qfac.
void mat_to_quatern(const Geometry& g, const Mat4& aff, double& qb, double& qc, double& qd, double& qfac) {
  double r[3][3];
  for (int i = 0; i < 3; ++i)
    for (int c = 0; c < 3; ++c) r[i][c] = aff[i][c] / g.spacing_mm[c];
  double det = r[0][0] * (r[1][1] * r[2][2] - r[1][2] * r[2][1]) - r[0][1] * (r[1][0] * r[2][2] - r[1][2] * r[2][0]) +
               r[0][2] * (r[1][0] * r[2][1] - r[1][1] * r[2][0]);
  if (det > 0) {
    qfac = 1;
  } else {
    qfac = -1;
    r[0][2] = -r[0][2];
    r[1][2] = -r[1][2];
    r[2][2] = -r[2][2];
  }
  double a = r[0][0] + r[1][1] + r[2][2] + 1, b, c, d;
  if (a > 0.5) {
    a = 0.5 * std::sqrt(a);
    b = 0.25 * (r[2][1] - r[1][2]) / a;
    c = 0.25 * (r[0][2] - r[2][0]) / a;
    d = 0.25 * (r[1][0] - r[0][1]) / a;
  } else {
    double xd = 1.0 + r[0][0] - (r[1][1] + r[2][2]);
    double yd = 1.0 + r[1][1] - (r[0][0] + r[2][2]);
    double zd = 1.0 + r[2][2] - (r[0][0] + r[1][1]);
    if (xd > 1.0) {
      b = 0.5 * std::sqrt(xd);
      c = 0.25 * (r[0][1] + r[1][0]) / b;
      d = 0.25 * (r[0][2] + r[2][0]) / b;
      a = 0.25 * (r[2][1] - r[1][2]) / b;
    } else if (yd > 1.0) {
      c = 0.5 * std::sqrt(yd);
      b = 0.25 * (r[0][1] + r[1][0]) / c;
      d = 0.25 * (r[1][2] + r[2][1]) / c;
      a = 0.25 * (r[0][2] - r[2][0]) / c;
    } else {
      d = 0.5 * std::sqrt(zd);
      b = 0.25 * (r[0][2] + r[2][0]) / d;
      c = 0.25 * (r[1][2] + r[2][1]) / d;
      a = 0.25 * (r[1][0] - r[0][1]) / d;
    }
    if (a < 0.0) {
      b = -b;
      c = -c;
      d = -d;
    }
  }
  qb = b;
  qc = c;
  qd = d;
}

template <typename T>
void put(std::vector<unsigned char>& buf, std::size_t off, T v) {
  std::memcpy(buf.data() + off, &v, sizeof(T));
}

struct WriterType {
  std::int16_t code, bitpix;  // NIfTI datatype code and bits per voxel
};
WriterType writer_type(NiftiDtype dtype) {
  if (dtype == NiftiDtype::kUInt8) return {2, 8};
  if (dtype == NiftiDtype::kInt16) return {4, 16};
  return {16, 32};
}

// NIfTI-1 header (348 bytes + the 4-byte extension flag, 0): qform = sform = the geometry.
std::vector<unsigned char> writer_header(const Volume& volume, NiftiDtype dtype) {
  const Geometry& g = volume.geometry;
  std::vector<unsigned char> hdr(352, 0);
  put<std::int32_t>(hdr, 0, 348);
  hdr[38] = 'r';
  put<std::int16_t>(hdr, 40, 3);
  for (int i = 0; i < 3; ++i) put<std::int16_t>(hdr, 42 + 2 * i, static_cast<std::int16_t>(g.shape[i]));
  for (int i = 3; i < 7; ++i) put<std::int16_t>(hdr, 42 + 2 * i, 1);
  put<std::int16_t>(hdr, 70, writer_type(dtype).code);
  put<std::int16_t>(hdr, 72, writer_type(dtype).bitpix);
  Mat4 aff = g.affine_ras();
  double qb, qc, qd, qfac;
  mat_to_quatern(g, aff, qb, qc, qd, qfac);
  put<float>(hdr, 76, static_cast<float>(qfac));
  for (int i = 0; i < 3; ++i) put<float>(hdr, 80 + 4 * i, static_cast<float>(g.spacing_mm[i]));
  for (int i = 3; i < 7; ++i) put<float>(hdr, 80 + 4 * i, 1.0f);
  put<float>(hdr, 108, 352.0f);
  put<float>(hdr, 112, 1.0f);
  put<float>(hdr, 116, 0.0f);
  hdr[123] = 2;  // xyzt_units: mm
  std::string desc = "cervirisk";
  auto it = volume.metadata.find("description");
  if (it != volume.metadata.end() && !it->second.empty()) desc = it->second;
  std::memcpy(hdr.data() + 148, desc.data(), std::min<std::size_t>(desc.size(), 79));
  put<std::int16_t>(hdr, 252, 1);
  put<std::int16_t>(hdr, 254, 1);
  put<float>(hdr, 256, static_cast<float>(qb));
  put<float>(hdr, 260, static_cast<float>(qc));
  put<float>(hdr, 264, static_cast<float>(qd));
  for (int i = 0; i < 3; ++i) put<float>(hdr, 268 + 4 * i, static_cast<float>(aff[i][3]));
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) put<float>(hdr, 280 + 16 * r + 4 * c, static_cast<float>(aff[r][c]));
  std::memcpy(hdr.data() + 344, "n+1\0", 4);
  return hdr;
}

// The voxels in the file's datatype: integers rounded to nearest, out of range is an error.
std::vector<unsigned char> writer_voxels(const Volume& volume, NiftiDtype dtype, const fs::path& path) {
  std::vector<unsigned char> data(volume.voxels.size() * static_cast<std::size_t>(writer_type(dtype).bitpix / 8));
  for (std::size_t i = 0; i < volume.voxels.size(); ++i) {
    float v = volume.voxels[i];
    if (dtype == NiftiDtype::kFloat32) {
      std::memcpy(data.data() + 4 * i, &v, 4);
      continue;
    }
    double lo = dtype == NiftiDtype::kUInt8 ? 0 : -32768, hi = dtype == NiftiDtype::kUInt8 ? 255 : 32767;
    double r = std::nearbyint(static_cast<double>(v));
    if (!(r >= lo && r <= hi))
      throw FormatError("write_nifti " + path.string() + ": voxel " + std::to_string(i) + " value " +
                        std::to_string(v) + " does not fit " + (dtype == NiftiDtype::kUInt8 ? "uint8" : "int16"));
    if (dtype == NiftiDtype::kUInt8) {
      data[i] = static_cast<unsigned char>(r);
    } else {
      std::int16_t s = static_cast<std::int16_t>(r);
      std::memcpy(data.data() + 2 * i, &s, 2);
    }
  }
  return data;
}

// Header + voxels as one gzip member, in memory.
std::string gzip_file(std::vector<unsigned char>& hdr, std::vector<unsigned char>& data, int gzip_level,
                      const fs::path& path) {
  std::string out;
  z_stream zs{};
  if (deflateInit2(&zs, std::clamp(gzip_level, 1, 9), Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw Error(ExitCode::kFailure, "zlib deflateInit failed for " + path.string());
  std::vector<unsigned char> outbuf(1 << 20);
  auto pump = [&](unsigned char* in, std::size_t n, int flush) {
    zs.next_in = in;
    zs.avail_in = static_cast<uInt>(n);
    do {
      zs.next_out = outbuf.data();
      zs.avail_out = static_cast<uInt>(outbuf.size());
      deflate(&zs, flush);
      out.append(reinterpret_cast<char*>(outbuf.data()), outbuf.size() - zs.avail_out);
    } while (zs.avail_out == 0);
  };
  pump(hdr.data(), hdr.size(), Z_NO_FLUSH);
  std::size_t off = 0;
  while (off < data.size()) {
    std::size_t n = std::min<std::size_t>(data.size() - off, std::size_t{1} << 30);
    pump(data.data() + off, n, Z_NO_FLUSH);
    off += n;
  }
  pump(nullptr, 0, Z_FINISH);
  deflateEnd(&zs);
  return out;
}

}  // namespace

void write_nifti(const Volume& volume, const fs::path& path, NiftiDtype dtype, int gzip_level) {
  const Geometry& g = volume.geometry;
  if (static_cast<std::int64_t>(volume.voxels.size()) != g.voxel_count())
    throw Error(ExitCode::kFailure, "write_nifti " + path.string() + ": volume has " +
                                        std::to_string(volume.voxels.size()) + " voxels, geometry says " +
                                        std::to_string(g.voxel_count()));
  for (int i = 0; i < 3; ++i)
    if (g.shape[i] < 1 || g.shape[i] > 32767)
      throw FormatError("write_nifti " + path.string() + ": dimension " + std::to_string(g.shape[i]) +
                        " does not fit a NIfTI-1 header (1..32767)");
  std::vector<unsigned char> hdr = writer_header(volume, dtype);
  std::vector<unsigned char> data = writer_voxels(volume, dtype, path);
  if (is_gz_name(path)) {
    write_file_atomic(path, gzip_file(hdr, data, gzip_level, path));
  } else {
    AtomicFile f(path);
    f.stream().write(reinterpret_cast<const char*>(hdr.data()), static_cast<std::streamsize>(hdr.size()));
    f.stream().write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
    if (!f.stream()) throw OutputError("cannot write " + path.string());
    f.commit();
  }
}

}  // namespace cervirisk::io
