// Centre profiles of the synthetic cohort: acquisition geometry, appearance, case mix, therapy
// policy and reading accuracy. Values follow ../shared/SYNTH.md; those not from the literature
// are design choices that make centre C (the external centre by default) clearly harder.
#include <cmath>

#include "core/error.h"
#include "data/synth.h"

namespace cervirisk::data {
namespace {

io::Mat3 columns(const io::Vec3& i, const io::Vec3& j, const io::Vec3& k) {
  io::Mat3 m{};
  for (int r = 0; r < 3; ++r) {
    m[r][0] = i[r];
    m[r][1] = j[r];
    m[r][2] = k[r];
  }
  return m;
}

io::Vec3 rotate(const io::Vec3& v, const io::Vec3& axis, double deg) {
  // Rodrigues' rotation formula.
  const double t = deg * M_PI / 180.0, c = std::cos(t), s = std::sin(t);
  const io::Vec3 kxv{axis[1] * v[2] - axis[2] * v[1], axis[2] * v[0] - axis[0] * v[2],
                     axis[0] * v[1] - axis[1] * v[0]};
  const double kdv = axis[0] * v[0] + axis[1] * v[1] + axis[2] * v[2];
  io::Vec3 r;
  for (int d = 0; d < 3; ++d) r[d] = v[d] * c + kxv[d] * s + axis[d] * kdv * (1 - c);
  return r;
}

CenterProfile profile_a() {
  CenterProfile c;
  c.name = "A";
  c.lang = "zh";
  c.report_style = 0;
  c.adeno = 0.10, c.adenosquamous = 0.03;
  c.scc_missing = 0.12, c.scc_assay_bias = 1.0, c.sedlis_rt = 0.75;
  c.pm_sens = 0.87, c.pm_spec = 0.86, c.node_sens = 0.60, c.node_spec = 0.96, c.size_sd_mm = 2.0;
  c.texture_read_sd = 0.40;
  c.gain = 1.0, c.offset = 0.0, c.gamma = 1.0, c.bias = 0.15, c.noise = 0.02;
  c.tumour_signal = 0.58, c.stroma_signal = 0.16;
  // Sagittal T2: rows run anterior -> posterior, columns superior -> inferior, slices left ->
  // right (a right-handed frame; centre C's is left-handed, so both qfac signs occur).
  c.spacing_mm = 0.75, c.slice_mm = 4.0, c.matrix = {192, 192, 24};
  c.direction_lps = columns({0, 1, 0}, {0, 0, -1}, {-1, 0, 0});
  return c;
}

CenterProfile profile_b() {
  CenterProfile c;
  c.name = "B";
  c.lang = "zh";
  c.report_style = 1;
  c.adeno = 0.09, c.adenosquamous = 0.03;
  c.scc_missing = 0.24, c.scc_assay_bias = 1.22, c.sedlis_rt = 0.65;
  c.pm_sens = 0.85, c.pm_spec = 0.85, c.node_sens = 0.58, c.node_spec = 0.96, c.size_sd_mm = 2.5;
  c.texture_read_sd = 0.45;
  c.gain = 2.4, c.offset = 40.0, c.gamma = 0.9, c.bias = 0.22, c.noise = 0.015;
  c.tumour_signal = 0.62, c.stroma_signal = 0.20;
  // Oblique axial T2, perpendicular to the cervical canal: the axial frame tilted 24 degrees
  // about the left-right axis and 7 degrees about the anterior-posterior axis.
  io::Vec3 i{1, 0, 0}, j{0, 1, 0}, k{0, 0, 1};
  const io::Vec3 lr{1, 0, 0}, ap{0, 1, 0};
  i = rotate(rotate(i, lr, 24), ap, 7);
  j = rotate(rotate(j, lr, 24), ap, 7);
  k = rotate(rotate(k, lr, 24), ap, 7);
  c.spacing_mm = 0.65, c.slice_mm = 4.5, c.matrix = {224, 224, 20};
  c.direction_lps = columns(i, j, k);
  c.oblique = true;
  return c;
}

CenterProfile profile_c() {
  CenterProfile c;
  c.name = "C";
  c.lang = "en";
  c.report_style = 0;
  c.adeno = 0.15, c.adenosquamous = 0.03;
  c.scc_missing = 0.16, c.scc_assay_bias = 0.82, c.sedlis_rt = 0.85;
  c.pm_sens = 0.78, c.pm_spec = 0.82, c.node_sens = 0.50, c.node_spec = 0.94, c.size_sd_mm = 3.0;
  c.texture_read_sd = 1.6;
  // Recently joined (18-48 months of follow-up); outcomes there also depend on what none of the
  // modalities records (referral pattern, salvage treatment): the external centre is harder.
  c.followup_min = 18, c.followup_max = 48, c.unexplained_sd = 1.2;
  c.gain = 0.6, c.offset = -8.0, c.gamma = 1.12, c.bias = 0.30, c.noise = 0.035;
  c.tumour_signal = 0.50, c.stroma_signal = 0.24;
  // Sagittal, other vendor convention: rows posterior -> anterior, slices left -> right.
  c.spacing_mm = 0.82, c.slice_mm = 3.5, c.matrix = {176, 176, 26};
  c.direction_lps = columns({0, -1, 0}, {0, 0, -1}, {-1, 0, 0});
  return c;
}

}  // namespace

std::vector<CenterProfile> center_profiles(int centers, const std::string& lang) {
  if (centers < 1 || centers > 8)
    throw ConfigError("synth: --centers must be between 1 and 8, got " + std::to_string(centers));
  if (lang != "auto" && lang != "zh" && lang != "en")
    throw ConfigError("synth: --lang must be auto, zh or en, got '" + lang + "'");
  std::vector<CenterProfile> base = {profile_a(), profile_b(), profile_c()};
  std::vector<CenterProfile> out;
  if (centers == 1) out = {base[0]};
  else if (centers == 2) out = {base[0], base[2]};
  else {
    out = base;
    // Further centres vary the first three: other spacing, gain and style.
    for (int c = 3; c < centers; ++c) {
      CenterProfile p = base[static_cast<std::size_t>(c % 3)];
      p.name = std::string(1, static_cast<char>('A' + c));
      p.spacing_mm *= 1.0 + 0.05 * (c - 2);
      p.gain *= 0.8 + 0.15 * c;
      p.report_style = (p.report_style + 1) % 2;
      out.push_back(p);
    }
  }
  // Default sizes ~200 / 130 / 115 (SYNTH.md); equal shares beyond three centres.
  if (out.size() == 3) {
    out[0].share = 200.0 / 445, out[1].share = 130.0 / 445, out[2].share = 115.0 / 445;
  } else {
    for (auto& p : out) p.share = 1.0 / static_cast<double>(out.size());
  }
  for (auto& p : out) {
    if (lang != "auto") p.lang = lang;
  }
  return out;
}

}  // namespace cervirisk::data
