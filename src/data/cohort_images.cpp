// Guards that read the image files: existence and readability, identical files under different
// patients (SHA-256 of the bytes, so a copied scan is caught whatever its name), and a tumour
// mask that is empty or lies outside its image.
#include <algorithm>
#include <cmath>
#include <map>

#include "core/error.h"
#include "core/hash.h"
#include "core/parallel.h"
#include "data/cohort.h"
#include "io/dicom.h"
#include "io/mask.h"
#include "io/nifti.h"

namespace cervirisk::data {
namespace fs = std::filesystem;

namespace {

struct ImageCheck {
  std::string hash;
  io::Geometry geometry;
  std::vector<Finding> findings;
};

// A DICOM folder's content hash: SHA-256 over the sorted hashes of its files (names ignored, so
// a renamed copy is still caught).
std::string folder_hash(const fs::path& dir) {
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) files.push_back(sha256_file(e.path()));
  std::sort(files.begin(), files.end());
  Sha256 h;
  for (const auto& f : files) h.update(f + "\n");
  return h.hex_digest();
}

ImageCheck check_one(const Patient& p, const std::string& dicom_series) {
  ImageCheck r;
  auto fail = [&](const std::string& guard, const std::string& msg) {
    r.findings.push_back({Severity::kError, guard, "patient " + p.id + ": " + msg, {p.id}});
  };
  if (p.image.empty() || p.mask.empty()) return r;  // already reported by load_cohort
  if (!fs::exists(p.image)) {
    fail("image_not_found", "image file not found: " + p.image.string());
    return r;
  }
  io::Volume image;
  try {
    io::ImageReadOptions opt;
    if (fs::is_directory(p.image)) {
      r.hash = folder_hash(p.image);
      opt.series_pattern = dicom_series;
    } else {
      r.hash = sha256_file(p.image);
    }
    image = io::read_image(p.image, opt);
    r.geometry = image.geometry;
  } catch (const Error& e) {
    fail("image_unreadable", e.what());
    return r;
  }
  if (!fs::exists(p.mask)) {
    fail("mask_not_found", "mask file not found: " + p.mask.string());
    return r;
  }
  try {
    // Every format io::read_mask takes (RTSTRUCT and SEG rasterised on the image's grid), with
    // the patient's structure; emptiness and overlap are reported by name.
    io::read_mask(p.mask, image.geometry, io::MaskReadOptions{p.mask_segment});
  } catch (const ValidationError& e) {
    const std::string what = e.what();
    if (what.find("is empty") != std::string::npos) fail("mask_empty", what);
    else if (what.find("overlap") != std::string::npos || what.find("lies outside") != std::string::npos)
      fail("mask_outside_image", "mask does not overlap its image " + p.image.filename().string() + ": " + what);
    else fail("mask_segment", what);
  } catch (const Error& e) {
    fail("mask_unreadable", e.what());
  }
  return r;
}

}  // namespace

std::vector<io::Geometry> check_images(Cohort& cohort, int threads, const std::string& dicom_series) {
  const std::size_t n = cohort.patients.size();
  std::vector<ImageCheck> results(n);
  parallel_for(n, worker_count(threads, n),
               [&](std::size_t i) { results[i] = check_one(cohort.patients[i], dicom_series); });

  std::vector<io::Geometry> geometry(n);
  std::map<std::string, std::vector<std::size_t>> by_hash;
  for (std::size_t i = 0; i < n; ++i) {
    for (auto& f : results[i].findings) cohort.findings.push_back(std::move(f));
    geometry[i] = results[i].geometry;
    if (!results[i].hash.empty()) by_hash[results[i].hash].push_back(i);
  }
  std::vector<std::string> ids, groups;
  for (const auto& [hash, idx] : by_hash) {
    std::vector<std::string> g;
    for (std::size_t i : idx)
      if (std::find(g.begin(), g.end(), cohort.patients[i].id) == g.end()) g.push_back(cohort.patients[i].id);
    if (g.size() < 2) continue;
    std::string s;
    for (const auto& id : g) s += (s.empty() ? "" : " = ") + id, ids.push_back(id);
    groups.push_back(s + " (sha256 " + hash.substr(0, 12) + ")");
  }
  if (!ids.empty()) {
    std::string msg = "identical image files under different patients: ";
    for (std::size_t i = 0; i < groups.size(); ++i) msg += (i ? "; " : "") + groups[i];
    cohort.findings.push_back({Severity::kError, "identical_images", msg, ids});
  }
  return geometry;
}

}  // namespace cervirisk::data
