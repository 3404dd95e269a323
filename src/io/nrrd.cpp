// NRRD reader over teem (see nrrd.h). Format: http://teem.sourceforge.net/nrrd/format.html;
// 3D Slicer segmentation layout: vtkMRMLSegmentationStorageNode (Slicer >= 4.11 writes the
// SegmentN_LabelValue / SegmentN_Layer keys; older files have one 0/1 layer per segment).
#include "io/nrrd.h"

#include <teem/biff.h>
#include <teem/nrrd.h>

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/log.h"

namespace cervirisk::io {
namespace {

namespace fs = std::filesystem;

// Largest volume we accept (voxels of all layers): a guard against corrupt sizes, as for NIfTI.
constexpr std::uint64_t kMaxVoxels = std::uint64_t{1} << 31;

// teem keeps its error messages (biff) and its nrrdState* switches in process-wide globals, so
// every call into it is serialised here; the work inside is file reading, not the bottleneck.
std::mutex& teem_mutex() {
  static std::mutex m;
  return m;
}

bool ends_with_ci(const std::string& s, const std::string& suffix) {
  if (s.size() < suffix.size()) return false;
  for (std::size_t i = 0; i < suffix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[s.size() - suffix.size() + i])) != suffix[i]) return false;
  return true;
}

// teem's accumulated error text for the NRRD key, one line per nested call, innermost (the
// specific one) last. Joined into one line (the message ends up in a table cell or a log line)
// without the generic outer "trouble reading" lines and teem's function-name prefixes, each part
// capped: teem quotes whole header lines, which can be kilobytes long in a .seg.nrrd.
std::string biff_text() {
  static const std::regex generic("^(nrrdLoad|nrrdRead|_nrrdRead): trouble.*");
  static const std::regex prefix("^_?nrrd[A-Za-z0-9_]*:( |$)");
  char* raw = biffGetDone(NRRD);
  std::string text = raw ? raw : "";
  std::free(raw);
  std::string out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    if (line.rfind("[nrrd] ", 0) == 0) line.erase(0, 7);
    if (line.find_first_not_of(" \t") == std::string::npos || std::regex_match(line, generic)) continue;
    line = std::regex_replace(line, prefix, "");
    if (line.size() > 200) line = line.substr(0, 200) + "...";
    if (!out.empty()) out += "; ";
    out += line;
  }
  return out.empty() ? "unknown teem error" : out;
}

struct NrrdDeleter {
  void operator()(Nrrd* n) const { nrrdNuke(n); }
};
struct NioDeleter {
  void operator()(NrrdIoState* n) const { nrrdIoStateNix(n); }
};
using NrrdPtr = std::unique_ptr<Nrrd, NrrdDeleter>;
using NioPtr = std::unique_ptr<NrrdIoState, NioDeleter>;

std::uint64_t file_size_or_zero(const fs::path& p) {
  std::error_code ec;
  auto s = fs::file_size(p, ec);
  return ec ? 0 : static_cast<std::uint64_t>(s);
}

// The loaded array plus what the reader needs from teem's structures, copied out under the lock.
struct Loaded {
  NrrdPtr nrrd;
  std::string encoding;
};

