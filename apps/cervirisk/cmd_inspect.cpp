// cervirisk inspect PATH [--json]: geometry and intensities of a NIfTI, NRRD or MetaImage file or
// a DICOM folder; the structures (name, label) of an RTSTRUCT, DICOM-SEG or .seg.nrrd.
// --json prints exactly one JSON object (docs: issue "Medical images in"):
//   {"path","format","shape","spacing_mm","affine_ras","origin_lps_mm","direction_lps","dtype","min","max","mean"}
// and for a DICOM folder holding several series {"path","format":"dicom","series":[{...}]}.
#include <cmath>
#include <filesystem>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <regex>

#include "commands.h"
#include "core/error.h"
#include "core/log.h"
#include "io/dicom.h"
#include "io/dicom_objects.h"
#include "io/metaimage.h"
#include "io/nifti.h"
#include "io/nrrd.h"
#include "io/segments.h"

namespace cervirisk::cli {
namespace {

using nlohmann::ordered_json;

struct InspectOptions {
  std::string path;
  bool json = false;
  std::int64_t volume = -1;
  std::string series;
};

ordered_json describe(const io::Volume& v) {
  const auto& g = v.geometry;
  double mn = std::numeric_limits<double>::infinity(), mx = -mn, sum = 0;
  for (float x : v.voxels) {
    mn = std::min(mn, static_cast<double>(x));
    mx = std::max(mx, static_cast<double>(x));
    sum += x;
  }
  io::Mat4 a = g.affine_ras();
  ordered_json j;
  j["shape"] = {g.shape[0], g.shape[1], g.shape[2]};
  j["spacing_mm"] = {g.spacing_mm[0], g.spacing_mm[1], g.spacing_mm[2]};
  j["affine_ras"] = ordered_json::array();
  for (const auto& row : a) j["affine_ras"].push_back({row[0], row[1], row[2], row[3]});
  j["origin_lps_mm"] = {g.origin_lps_mm[0], g.origin_lps_mm[1], g.origin_lps_mm[2]};
  j["direction_lps"] = ordered_json::array();
  for (const auto& row : g.direction_lps) j["direction_lps"].push_back({row[0], row[1], row[2]});
  auto it = v.metadata.find("datatype");
  j["dtype"] = it == v.metadata.end() ? "float32" : it->second;
  j["min"] = v.voxels.empty() ? 0.0 : mn;
  j["max"] = v.voxels.empty() ? 0.0 : mx;
  j["mean"] = v.voxels.empty() ? 0.0 : sum / static_cast<double>(v.voxels.size());
  return j;
}

ordered_json structures(const std::vector<io::SegmentInfo>& list) {
  ordered_json a = ordered_json::array();
  for (const auto& s : list) {
    ordered_json j;
    j["name"] = s.name;
    j["label"] = s.label;
    if (!s.id.empty()) j["id"] = s.id;
    if (!s.description.empty()) j["description"] = s.description;
    a.push_back(std::move(j));
  }
  return a;
}

void print_text(const ordered_json& j, const std::string& indent) {
  auto vec = [](const ordered_json& a) {
    std::string s;
    for (const auto& x : a) s += (s.empty() ? "" : " x ") + x.dump();
    return s;
  };
  std::cout << indent << "shape        " << vec(j["shape"]) << " voxels (" << j["dtype"].get<std::string>() << ")\n";
  std::cout << indent << "spacing      " << vec(j["spacing_mm"]) << " mm\n";
  std::cout << indent << "origin LPS   " << j["origin_lps_mm"].dump() << " mm\n";
  std::cout << indent << "direction    " << j["direction_lps"].dump() << " (columns: i, j, k in LPS)\n";
  std::cout << indent << "affine RAS   " << j["affine_ras"].dump() << "\n";
  std::cout << indent << "intensity    min " << j["min"].dump() << ", max " << j["max"].dump() << ", mean "
            << j["mean"].dump() << "\n";
}

void run_inspect(const InspectOptions& o) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(o.path, ec)) throw InputError("inspect: path not found: " + o.path);
  ordered_json out;
  out["path"] = o.path;
  if (!fs::is_directory(o.path, ec) && io::is_nifti_path(o.path)) {
    io::NiftiReadOptions n;
    n.volume_index = o.volume;
    io::Volume v = io::read_nifti(o.path, n);
    out["format"] = "nifti";
    out.update(describe(v));
    if (o.json) {
      std::cout << out.dump() << "\n";
      return;
    }
    std::cout << o.path << ": NIfTI-" << v.metadata["nifti_version"] << " " << v.metadata["dims"] << ", geometry from "
              << v.metadata["affine_source"] << " (qform_code " << v.metadata["qform_code"] << ", sform_code "
              << v.metadata["sform_code"] << ", " << v.metadata["byte_order"] << "-endian)\n";
    print_text(out, "  ");
    return;
  }
  if (!fs::is_directory(o.path, ec) && (io::is_nrrd_path(o.path) || io::is_metaimage_path(o.path))) {
    const bool nrrd = io::is_nrrd_path(o.path);
    const auto segments = nrrd ? io::nrrd_segments(o.path) : std::vector<io::SegmentInfo>{};
    out["format"] = nrrd ? (segments.empty() ? "nrrd" : "nrrd-segmentation") : "metaimage";
    if (segments.empty()) out.update(describe(io::read_image(o.path)));
    else out.update(describe(io::read_nrrd_mask(o.path, std::to_string(segments.front().label))));
    if (!segments.empty()) out["segments"] = structures(segments);
    if (o.json) {
      std::cout << out.dump() << "\n";
      return;
    }
    std::cout << o.path << ": " << (nrrd ? "NRRD" : "MetaImage")
              << (segments.empty() ? "" : " segmentation with " + std::to_string(segments.size()) + " segment(s): " +
                                              io::list_segments(segments) + " (geometry of the first)")
              << "\n";
    print_text(out, "  ");
    return;
  }
  if (!fs::is_directory(o.path, ec)) {
    const auto kind = io::dicom_object_kind(o.path);
    if (kind == io::DicomObjectKind::kRtStruct || kind == io::DicomObjectKind::kSegmentation) {
      const bool rt = kind == io::DicomObjectKind::kRtStruct;
      const auto list = rt ? io::rtstruct_rois(o.path) : io::dicom_seg_segments(o.path);
      out["format"] = rt ? "dicom-rtstruct" : "dicom-seg";
      out["structures"] = structures(list);
      if (o.json) {
        std::cout << out.dump() << "\n";
        return;
      }
      std::cout << o.path << ": DICOM " << (rt ? "RTSTRUCT" : "SEG") << " with " << list.size() << " "
                << (rt ? "ROI(s)" : "segment(s)") << " (name [label]): " << io::list_segments(list)
                << "\n  (a mask: give it with the image series it was drawn on; convert --reference IMAGE)\n";
      return;
    }
  }
  out["format"] = "dicom";
  std::vector<io::DicomSeriesInfo> all = io::list_dicom_series(o.path);
  std::vector<const io::DicomSeriesInfo*> shown;
  std::regex re;
  if (!o.series.empty()) re = std::regex(o.series, std::regex::ECMAScript | std::regex::icase);
  for (const auto& s : all) {
    if (!o.series.empty() && !std::regex_search(s.description, re) && s.series_uid != o.series) continue;
    if (!s.skip_reason.empty()) {
      log::warn("series {} '{}' ({} slice(s)) not readable: {}", s.series_uid, s.description, s.n_slices, s.skip_reason);
      continue;
    }
    shown.push_back(&s);
  }
  if (shown.empty()) {
    // One unreadable series: name its reason with the documented exit code.
    for (const auto& s : all)
      if (!s.skip_reason.empty() && (o.series.empty() || std::regex_search(s.description, re)))
        throw FormatError("DICOM series " + s.series_uid + " in " + o.path + " is not readable: " + s.skip_reason);
    throw InputError("no DICOM series" + (o.series.empty() ? std::string() : " matching '" + o.series + "'") + " in " + o.path);
  }
  if (shown.size() == 1) {
    io::Volume v = io::read_dicom_series(*shown.front());
    out.update(describe(v));
    if (o.json) {
      std::cout << out.dump() << "\n";
      return;
    }
    std::cout << o.path << ": DICOM series '" << shown.front()->description << "', " << shown.front()->n_slices
              << " slice(s), " << shown.front()->transfer_syntax << "\n";
    print_text(out, "  ");
    return;
  }
  out["series"] = ordered_json::array();
  if (!o.json) std::cout << o.path << ": " << shown.size() << " DICOM series\n";
  for (const auto* s : shown) {
    io::Volume v = io::read_dicom_series(*s);
    ordered_json js;
    js["series_uid"] = s->series_uid;
    js["description"] = s->description;
    js["n_slices"] = s->n_slices;
    js.update(describe(v));
    if (!o.json) {
      std::cout << "- " << s->series_uid << " '" << s->description << "', " << s->n_slices << " slice(s)"
                << (s->split_key.empty() ? "" : " [" + s->split_key + "]")
                << (s->exclude_reason.empty() ? "" : " (" + s->exclude_reason + ")") << "\n";
      print_text(js, "    ");
    }
    out["series"].push_back(std::move(js));
  }
  if (o.json) std::cout << out.dump() << "\n";
}

}  // namespace

void add_inspect(CLI::App& app, GlobalOptions& g) {
  auto* sub = app.add_subcommand("inspect", "Geometry and intensities of an image (NIfTI, NRRD, MetaImage, DICOM); the structures of a mask file");
  auto o = std::make_shared<InspectOptions>();
  sub->add_option("path", o->path, "NIfTI (.nii, .nii.gz), NRRD (.nrrd, .nhdr), MetaImage (.mha, .mhd), DICOM folder / file, RTSTRUCT, SEG")->required();
  sub->add_flag("--json", o->json, "Print one JSON object");
  sub->add_option("--volume", o->volume, "4D NIfTI: volume index (default: the first, with a warning)");
  sub->add_option("--series", o->series, "DICOM: regular expression on SeriesDescription, or a SeriesInstanceUID");
  sub->callback([&g, o] {
    apply_globals(g);
    run_inspect(*o);
  });
}

}  // namespace cervirisk::cli
