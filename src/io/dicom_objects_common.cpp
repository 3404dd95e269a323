// What the RTSTRUCT and DICOM-SEG readers share (io/dicom_objects.h): the file-type sniff,
// reading a whole object through GDCM after the structure check, and element access.
#include <gdcmDataSet.h>
#include <gdcmReader.h>
#include <gdcmSequenceOfItems.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include "core/error.h"
#include "core/log.h"
#include "core/sandbox.h"
#include "io/dicom_detail.h"
#include "io/dicom_objects.h"

namespace cervirisk::io {
namespace {

namespace fs = std::filesystem;

constexpr const char* kRtStructClass = "1.2.840.10008.5.1.4.1.1.481.3";
constexpr const char* kSegClass = "1.2.840.10008.5.1.4.1.1.66.4";

// Storage SOP classes under 1.2.840.10008.5.1.4.1.1. that carry no image (PS3.4 B.5): RT
// objects other than images, waveforms, presentation states, structured reports, raw data,
// registrations, surface objects, encapsulated documents, real world value mapping.
bool non_image_storage(const std::string& uid) {
  const std::string base = "1.2.840.10008.5.1.4.1.1.";
  if (uid.rfind(base, 0) != 0) return true;
  const std::string rest = uid.substr(base.size());
  for (const char* p : {"9.", "11.", "88.", "104.", "481.", "66", "67", "68.", "90.", "91.", "200.", "201."})
    if (rest.rfind(p, 0) == 0) return rest != "481.1";  // 481.1 RT Image is an image
  return false;
}

}  // namespace

DicomObjectKind dicom_object_kind(const fs::path& file) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return DicomObjectKind::kNotDicom;
  std::ifstream f(file, std::ios::binary);
  std::string head(65536, '\0');
  f.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(f.gcount()));
  if (head.size() < 132 || head.compare(128, 4, "DICM") != 0) return DicomObjectKind::kNotDicom;
  // File meta information: explicit VR little endian (PS3.10 7.1); only (0002,0002) is wanted.
  auto u16 = [&](std::size_t at) {
    return static_cast<unsigned>(static_cast<unsigned char>(head[at]) | static_cast<unsigned char>(head[at + 1]) << 8);
  };
  std::string uid;
  std::size_t pos = 132;
  while (pos + 8 <= head.size() && u16(pos) == 0x0002) {
    unsigned elem = u16(pos + 2);
    std::string vr = head.substr(pos + 4, 2);
    std::size_t len, start;
    if (vr == "OB" || vr == "OW" || vr == "SQ" || vr == "UN" || vr == "UT" || vr == "UC" || vr == "UR") {
      if (pos + 12 > head.size()) break;
      len = u16(pos + 8) | static_cast<std::size_t>(u16(pos + 10)) << 16;
      start = pos + 12;
    } else {
      len = u16(pos + 6);
      start = pos + 8;
    }
    if (start > head.size() || len > head.size() - start) break;
    if (elem == 0x0002) {
      uid = dicom_detail::trim(head.substr(start, len));
      break;
    }
    pos = start + len;
  }
  if (uid == kRtStructClass) return DicomObjectKind::kRtStruct;
  if (uid == kSegClass) return DicomObjectKind::kSegmentation;
  if (uid.empty() || non_image_storage(uid)) return DicomObjectKind::kOther;
  return DicomObjectKind::kImage;
}