// Loads the file with teem: first the header alone (skipData: nothing allocated), whose sizes
// are checked against the bytes the data file(s) can hold, then the whole file. A corrupt
// header can therefore not make teem allocate gigabytes before discovering the data is short.
Loaded load(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError("NRRD file not found: " + path.string());
  if (fs::is_directory(path, ec)) throw InputError("expected a NRRD file, got a folder: " + path.string());
  const std::string where = path.string();

  std::lock_guard<std::mutex> lock(teem_mutex());
  nrrdStateVerboseIO = 0;  // teem would otherwise print progress dots to stderr
  if (biffCheck(NRRD)) std::free(biffGetDone(NRRD));  // drop anything a previous caller left

  NrrdPtr head(nrrdNew());
  NioPtr nio(nrrdIoStateNew());
  if (!head || !nio) throw FormatError("cannot read NRRD file " + where + ": out of memory");
  nio->skipData = AIR_TRUE;
  if (nrrdLoad(head.get(), where.c_str(), nio.get()))
    throw FormatError("cannot read NRRD file " + where + ": " + biff_text());
  if (nio->format != nrrdFormatNRRD)
    throw FormatError("cannot read NRRD file " + where + ": not a NRRD file (teem read it as " +
                      std::string(nio->format ? nio->format->name : "unknown") + ")");
  if (head->type <= nrrdTypeUnknown || head->type >= nrrdTypeBlock)
    throw FormatError("NRRD file " + where + ": unsupported \"type\" (block or unknown); expected an integer or "
                      "floating-point type");

  // Element count, overflow-checked.
  std::uint64_t count = 1;
  std::string dims;
  for (unsigned a = 0; a < head->dim; ++a) {
    const std::uint64_t s = head->axis[a].size;
    if (s == 0) throw FormatError("NRRD file " + where + ": \"sizes\" has a 0 on axis " + std::to_string(a));
    if (count > kMaxVoxels / s || count * s > kMaxVoxels)
      throw FormatError("NRRD file " + where + ": \"sizes\" describe more than 2^31 values (corrupt header?)");
    count *= s;
    dims += (a ? "x" : "") + std::to_string(s);
  }
  if (count > static_cast<std::uint64_t>(voxel_limit()))
    throw FormatError("NRRD file " + where + ": \"sizes\" promise " + std::to_string(count) +
                      " values, over this process's voxel limit of " + std::to_string(voxel_limit()));
  const std::uint64_t bytes = count * nrrdTypeSize[head->type];

  // What the data can hold: attached data lies in the file itself, detached data in the files
  // named by "data file:". raw: at least `bytes` must be there; gzip inflates at most ~1032:1
  // (deflate's limit); hex needs two characters per byte, ascii at least one per value; bzip2
  // has no useful bound (teem stops at the stream's end).
  std::uint64_t available = 0;
  bool known = true;
  const unsigned nfiles = nio->dataFNArr ? nio->dataFNArr->len : 0;
  if (nio->dataFNFormat) {
    known = false;  // a "%d" file name pattern: teem checks each file while reading
  } else if (nfiles == 0) {
    available = file_size_or_zero(path);
  } else if (nio->dataFN) {
    for (unsigned f = 0; f < nfiles; ++f) {
      if (!nio->dataFN[f]) continue;
      // teem would read "-" from standard input (and hang a batch run); a device or a folder is
      // no data file either.
      const std::string name = nio->dataFN[f];
      fs::path p(name);
      if (p.is_relative()) p = path.parent_path() / p;
      if (name == "-" || !fs::is_regular_file(p, ec))
        throw FormatError("NRRD header " + where + ": data file \"" + name + "\" is not a regular file next to it");
      available += file_size_or_zero(p);
    }
  }
  const std::string enc = nio->encoding ? nio->encoding->name : "unknown";
  if (known) {
    std::uint64_t limit = available;
    if (enc == "gzip") limit = available * 1100 + 4096;
    else if (enc == "ascii") limit = available * 8;  // >= 1 character per value of <= 8 bytes
    else if (enc == "bzip2") limit = std::numeric_limits<std::uint64_t>::max();
    if (bytes > limit)
      throw FormatError("truncated NRRD file " + where + ": sizes " + dims + " of type " +
                        airEnumStr(nrrdType, head->type) + " need " + std::to_string(bytes) + " bytes of " + enc +
                        " data, the data file(s) hold " + std::to_string(available) + " bytes");
  }

  NrrdPtr full(nrrdNew());
  NioPtr nio2(nrrdIoStateNew());
  if (!full || !nio2) throw FormatError("cannot read NRRD file " + where + ": out of memory");
  if (nrrdLoad(full.get(), where.c_str(), nio2.get()))
    throw FormatError("cannot read NRRD file " + where + ": " + biff_text());
  // The file may have changed between the two reads: the checks above must still hold.
  if (full->dim != head->dim || nrrdElementNumber(full.get()) != count || full->type != head->type || !full->data)
    throw FormatError("NRRD file " + where + " changed while it was being read");
  return {std::move(full), enc};
}

bool is_spatial(const NrrdAxisInfo& ax, unsigned space_dim) {
  return space_dim > 0 && std::isfinite(ax.spaceDirection[0]);
}

