// Pixel data of a DICOM series -> Volume, decoded by GDCM (PS3.5 8 and A.4 for the native and
// encapsulated transfer syntaxes; PS3.3 C.7.6.3 Image Pixel Module for the stored values,
// C.11.1 Modality LUT for the rescale, C.7.6.16.2.9 for per-frame rescale).
#include <gdcmImage.h>
#include <gdcmImageReader.h>
#include <gdcmReader.h>
#include <gdcmTransferSyntax.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <numeric>

#include "core/error.h"
#include "core/sandbox.h"
#include "io/dicom.h"
#include "io/dicom_detail.h"

namespace cervirisk::io {
namespace {

namespace fs = std::filesystem;
using namespace dicom_detail;

// A crashed codec never hangs us for long; a real decode takes well under a second.
constexpr std::chrono::seconds kDecodeTimeout{120};

struct DecodedFrames {
  std::vector<double> values;  // stored values (sign-extended), frame after frame
  long rows = 0, cols = 0, frames = 0;
  double slope = 1, intercept = 0;
  bool monochrome1 = false;
  int bits_stored = 16;
  int bits_allocated = 16;
  bool is_float = false;
  bool is_signed = false;
  std::string dtype() const {
    if (is_float) return bits_allocated == 64 ? "float64" : "float32";
    return std::string(is_signed ? "int" : "uint") + std::to_string(bits_allocated);
  }
};

// n values of type T packed in host byte order (GDCM hands out decoded pixels that way), each
// mapped through f.
template <typename T, typename F>
void widen(const std::vector<char>& buf, std::size_t n, std::vector<double>& out, F f) {
  for (std::size_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, buf.data() + sizeof(T) * i, sizeof(T));
    out[i] = f(v);
  }
}

// The decoded buffer as doubles: integers sign-extended from Bits Stored (PS3.5 8.1.1).
void stored_values(const fs::path& file, const gdcm::PixelFormat& pf, const std::vector<char>& buf, std::size_t n,
                   DecodedFrames& d) {
  d.values.resize(n);
  const int bs = pf.GetBitsStored();
  auto sign_extend = [&](std::int64_t v) -> double {
    if (bs >= 64 || bs <= 0) return static_cast<double>(v);
    std::int64_t mask = (std::int64_t{1} << bs) - 1;
    v &= mask;
    if (d.is_signed && (v >> (bs - 1)) & 1) v -= (std::int64_t{1} << bs);
    return static_cast<double>(v);
  };
  auto as_is = [](double v) { return v; };
  switch (pf.GetScalarType()) {
    case gdcm::PixelFormat::UINT8:
    case gdcm::PixelFormat::INT8: widen<unsigned char>(buf, n, d.values, sign_extend); break;
    case gdcm::PixelFormat::UINT12:
    case gdcm::PixelFormat::INT12:
    case gdcm::PixelFormat::UINT16:
    case gdcm::PixelFormat::INT16: widen<std::uint16_t>(buf, n, d.values, sign_extend); break;
    case gdcm::PixelFormat::UINT32:
    case gdcm::PixelFormat::INT32: widen<std::uint32_t>(buf, n, d.values, sign_extend); break;
    case gdcm::PixelFormat::FLOAT32: widen<float>(buf, n, d.values, as_is); break;
    case gdcm::PixelFormat::FLOAT64: widen<double>(buf, n, d.values, as_is); break;
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
}

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
  stored_values(file, pf, buf, n, d);
  return d;
}

// DecodedFrames through the sandbox's pipe: 5 x int64 (rows, cols, frames, bits stored, flags |
// bits allocated << 8), slope, intercept, the value count, the values.
constexpr std::size_t kFramesHead = 5 * 8 + 2 * 8 + 8;

std::string to_bytes(const DecodedFrames& d) {
  const std::int64_t meta[5] = {d.rows, d.cols, d.frames, d.bits_stored,
                                (d.monochrome1 ? 1 : 0) | (d.is_signed ? 2 : 0) | (d.is_float ? 4 : 0) |
                                    (std::int64_t{d.bits_allocated} << 8)};
  const double sc[2] = {d.slope, d.intercept};
  const std::uint64_t n = d.values.size();
  std::string out(kFramesHead + n * sizeof(double), '\0');
  std::memcpy(out.data(), meta, sizeof meta);
  std::memcpy(out.data() + 40, sc, sizeof sc);
  std::memcpy(out.data() + 56, &n, sizeof n);
  std::memcpy(out.data() + kFramesHead, d.values.data(), n * sizeof(double));
  return out;
}

DecodedFrames from_bytes(const std::string& in, const fs::path& file) {
  if (in.size() < kFramesHead) throw FormatError("the pixel data decoder returned nothing for " + file.string());
  std::int64_t meta[5];
  double sc[2];
  std::uint64_t n;
  std::memcpy(meta, in.data(), sizeof meta);
  std::memcpy(sc, in.data() + 40, sizeof sc);
  std::memcpy(&n, in.data() + 56, sizeof n);
  if (in.size() != kFramesHead + n * sizeof(double))
    throw FormatError("the pixel data decoder output is short for " + file.string());
  DecodedFrames d;
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
  std::memcpy(d.values.data(), in.data() + kFramesHead, n * sizeof(double));
  return d;
}

// Compressed pixel data goes through third-party codecs (OpenJPEG, CharLS, libjpeg, GDCM's
// RLE) that can corrupt memory on malformed streams (seen: OpenJPEG on a flipped byte in a
// JPEG 2000 SIZ marker). Decode those in a forked child: a crash or a hang there becomes a
// FormatError here instead of taking the process down.
DecodedFrames decode_isolated(const fs::path& file) {
  std::string bytes;
  try {
    bytes = run_isolated([&] { return to_bytes(decode_in_process(file)); },
                         std::chrono::duration_cast<std::chrono::milliseconds>(kDecodeTimeout), ExitCode::kCorruptInput);
  } catch (const IsolatedError& e) {
    if (e.failure() == IsolationFailure::kTimeout)
      throw FormatError("decoding the compressed pixel data of DICOM file " + file.string() + " did not finish in " +
                        std::to_string(kDecodeTimeout.count()) + " s");
    throw FormatError("the pixel data decoder failed on DICOM file " + file.string() +
                      " (corrupt compressed pixel data" +
                      (e.signal_number() ? ", decoder killed by signal " + std::to_string(e.signal_number()) : "") +
                      ")");
  }
  return from_bytes(bytes, file);
}

DecodedFrames decode(const fs::path& file) {
  gdcm::Reader header;
  if (!read_up_to_pixels(file, header))
    throw FormatError("cannot read DICOM file " + file.string() + ": GDCM rejected its header");
  check_pixel_attributes(file, header.GetFile());
  if (header.GetFile().GetHeader().GetDataSetTransferSyntax().IsEncapsulated()) return decode_isolated(file);
  return decode_in_process(file);
}

// One multi-frame file: frames reordered along the slice normal, per-frame rescale when given.
std::string read_multiframe(const DicomSeriesInfo& s, Volume& v) {
  const std::int64_t ni = s.geometry.shape[0], nj = s.geometry.shape[1], nk = s.geometry.shape[2];
  const std::size_t plane = static_cast<std::size_t>(ni * nj);
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
  return d.dtype();
}

// One file per slice, already sorted along the normal by list_dicom_series.
std::string read_slices(const DicomSeriesInfo& s, Volume& v) {
  const std::int64_t ni = s.geometry.shape[0], nj = s.geometry.shape[1], nk = s.geometry.shape[2];
  const std::size_t plane = static_cast<std::size_t>(ni * nj);
  std::string dtype;
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
  return dtype;
}

}  // namespace

Volume read_dicom_series(const DicomSeriesInfo& s) {
  quiet_gdcm();
  if (!s.skip_reason.empty())
    throw FormatError("cannot read DICOM series " + s.series_uid + " ('" + s.description + "'): " + s.skip_reason);
  if (s.geometry.voxel_count() > voxel_limit())
    throw FormatError("DICOM series " + s.series_uid + ": " + std::to_string(s.geometry.voxel_count()) +
                      " voxels (rows x columns x slices from the headers), over this process's limit of " +
                      std::to_string(voxel_limit()));
  Volume v;
  v.geometry = s.geometry;
  v.voxels.resize(static_cast<std::size_t>(s.geometry.voxel_count()));
  const std::string dtype = s.multiframe ? read_multiframe(s, v) : read_slices(s, v);
  v.metadata["format"] = "dicom";
  v.metadata["series_uid"] = s.series_uid;
  v.metadata["description"] = s.description;
  v.metadata["modality"] = s.modality;
  v.metadata["transfer_syntax"] = s.transfer_syntax;
  v.metadata["datatype"] = dtype;
  return v;
}

}  // namespace cervirisk::io
