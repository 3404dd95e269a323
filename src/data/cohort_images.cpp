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
#include "io/nifti.h"

namespace cervirisk::data {
namespace fs = std::filesystem;

namespace {

struct ImageCheck {
  std::string hash;
  io::Geometry geometry;
  std::vector<Finding> findings;
};

// Number of mask voxels (> 0.5) whose centre falls inside the image grid.
std::int64_t voxels_inside(const io::Volume& mask, const io::Geometry& image, std::int64_t& total) {
  total = 0;
  std::int64_t inside = 0;
  const auto& s = mask.geometry.shape;
  const bool same = mask.geometry.same_grid(image);
  for (std::int64_t k = 0; k < s[2]; ++k)
    for (std::int64_t j = 0; j < s[1]; ++j)
      for (std::int64_t i = 0; i < s[0]; ++i) {
        if (!(mask.at(i, j, k) > 0.5f)) continue;
        ++total;
        if (same) {
          ++inside;
          continue;
        }
        const io::Vec3 q = image.lps_to_index(mask.geometry.index_to_lps({double(i), double(j), double(k)}));
        bool in = true;
        for (int d = 0; d < 3; ++d) in = in && q[d] > -0.5 && q[d] < static_cast<double>(image.shape[d]) - 0.5;
        inside += in;
      }
  return inside;
}

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
    if (fs::is_directory(p.image)) {
      r.hash = folder_hash(p.image);
      io::DicomReadOptions opt;
      opt.series_pattern = dicom_series;
      image = io::read_dicom(p.image, opt);
    } else {
      r.hash = sha256_file(p.image);
      image = io::read_nifti(p.image);
    }
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
    const io::Volume mask = io::read_nifti(p.mask);
    std::int64_t total = 0;
    const std::int64_t inside = voxels_inside(mask, image.geometry, total);
    if (total == 0) fail("mask_empty", "mask is empty (no voxel > 0.5): " + p.mask.string());
    else if (inside == 0)
      fail("mask_outside_image", "mask does not overlap its image (none of its " + std::to_string(total) +
                                     " voxels lies inside " + p.image.filename().string() + "): " + p.mask.string());
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