// Geometry of the three spatial axes `axes` (indices into nrrd->axis).
Geometry geometry_of(const Nrrd* n, const std::array<unsigned, 3>& axes, const std::string& where,
                     std::map<std::string, std::string>& metadata) {
  Geometry g;
  for (int c = 0; c < 3; ++c) g.shape[c] = static_cast<std::int64_t>(n->axis[axes[c]].size);

  if (n->spaceDim == 0) {
    // No world space: only "spacings" (format.html: "spacings") -- voxel size without an
    // orientation. Accepted with an identity direction and origin 0, loudly.
    for (int c = 0; c < 3; ++c) {
      const double s = n->axis[axes[c]].spacing;
      if (!std::isfinite(s) || s == 0)
        throw FormatError("NRRD file " + where + " has neither \"space directions\" nor \"spacings\" for axis " +
                          std::to_string(axes[c]) + ": its voxel size and orientation are unknown");
      g.spacing_mm[c] = std::fabs(s);
      g.direction_lps[c][c] = s < 0 ? -1 : 1;
    }
    const std::string w = "no \"space directions\": orientation unknown, identity direction and origin 0 assumed "
                          "from \"spacings\"";
    metadata["geometry_warning"] = w;
    log::warn("{}: {}", where, w);
    return g;
  }

  // Space -> LPS: the sign to apply to each world coordinate.
  std::array<double, 3> flip{1, 1, 1};
  switch (n->space) {
    case nrrdSpaceLeftPosteriorSuperior:
      break;
    case nrrdSpaceRightAnteriorSuperior:
      flip = {-1, -1, 1};
      break;
    case nrrdSpaceLeftAnteriorSuperior:
      flip = {1, -1, 1};
      break;
    case nrrdSpaceScannerXYZ:
    case nrrdSpace3DRightHanded:
    case nrrdSpaceUnknown: {
      // scanner-xyz (ACR-NEMA 2.0 scanner coordinates, DICOM's ancestor), a right-handed space
      // with no anatomical labels, or only "space dimension: 3": taken as LPS, as ITK does.
      if (n->spaceDim != 3) break;  // reported below
      const std::string w = std::string("space \"") +
                            (n->space == nrrdSpaceUnknown ? "(none)" : airEnumStr(nrrdSpace, n->space)) +
                            "\" has no anatomical orientation; taken as left-posterior-superior";
      metadata["geometry_warning"] = w;
      log::warn("{}: {}", where, w);
      break;
    }
    default:
      throw FormatError("NRRD file " + where + ": space \"" + airEnumStr(nrrdSpace, n->space) +
                        "\" is not supported; expected left-posterior-superior, right-anterior-superior or "
                        "left-anterior-superior (a 3D world space)");
  }
  if (n->spaceDim != 3)
    throw FormatError("NRRD file " + where + ": space dimension is " + std::to_string(n->spaceDim) +
                      "; expected 3");

  for (int c = 0; c < 3; ++c) {
    const NrrdAxisInfo& ax = n->axis[axes[c]];
    Vec3 v{};
    for (int r = 0; r < 3; ++r) v[r] = flip[r] * ax.spaceDirection[r];
    const double norm = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    if (!std::isfinite(norm) || norm <= 0)
      throw FormatError("NRRD file " + where + ": \"space directions\" vector of axis " + std::to_string(axes[c]) +
                        " is zero or not finite");
    g.spacing_mm[c] = norm;
    for (int r = 0; r < 3; ++r) g.direction_lps[r][c] = v[r] / norm;
  }
  const auto& d = g.direction_lps;
  const double det = d[0][0] * (d[1][1] * d[2][2] - d[1][2] * d[2][1]) -
                     d[0][1] * (d[1][0] * d[2][2] - d[1][2] * d[2][0]) +
                     d[0][2] * (d[1][0] * d[2][1] - d[1][1] * d[2][0]);
  if (!(std::fabs(det) > 1e-6))
    throw FormatError("NRRD file " + where + ": \"space directions\" are linearly dependent (degenerate grid)");

  bool origin = true;
  for (int r = 0; r < 3; ++r) origin = origin && std::isfinite(n->spaceOrigin[r]);
  if (origin) {
    for (int r = 0; r < 3; ++r) g.origin_lps_mm[r] = flip[r] * n->spaceOrigin[r];
  } else {
    // "space origin" is optional in the format; ITK then uses 0 as well.
    metadata["origin_warning"] = "no \"space origin\": origin 0 assumed";
    log::warn("{}: no \"space origin\"; origin (0, 0, 0) assumed", where);
  }
  return g;
}

// The layout of a loaded NRRD: which axes are spatial and which (if any) is a list of layers.
struct Layout {
  std::array<unsigned, 3> spatial{0, 1, 2};
  int list_axis = -1;  // 0 for a 4D Slicer segmentation
  std::uint64_t layers = 1;
};