namespace dicom_objects_detail {

std::string tag_name(std::uint16_t group, std::uint16_t element) {
  return fmt::format("({:04X},{:04X})", group, element);
}

namespace {

// A parse takes milliseconds; a hung child is killed long before anyone waits this long.
constexpr std::chrono::seconds kParseTimeout{120};

void put_u64(std::string& out, std::uint64_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }
void put_str(std::string& out, const std::string& s) {
  put_u64(out, s.size());
  out += s;
}

class ByteReader {
 public:
  explicit ByteReader(const std::string& b) : b_(b) {}
  std::uint64_t u64() {
    need(8);
    std::uint64_t v;
    std::memcpy(&v, b_.data() + pos_, 8);
    pos_ += 8;
    return v;
  }
  std::string str() {
    const std::uint64_t n = u64();
    need(n);
    std::string s = b_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::string rest() {
    std::string s = b_.substr(pos_);
    pos_ = b_.size();
    return s;
  }

 private:
  void need(std::uint64_t n) const {
    if (n > b_.size() - pos_) throw Error(ExitCode::kFailure, "internal: truncated result of an isolated DICOM parse");
  }
  const std::string& b_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string parse_isolated(const fs::path& file, const std::string& what,
                           const std::function<std::string(Notes&)>& parse) {
  dicom_detail::quiet_gdcm();  // once, here: the child inherits it
  std::string bytes;
  try {
    bytes = run_isolated(
        [&] {
          Notes notes;
          std::string result = parse(notes);
          std::string out;
          put_u64(out, notes.lines.size());
          for (const auto& [warning, line] : notes.lines) {
            put_u64(out, warning ? 1 : 0);
            put_str(out, line);
          }
          return out + result;
        },
        std::chrono::duration_cast<std::chrono::milliseconds>(kParseTimeout), ExitCode::kCorruptInput);
  } catch (const IsolatedError& e) {
    throw FormatError("corrupt " + what + " file " + file.string() + ": the DICOM parser " +
                      (e.failure() == IsolationFailure::kTimeout
                           ? "did not finish in " + std::to_string(kParseTimeout.count()) + " s"
                           : e.signal_number() ? "failed on it (killed by signal " + std::to_string(e.signal_number()) + ")"
                                               : "failed on it"));
  }
  ByteReader r(bytes);
  const std::uint64_t n = r.u64();
  for (std::uint64_t i = 0; i < n; ++i) {
    const bool warning = r.u64() != 0;
    const std::string line = r.str();
    if (warning)
      log::warn("{}", line);
    else
      log::info("{}", line);
  }
  return r.rest();
}

std::string encode_segments(const std::vector<SegmentInfo>& segments) {
  std::string out;
  put_u64(out, segments.size());
  for (const SegmentInfo& s : segments) {
    put_str(out, s.name);
    put_str(out, s.id);
    put_str(out, s.description);
    put_u64(out, static_cast<std::uint64_t>(static_cast<std::int64_t>(s.label)));
  }
  return out;
}

std::vector<SegmentInfo> decode_segments(const std::string& bytes) {
  ByteReader r(bytes);
  std::vector<SegmentInfo> out(r.u64());
  for (SegmentInfo& s : out) {
    s.name = r.str();
    s.id = r.str();
    s.description = r.str();
    s.label = static_cast<long>(static_cast<std::int64_t>(r.u64()));
  }
  return out;
}

// Metadata, then the lengths of the alternating runs of 0 and 1 voxels (starting with 0s).
std::string encode_mask(const Volume& mask) {
  std::string out;
  put_u64(out, mask.metadata.size());
  for (const auto& [k, v] : mask.metadata) {
    put_str(out, k);
    put_str(out, v);
  }
  std::vector<std::uint64_t> runs;
  bool value = false;
  std::uint64_t run = 0;
  for (float x : mask.voxels) {
    if ((x > 0.5f) != value) {
      runs.push_back(run);
      run = 0;
      value = !value;
    }
    ++run;
  }
  runs.push_back(run);
  put_u64(out, runs.size());
  for (std::uint64_t r : runs) put_u64(out, r);
  return out;
}

Volume decode_mask(const std::string& bytes, const Geometry& grid) {
  ByteReader r(bytes);
  Volume out;
  out.geometry = grid;
  const std::uint64_t n_meta = r.u64();
  for (std::uint64_t i = 0; i < n_meta; ++i) {
    std::string k = r.str();
    out.metadata[k] = r.str();
  }
  const auto total = static_cast<std::size_t>(grid.voxel_count());
  reserve_voxels(out.voxels, total);
  const std::uint64_t n_runs = r.u64();
  bool value = false;
  for (std::uint64_t i = 0; i < n_runs; ++i, value = !value) {
    const std::uint64_t run = r.u64();
    if (run > total - out.voxels.size()) throw Error(ExitCode::kFailure, "internal: mask runs exceed the grid");
    out.voxels.insert(out.voxels.end(), static_cast<std::size_t>(run), value ? 1.0f : 0.0f);
  }
  if (out.voxels.size() != total) throw Error(ExitCode::kFailure, "internal: mask runs do not fill the grid");
  return out;
}

void read_object(const fs::path& file, gdcm::Reader& reader, const std::string& what) {
  dicom_detail::quiet_gdcm();
  {
    std::ifstream f(file, std::ios::binary);
    char magic[4] = {0, 0, 0, 0};
    f.seekg(128);
    f.read(magic, 4);
    if (!f.is_open()) throw InputError("cannot open " + what + " file " + file.string());
    if (!f || std::memcmp(magic, "DICM", 4) != 0)
      throw FormatError(what + " file " + file.string() + " is not a DICOM Part 10 file (no 'DICM' at byte 128)");
  }
  dicom_detail::check_structure(file);
  reader.SetFileName(file.string().c_str());
  if (!reader.Read()) throw FormatError("cannot read " + what + " file " + file.string() + ": GDCM rejects it");
}

bool has(const gdcm::DataSet& ds, std::uint16_t group, std::uint16_t element) {
  return ds.FindDataElement(gdcm::Tag(group, element));
}

std::string raw_bytes(const gdcm::DataSet& ds, std::uint16_t group, std::uint16_t element) {
  return dicom_detail::raw_string(ds, group, element);
}

void check_grid(const Geometry& grid, const fs::path& file, const std::string& structures) {
  for (int a = 0; a < 3; ++a)
    if (grid.shape[a] < 1 || !(grid.spacing_mm[a] > 0))
      throw ValidationError("cannot place the " + structures + " of " + file.string() + " on an empty image grid");
}

std::string text(const gdcm::DataSet& ds, std::uint16_t group, std::uint16_t element) {
  return dicom_detail::trim(raw_bytes(ds, group, element));
}

bool parse_numbers(const std::string& raw, std::vector<double>& out) {
  out.clear();
  std::size_t pos = 0;
  std::string item;
  while (pos <= raw.size()) {
    std::size_t end = raw.find('\\', pos);
    if (end == std::string::npos) end = raw.size();
    item = dicom_detail::trim(raw.substr(pos, end - pos));
    pos = end + 1;
    if (item.empty()) {
      if (end == raw.size()) break;
      return false;  // an empty value between backslashes
    }
    errno = 0;
    char* stop = nullptr;
    double v = std::strtod(item.c_str(), &stop);
    if (stop != item.c_str() + item.size() || errno == ERANGE || !std::isfinite(v)) return false;
    out.push_back(v);
  }
  return true;
}

bool us_value(const gdcm::DataSet& ds, std::uint16_t group, std::uint16_t element, long& out) {
  const std::string b = raw_bytes(ds, group, element);
  if (b.size() < 2) return false;
  out = static_cast<long>(static_cast<unsigned char>(b[0]) | static_cast<unsigned char>(b[1]) << 8);
  return true;
}

Sequence::Sequence(const fs::path& file, const gdcm::DataSet& ds, std::uint16_t group, std::uint16_t element) {
  gdcm::Tag t(group, element);
  if (!ds.FindDataElement(t)) return;
  present = true;
  const gdcm::DataElement& de = ds.GetDataElement(t);
  if (de.IsEmpty()) return;
  gdcm::SmartPointer<gdcm::SequenceOfItems> sq = de.GetValueAsSQ();
  if (!sq) throw FormatError("corrupt DICOM file " + file.string() + ": " + tag_name(group, element) + " is not a sequence");
  auto* holder = new gdcm::SmartPointer<gdcm::SequenceOfItems>(sq);
  keep = std::shared_ptr<void>(holder, [](void* p) { delete static_cast<gdcm::SmartPointer<gdcm::SequenceOfItems>*>(p); });
  for (gdcm::SequenceOfItems::SizeType i = 1; i <= sq->GetNumberOfItems(); ++i)
    items.push_back(&sq->GetItem(i).GetNestedDataSet());
}

void expect_sop_class(const fs::path& file, const gdcm::DataSet& ds, const std::string& sop_class,
                      const std::string& modality, const std::string& what) {
  const std::string uid = text(ds, 0x0008, 0x0016);
  if (uid == sop_class) return;
  if (uid.empty() && text(ds, 0x0008, 0x0060) == modality) return;
  throw FormatError(file.string() + " is not a " + what + ": SOP Class UID (0008,0016) is '" + uid +
                    "', expected " + sop_class);
}

}  // namespace dicom_objects_detail
}  // namespace cervirisk::io
