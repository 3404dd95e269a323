// Centre profiles of the synthetic cohort: acquisition geometry, appearance, case mix, therapy
// policy and reading accuracy. Values follow docs/data-format.md; those not from the literature
// are design choices that make centre C (the external centre by default) clearly harder.
#include <algorithm>
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

// Centre A (k = 0), B (1) or C (2): one line a parameter, one column a centre.
CenterProfile base_profile(int k) {
  const auto abc = [k](double a, double b, double c) { return k == 0 ? a : (k == 1 ? b : c); };
  CenterProfile c;
  c.name = std::string(1, static_cast<char>('A' + k));
  // All three write Chinese, each in its own house style (as the paper's three Chinese centres);
  // English is an option per centre (synth --report-language C=en).
  c.lang = "zh";
  c.report_style = k;
  // case mix and therapy policy
  c.adeno = abc(0.10, 0.09, 0.15), c.adenosquamous = 0.03;
  c.scc_missing = abc(0.12, 0.24, 0.16), c.scc_assay_bias = abc(1.0, 1.22, 0.82);
  c.sedlis_rt = abc(0.75, 0.65, 0.85);
  // reading accuracy (report) and what the image lets a reader see
  c.pm_sens = abc(0.87, 0.85, 0.78), c.pm_spec = abc(0.86, 0.85, 0.82);
  c.node_sens = abc(0.60, 0.58, 0.50), c.node_spec = abc(0.96, 0.96, 0.94), c.size_sd_mm = abc(2.0, 2.5, 3.0);
  c.texture_read_sd = abc(0.40, 0.45, 1.6);
  // C joined recently (18-48 months of follow-up); outcomes there also depend on what none of the
  // modalities records (referral pattern, salvage treatment): the external centre is harder.
  c.followup_min = abc(36, 36, 18), c.followup_max = abc(120, 120, 48), c.unexplained_sd = abc(0, 0, 1.2);
  // appearance
  c.gain = abc(1.0, 2.4, 0.6), c.offset = abc(0.0, 40.0, -8.0), c.gamma = abc(1.0, 0.9, 1.12);
  c.bias = abc(0.15, 0.22, 0.30), c.noise = abc(0.02, 0.015, 0.035);
  c.tumour_signal = abc(0.58, 0.62, 0.50), c.stroma_signal = abc(0.16, 0.20, 0.24);
  // geometry
  c.spacing_mm = abc(0.75, 0.65, 0.82), c.slice_mm = abc(4.0, 4.5, 3.5);
  const int matrix = static_cast<int>(abc(192, 224, 176));
  c.matrix = {matrix, matrix, static_cast<int>(abc(24, 20, 26))};
  if (k == 0) {
    // Sagittal T2: rows run anterior -> posterior, columns superior -> inferior, slices left ->
    // right (a right-handed frame; centre C's is left-handed, so both qfac signs occur).
    c.direction_lps = columns({0, 1, 0}, {0, 0, -1}, {-1, 0, 0});
  } else if (k == 1) {
    // Oblique axial T2, perpendicular to the cervical canal: the axial frame tilted 24 degrees
    // about the left-right axis and 7 degrees about the anterior-posterior axis.
    const io::Vec3 lr{1, 0, 0}, ap{0, 1, 0};
    const auto tilt = [&](const io::Vec3& v) { return rotate(rotate(v, lr, 24), ap, 7); };
    c.direction_lps = columns(tilt({1, 0, 0}), tilt({0, 1, 0}), tilt({0, 0, 1}));
    c.oblique = true;
  } else {
    // Sagittal, other vendor convention: rows posterior -> anterior, slices left -> right.
    c.direction_lps = columns({0, -1, 0}, {0, 0, -1}, {-1, 0, 0});
  }
  return c;
}

}  // namespace

std::map<std::string, std::string> parse_report_languages(const std::string& spec) {
  std::map<std::string, std::string> out;
  std::size_t start = 0;
  while (start <= spec.size()) {
    const std::size_t end = std::min(spec.find(',', start), spec.size());
    const std::string item = spec.substr(start, end - start);
    const std::size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size())
      throw ConfigError("synth: --report-language expects CENTRE=LANG[,CENTRE=LANG...] (e.g. C=en), got '" + spec + "'");
    out[item.substr(0, eq)] = item.substr(eq + 1);
    start = end + 1;
  }
  return out;
}

std::vector<CenterProfile> center_profiles(int centers, const std::string& lang,
                                           const std::map<std::string, std::string>& per_centre) {
  if (centers < 1 || centers > 8)
    throw ConfigError("synth: --centers must be between 1 and 8, got " + std::to_string(centers));
  if (lang != "auto" && lang != "zh" && lang != "en")
    throw ConfigError("synth: --lang must be auto, zh or en, got '" + lang + "'");
  std::vector<CenterProfile> base = {base_profile(0), base_profile(1), base_profile(2)};
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
      p.report_style = (p.report_style + 1) % 3;
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
  for (const auto& [name, l] : per_centre) {
    if (l != "zh" && l != "en")
      throw ConfigError("synth: --report-language " + name + "=" + l + ": the language must be zh or en");
    auto it = std::find_if(out.begin(), out.end(), [&name = name](const CenterProfile& p) { return p.name == name; });
    if (it == out.end()) {
      std::string names;
      for (const auto& p : out) names += (names.empty() ? "" : ", ") + p.name;
      throw ConfigError("synth: --report-language names centre '" + name + "', which is not one of " + names);
    }
    it->lang = l;
  }
  return out;
}

}  // namespace cervirisk::data