Layout layout_of(const Nrrd* n, const std::string& where, bool allow_layers) {
  Layout l;
  if (n->dim == 3) {
    for (unsigned a = 0; a < 3; ++a) {
      const int k = n->axis[a].kind;
      if (k != nrrdKindUnknown && k != nrrdKindDomain && k != nrrdKindSpace)
        throw FormatError("NRRD file " + where + ": axis " + std::to_string(a) + " is of kind \"" +
                          airEnumStr(nrrdKind, k) + "\"; expected a scalar 3D image (kinds: domain domain domain)");
    }
    return l;
  }
  if (n->dim == 4 && allow_layers && !is_spatial(n->axis[0], n->spaceDim) &&
      (n->axis[0].kind == nrrdKindList || n->axis[0].kind == nrrdKindUnknown)) {
    l.spatial = {1, 2, 3};
    l.list_axis = 0;
    l.layers = n->axis[0].size;
    return l;
  }
  std::string sizes;
  for (unsigned a = 0; a < n->dim; ++a) sizes += (a ? "x" : "") + std::to_string(n->axis[a].size);
  throw FormatError("NRRD file " + where + " is " + std::to_string(n->dim) + "D (" + sizes +
                    "); expected a 3D scalar image" +
                    (n->dim == 4 ? " (4D is read only as a 3D Slicer segmentation, with a leading list axis)" : ""));
}

std::map<std::string, std::string> key_values(const Nrrd* n) {
  std::map<std::string, std::string> kv;
  const unsigned count = nrrdKeyValueSize(n);
  for (unsigned i = 0; i < count; ++i) {
    char* key = nullptr;
    char* value = nullptr;
    nrrdKeyValueIndex(n, &key, &value, i);
    if (key) kv[key] = value ? value : "";
    if (!nrrdStateKeyValueReturnInternalPointers) {
      std::free(key);
      std::free(value);
    }
  }
  return kv;
}

bool parse_long(const std::string& s, long& out) {
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  out = std::strtol(s.c_str(), &end, 10);
  return errno == 0 && end && *end == '\0';
}

struct SlicerSegment {
  SegmentInfo info;
  long layer = 0;
};

// SegmentN_* keys grouped by N (in N order). A missing LabelValue / Layer is the pre-4.11
// layout: each segment its own 0/1 layer.
std::vector<SlicerSegment> slicer_segments(const std::map<std::string, std::string>& kv, const std::string& where,
                                           bool four_d) {
  static const std::regex key_re("Segment([0-9]{1,6})_(.+)");
  std::map<long, std::map<std::string, std::string>> by_index;
  for (const auto& [key, value] : kv) {
    std::smatch m;
    if (std::regex_match(key, m, key_re)) by_index[std::stol(m[1].str())][m[2].str()] = value;
  }
  std::vector<SlicerSegment> out;
  for (const auto& [index, segment_fields] : by_index) {
    SlicerSegment s;
    const auto& fields = segment_fields;  // a lambda may not capture a structured binding (C++17)
    auto get = [&](const char* f) {
      auto it = fields.find(f);
      return it == fields.end() ? std::string() : it->second;
    };
    s.info.name = get("Name");
    s.info.id = get("ID");
    const std::string label = get("LabelValue"), layer = get("Layer");
    const std::string key = "Segment" + std::to_string(index) + "_";
    if (label.empty()) {
      s.info.label = 1;
    } else if (!parse_long(label, s.info.label)) {
      throw FormatError("NRRD segmentation " + where + ": " + key + "LabelValue is \"" + label +
                        "\"; expected an integer");
    }
    if (layer.empty()) {
      s.layer = four_d ? index : 0;
    } else if (!parse_long(layer, s.layer) || s.layer < 0) {
      throw FormatError("NRRD segmentation " + where + ": " + key + "Layer is \"" + layer +
                        "\"; expected an integer >= 0");
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<SegmentInfo> infos(const std::vector<SlicerSegment>& segs) {
  std::vector<SegmentInfo> r;
  for (const auto& s : segs) r.push_back(s.info);
  return r;
}

// Value of element `index` (teem has already put it in the machine's byte order).
inline double value_at(const Nrrd* n, std::uint64_t index) {
  const char* base = static_cast<const char*>(n->data);
  return nrrdDLoad[n->type](base + index * nrrdTypeSize[n->type]);
}

Volume empty_volume(const Nrrd* n, const Layout& l, const std::string& where, const std::string& encoding) {
  Volume v;
  v.geometry = geometry_of(n, l.spatial, where, v.metadata);
  v.metadata["format"] = "nrrd";
  v.metadata["type"] = airEnumStr(nrrdType, n->type);
  v.metadata["encoding"] = encoding;
  v.metadata["space"] = n->space == nrrdSpaceUnknown ? "" : airEnumStr(nrrdSpace, n->space);
  const auto& s = v.geometry.shape;
  v.metadata["dims"] = std::to_string(s[0]) + "x" + std::to_string(s[1]) + "x" + std::to_string(s[2]);
  return v;
}

}  // namespace

bool is_nrrd_path(const fs::path& path) {
  const std::string n = path.filename().string();
  return ends_with_ci(n, ".nrrd") || ends_with_ci(n, ".nhdr");
}

Volume read_nrrd(const fs::path& path) {
  const std::string where = path.string();
  Loaded f = load(path);
  const Nrrd* n = f.nrrd.get();
  if (n->dim == 4 && !slicer_segments(key_values(n), where, true).empty())
    throw FormatError("NRRD file " + where + " is a 4D 3D Slicer segmentation (one layer per index of its first "
                      "axis); read it as a mask, not as an image");
  const Layout l = layout_of(n, where, false);
  Volume v = empty_volume(n, l, where, f.encoding);
  const std::uint64_t count = static_cast<std::uint64_t>(v.geometry.voxel_count());
  reserve_voxels(v.voxels, count);
  v.voxels.resize(count);
  const char* base = static_cast<const char*>(n->data);
  const std::size_t size = nrrdTypeSize[n->type];
  float (*fload)(const void*) = nrrdFLoad[n->type];
  for (std::uint64_t i = 0; i < count; ++i) v.voxels[i] = fload(base + i * size);
  return v;
}

std::vector<SegmentInfo> nrrd_segments(const fs::path& path) {
  Loaded f = load(path);
  return infos(slicer_segments(key_values(f.nrrd.get()), path.string(), f.nrrd->dim == 4));
}

Volume read_nrrd_mask(const fs::path& path, const std::string& selector) {
  const std::string where = path.string();
  Loaded f = load(path);
  const Nrrd* n = f.nrrd.get();
  const auto segs = slicer_segments(key_values(n), where, n->dim == 4);
  const Layout l = layout_of(n, where, !segs.empty());
  Volume v = empty_volume(n, l, where, f.encoding);
  const std::uint64_t count = static_cast<std::uint64_t>(v.geometry.voxel_count());
  reserve_voxels(v.voxels, count);
  v.voxels.assign(count, 0.0f);

  if (!segs.empty()) {
    const std::size_t pick = choose_segment(infos(segs), selector, path.filename().string(), "segment");
    const SlicerSegment& s = segs[pick];
    if (static_cast<std::uint64_t>(s.layer) >= l.layers)
      throw FormatError("NRRD segmentation " + where + ": segment \"" + s.info.name + "\" is in layer " +
                        std::to_string(s.layer) + " but the file has " + std::to_string(l.layers) + " layer(s)");
    const double want = static_cast<double>(s.info.label);
    for (std::uint64_t i = 0; i < count; ++i)
      v.voxels[i] = value_at(n, i * l.layers + static_cast<std::uint64_t>(s.layer)) == want ? 1.0f : 0.0f;
    v.metadata["segment_name"] = s.info.name;
    v.metadata["segment_id"] = s.info.id;
    v.metadata["segment_label"] = std::to_string(s.info.label);
    v.metadata["segment_layer"] = std::to_string(s.layer);
    return v;
  }

  // A plain label image.
  long label = 0;
  if (selector.empty()) {
    for (std::uint64_t i = 0; i < count; ++i) v.voxels[i] = value_at(n, i) > 0.5 ? 1.0f : 0.0f;
    return v;
  }
  if (!parse_long(selector, label))
    throw ValidationError(path.filename().string() + " is a plain NRRD label image without named segments (no "
                          "SegmentN_Name keys as 3D Slicer writes); segment \"" + selector +
                          "\" can only be chosen by label value here (e.g. 1), or leave it empty for voxel > 0.5");
  const double want = static_cast<double>(label);
  bool any = false;
  std::set<double> present;
  for (std::uint64_t i = 0; i < count; ++i) {
    const double x = value_at(n, i);
    if (x == want) {
      v.voxels[i] = 1.0f;
      any = true;
    } else if (present.size() < 20 && x != 0) {
      present.insert(x);
    }
  }
  if (!any) {
    std::string list;
    for (double x : present) list += (list.empty() ? "" : ", ") + fmt::format("{:g}", x);
    throw ValidationError("label " + selector + " does not occur in " + path.filename().string() +
                          (list.empty() ? " (all its voxels are 0)" : "; non-zero values present: " + list +
                                                                           (present.size() >= 20 ? ", ..." : "")));
  }
  v.metadata["segment_label"] = selector;
  return v;
}

}  // namespace cervirisk::io
