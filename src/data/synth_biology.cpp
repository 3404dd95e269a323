// Latent biology -> pathology -> adjuvant therapy -> censored recurrence, and the reading channels
// through which images, reports and the clinical table see it (docs/data-format.md).
//
// Pathology follows the risk factors of radical-hysterectomy series: Sedlis criteria (GOG 92,
// Sedlis et al., Gynecol Oncol 1999, doi:10.1006/gyno.1999.5387) and Peters criteria (GOG 109,
// Peters et al., J Clin Oncol 2000, doi:10.1200/JCO.2000.18.8.1606) decide adjuvant therapy, so
// therapy is confounded by indication. The outcome is a mixture cure model (Farewell,
// Biometrics 1982, doi:10.2307/2530289): the log-odds of being susceptible carry the SYNTH.md
// log-effects; the latency of susceptible patients is lognormal; events are detected at follow-up
// visits; censoring comes from staggered accrual and loss to follow-up.
#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <numeric>

#include "core/error.h"
#include "core/random.h"
#include "data/rng.h"
#include "data/synth.h"
#include "stats/roc.h"

namespace cervirisk::data {

const std::array<const char*, 7> kStages = {"IB1", "IB2", "IB3", "IIA1", "IIA2", "IIB", "IIIC1"};

namespace {

double logistic(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double logit(double p) { return std::log(p / (1.0 - p)); }
double phi(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

// Log-effects on the odds of recurrence (SYNTH.md "Outcome").
constexpr double kNodes = 1.0986, kLvsi = 0.7885, kDsi = 0.5878, kSize4 = 0.5878,
                 kParametrium = 0.5878, kMargin = 0.6931, kNonScc = 0.4055, kSccHigh = 0.4700,
                 kAdjuvant = -0.5978;
// The cure model's log-odds. SYNTH.md gives log-hazard ratios; on the odds-of-susceptibility
// scale of a mixture cure model the effects are larger for nodal disease (recurrence after
// radical hysterectomy is mostly nodal), smaller otherwise: the SYNTH.md effects x kScale, nodes
// x kNodeX, plus vaginal involvement. Together with the latent components below these were
// tuned so the oracle AUCs have the paper's shape (docs/data-format.md).
constexpr double kScale = 0.85, kNodeX = 2.9, kVagina = 0.8;
// The latent component only the image texture shows, and aggressiveness beyond pathology.
constexpr double kTexture = 1.0, kZ = 0.3;
// How much aggressiveness drives LVSI and nodes (low: the image cannot infer them).
constexpr double kLvsiZ = 0.3, kNodeZ = 0.2, kNodeL = 1.1;
constexpr double kSccHighCut = 4.0;  // ng/mL
constexpr double kLatencyMedian = 15.0;  // months, before detection at visits and censoring
constexpr double kHeterogeneityReadSd = 0.6;

// Target prevalences (SYNTH.md) that the intercepts are calibrated to.
constexpr double kDsiRate = 0.60, kLvsiRate = 0.37, kNodeRate = 0.20, kPmRate = 0.065,
                 kMarginRate = 0.03, kVaginaRate = 0.14;

// How reliably the image shows parametrial stranding: worse where the images are noisier.
double image_pm_sens(const CenterProfile& c) { return std::clamp(0.93 - 0.08 * (c.texture_read_sd - 0.4), 0.75, 0.95); }
double image_pm_spec(const CenterProfile& c) { return std::clamp(0.93 - 0.04 * (c.texture_read_sd - 0.4), 0.8, 0.95); }

// Linear parts of the pathology models, without intercepts.
double ls(double size_cm) { return std::log(size_cm / 2.8); }
double lin_depth(double z, double size) { return 0.8 * z + 1.8 * ls(size); }
double lin_lvsi(double z, double size, double dsi) { return kLvsiZ * z + 0.8 * ls(size) + 0.6 * dsi; }
double lin_nodes(double z, double size, double lvsi, double dsi) {
  return kNodeZ * z + 1.0 * ls(size) + kNodeL * lvsi + 0.4 * dsi;
}
double lin_pm(double z, double size, double deep) { return 0.9 * z + 1.8 * ls(size) + 1.5 * deep; }
double lin_vagina(double z, double size) { return 0.5 * z + 1.2 * ls(size); }
double lin_margin(double z, double size, double pm, double vagina) {
  return 0.5 * z + 1.2 * ls(size) + 1.5 * pm + 0.8 * vagina;
}

// Draws of one patient that do not depend on intercepts, so calibration can reuse them.
struct Draws {
  double z, u, age, size_e, depth_e;
  double u_lvsi, u_nodes, u_pm, u_margin, u_vagina, u_hist, u_scc_miss, scc_e;
  double u_susc, latency_e, admin, u_lost, lost_at;
  double visit_jitter;
  double u_therapy, u_missing[3], centre_effect;
};

Draws draw(Rng& r) {
  Draws d;
  d.z = r.normal();
  d.u = r.normal();
  d.age = r.normal(48, 9);
  d.size_e = r.normal();
  d.depth_e = r.normal(0, 0.9);
  d.u_lvsi = r.uniform(), d.u_nodes = r.uniform(), d.u_pm = r.uniform();
  d.u_margin = r.uniform(), d.u_vagina = r.uniform(), d.u_hist = r.uniform();
  d.u_scc_miss = r.uniform(), d.scc_e = r.normal();
  d.u_susc = r.uniform(), d.latency_e = r.normal();
  d.admin = r.uniform(36, 120);
  d.u_lost = r.uniform(), d.lost_at = r.uniform();
  d.visit_jitter = r.uniform(-0.5, 0.5);
  d.u_therapy = r.uniform();
  for (double& m : d.u_missing) m = r.uniform();
  d.centre_effect = r.normal();
  return d;
}

struct Intercepts {
  double depth = 0, lvsi = 0, nodes = 0, pm = 0, vagina = 0, margin = 0, outcome = 0;
};

// The first month >= t at which a recurrence would be found: visits every 3 months for two
// years, then every 6 months.
double next_visit(double t) {
  if (t <= 24) return 3.0 * std::ceil(std::max(t, 1e-9) / 3.0);
  return 24 + 6.0 * std::ceil((t - 24) / 6.0);
}

// Sedlis criteria (GOG 92) on stromal depth thirds, LVSI and clinical tumour size.
bool sedlis(bool lvsi, double depth, double size_cm) {
  if (lvsi) return depth >= 2.0 / 3 || (depth >= 1.0 / 3 && size_cm >= 2) || size_cm >= 5;
  return depth >= 1.0 / 3 && size_cm >= 4;
}

// Fills the pathology, therapy and outcome of one patient from its draws.
void realise(SynthPatient& p, const Draws& d, const CenterProfile& c, const Intercepts& a) {
  p.z = d.z;
  p.u = d.u;
  p.age = std::round(std::clamp(d.age, 25.0, 75.0));
  // Maximal diameter: lognormal, median 2.8 cm, 10-90 % 1.5-4.8 cm (log-SD 0.45), grows with z.
  p.size_cm = std::clamp(std::exp(std::log(2.8) + 0.25 * d.z + 0.374 * d.size_e), 0.6, 9.0);
  const double depth_x = a.depth + lin_depth(d.z, p.size_cm) + d.depth_e;
  p.depth = std::clamp(logistic(depth_x), 0.02, 1.0);
  p.dsi = depth_x >= 0;
  p.histology = d.u_hist < c.adeno ? 1 : (d.u_hist < c.adeno + c.adenosquamous ? 2 : 0);
  p.lvsi = d.u_lvsi < logistic(a.lvsi + lin_lvsi(d.z, p.size_cm, p.dsi));
  p.nodes = d.u_nodes < logistic(a.nodes + lin_nodes(d.z, p.size_cm, p.lvsi, p.dsi));
  p.parametrium = d.u_pm < logistic(a.pm + lin_pm(d.z, p.size_cm, p.depth > 0.9));
  p.vagina = d.u_vagina < logistic(a.vagina + lin_vagina(d.z, p.size_cm));
  p.margin = d.u_margin < logistic(a.margin + lin_margin(d.z, p.size_cm, p.parametrium, p.vagina));
  // SCC-Ag: lognormal, median ~1.8 ng/mL, log-SD ~1.1, higher with z, size and nodes; lower in
  // adenocarcinoma; each centre's assay reads x0.8-1.25.
  double log_scc = std::log(1.8) - 0.07 + 0.35 * d.z + 0.5 * ls(p.size_cm) + 0.35 * p.nodes +
                   0.98 * d.scc_e - (p.histology == 1 ? 0.7 : 0.0);
  const double scc_true = std::exp(log_scc);
  p.scc_ag = std::round(std::clamp(scc_true * c.scc_assay_bias, 0.1, 450.0) * 10) / 10;
  p.scc_missing = d.u_scc_miss < c.scc_missing;
  p.lvsi_missing = d.u_missing[0] < 0.03;
  p.dsi_missing = d.u_missing[1] < 0.02;
  p.adjuvant_missing = d.u_missing[2] < 0.01;
  // Adjuvant therapy by indication.
  const bool peters = p.nodes || p.parametrium || p.margin;
  if (peters) p.adjuvant = d.u_therapy < 0.90 ? 2 : (d.u_therapy < 0.97 ? 1 : 0);
  else if (sedlis(p.lvsi, p.depth, p.size_cm)) p.adjuvant = d.u_therapy < c.sedlis_rt ? 1 : 0;
  else p.adjuvant = d.u_therapy < 0.15 ? 1 : 0;
  // Outcome.
  p.lp = a.outcome + kScale * (kNodeX * kNodes * p.nodes + kVagina * p.vagina + kLvsi * p.lvsi + kDsi * p.dsi + kSize4 * (p.size_cm > 4) +
         kParametrium * p.parametrium + kMargin * p.margin + kNonScc * (p.histology != 0) +
         kSccHigh * (scc_true > kSccHighCut) + kAdjuvant * (p.adjuvant > 0)) + kTexture * d.u +
         kZ * d.z + c.unexplained_sd * d.centre_effect;
  p.susceptible = d.u_susc < logistic(p.lp);
  // Latency among the susceptible: lognormal, median ~13 months (~15 once detected at visits),
  // ~75 % within 24 months; higher risk recurs earlier.
  p.event_time_true = -1;
  if (p.susceptible)
    p.event_time_true = std::max(0.5, std::exp(std::log(kLatencyMedian) - 0.05 * (p.lp - a.outcome - 2.0) +
                                               0.8 * d.latency_e));
  // Censoring: administrative (staggered accrual; 3-10 years, shorter at a recently joined
  // centre) and 7 % lost to follow-up.
  p.censor_time = d.admin;
  p.censor_time = c.followup_min + (d.admin - 36) / 84 * (c.followup_max - c.followup_min);
  if (d.u_lost < 0.07) p.censor_time = 3 + d.lost_at * (d.admin - 3);
  p.event = false;
  p.time_months = p.censor_time;
  if (p.susceptible) {
    const double detected = std::max(1.0, next_visit(p.event_time_true) + d.visit_jitter);
    if (detected <= p.censor_time) {
      p.event = true;
      p.time_months = detected;
    }
  }
  p.time_months = std::round(p.time_months * 10) / 10;
}

Intercepts calibrate(const std::vector<Draws>& ref, const CenterProfile& c, double rate) {
  Intercepts a;
  std::vector<SynthPatient> ps(ref.size());
  auto solve = [&](double& slot, double target, auto&& measure) {
    double lo = -15, hi = 15;
    for (int it = 0; it < 50; ++it) {
      slot = 0.5 * (lo + hi);
      double m = 0;
      for (std::size_t i = 0; i < ref.size(); ++i) {
        realise(ps[i], ref[i], c, a);
        m += measure(ps[i]);
      }
      m /= static_cast<double>(ref.size());
      (m < target ? lo : hi) = slot;
    }
  };
  solve(a.depth, kDsiRate, [](const SynthPatient& p) { return p.dsi ? 1.0 : 0.0; });
  solve(a.lvsi, kLvsiRate, [](const SynthPatient& p) { return p.lvsi ? 1.0 : 0.0; });
  solve(a.nodes, kNodeRate, [](const SynthPatient& p) { return p.nodes ? 1.0 : 0.0; });
  solve(a.pm, kPmRate, [](const SynthPatient& p) { return p.parametrium ? 1.0 : 0.0; });
  solve(a.vagina, kVaginaRate, [](const SynthPatient& p) { return p.vagina ? 1.0 : 0.0; });
  solve(a.margin, kMarginRate, [](const SynthPatient& p) { return p.margin ? 1.0 : 0.0; });
  solve(a.outcome, rate, [](const SynthPatient& p) { return p.event ? 1.0 : 0.0; });
  return a;
}

// Intercepts from a fixed reference population (independent of the user's seed), so a
// patient's values do not depend on who else is in the cohort.
Intercepts compute_intercepts(double rate) {
  std::vector<Draws> ref;
  Rng r(0x5EEDCA1B);
  for (int i = 0; i < 6000; ++i) ref.push_back(draw(r));
  CenterProfile mean_centre = center_profiles(3, "auto")[0];
  return calibrate(ref, mean_centre, rate);
}

Intercepts reference_intercepts(double rate) {
  static std::mutex m;
  static std::map<double, Intercepts> cache;
  std::lock_guard<std::mutex> lock(m);
  auto it = cache.find(rate);
  if (it == cache.end()) it = cache.emplace(rate, compute_intercepts(rate)).first;
  return it->second;
}

// --- oracle scores ----------------------------------------------------------------------------
// E[linear predictor | what a modality shows]: pathology a modality sees is replaced by its
// posterior probability (prior from the generating model, times the reading channel's
// likelihood ratio); what it cannot see by the prior given what it can.
struct Belief {
  double z = 0, u = 0, size_cm = 2.8, p_size4 = 0.2, p_dsi = 0.6, p_lvsi = -1, p_nodes = -1,
         p_pm = -1, p_margin = -1, p_vagina = -1, p_nonscc = 0.13, p_scc_high = 0.25,
         p_adjuvant = -1, deep = 0;
};

double with_lr(double prior, double lr) {
  prior = std::clamp(prior, 1e-6, 1 - 1e-6);
  return logistic(logit(prior) + std::log(lr));
}
double lr_positive(bool read, double sens, double spec) {
  return read ? sens / (1 - spec) : (1 - sens) / spec;
}

double expected_lp(Belief b, const Intercepts& a) {
  if (b.p_lvsi < 0) b.p_lvsi = logistic(a.lvsi + lin_lvsi(b.z, b.size_cm, b.p_dsi));
  if (b.p_nodes < 0) b.p_nodes = logistic(a.nodes + lin_nodes(b.z, b.size_cm, b.p_lvsi, b.p_dsi));
  if (b.p_pm < 0) b.p_pm = logistic(a.pm + lin_pm(b.z, b.size_cm, b.deep));
  if (b.p_vagina < 0) b.p_vagina = logistic(a.vagina + lin_vagina(b.z, b.size_cm));
  if (b.p_margin < 0) b.p_margin = logistic(a.margin + lin_margin(b.z, b.size_cm, b.p_pm, b.p_vagina));
  if (b.p_adjuvant < 0) {
    const double peters = 1 - (1 - b.p_nodes) * (1 - b.p_pm) * (1 - b.p_margin);
    const double sed = b.p_lvsi * b.p_dsi + (1 - b.p_lvsi) * b.p_dsi * b.p_size4;
    b.p_adjuvant = 0.97 * peters + (1 - peters) * (0.72 * sed + 0.15 * (1 - sed));
  }
  return a.outcome + kScale * (kNodeX * kNodes * b.p_nodes + kVagina * b.p_vagina + kLvsi * b.p_lvsi + kDsi * b.p_dsi + kSize4 * b.p_size4 +
         kParametrium * b.p_pm + kMargin * b.p_margin + kNonScc * b.p_nonscc +
         kSccHigh * b.p_scc_high + kAdjuvant * b.p_adjuvant) + kTexture * b.u + kZ * b.z;
}

// What the image shows: tumour size and stromal depth, the parametrial stranding sign, the
// texture component and the heterogeneity that grows with z.
Belief image_belief(const SynthPatient& p, const CenterProfile& c, const Intercepts& a) {
  Belief b;
  b.z = p.heterogeneity_seen / (1 + kHeterogeneityReadSd * kHeterogeneityReadSd);
  b.u = p.texture_seen / (1 + c.texture_read_sd * c.texture_read_sd);
  b.size_cm = p.size_cm;
  b.p_size4 = p.size_cm > 4 ? 1 : 0;
  b.p_dsi = phi((p.depth_seen - 0.5) / 0.08);
  b.deep = phi((p.depth_seen - 0.9) / 0.08);
  const double prior_pm = logistic(a.pm + lin_pm(b.z, b.size_cm, b.deep));
  b.p_pm = with_lr(prior_pm, lr_positive(p.pm_sign_seen, image_pm_sens(c), image_pm_spec(c)));
  b.p_nonscc = c.adeno + c.adenosquamous;
  return b;
}

Belief report_belief(const SynthPatient& p, const CenterProfile& c, const Intercepts& a) {
  Belief b;
  b.p_nonscc = c.adeno + c.adenosquamous;
  if (!p.has_report) return b;
  b.size_cm = std::max(0.5, p.read_long_mm / 10);
  b.p_size4 = phi((p.read_long_mm - 40) / c.size_sd_mm);
  b.p_dsi = phi((p.read_depth - 0.5) / 0.15);
  b.deep = phi((p.read_depth - 0.9) / 0.15);
  b.p_pm = with_lr(logistic(a.pm + lin_pm(0, b.size_cm, b.deep)),
                   lr_positive(p.read_pm, c.pm_sens, c.pm_spec));
  const double p_lvsi = logistic(a.lvsi + lin_lvsi(0, b.size_cm, b.p_dsi));
  b.p_nodes = with_lr(logistic(a.nodes + lin_nodes(0, b.size_cm, p_lvsi, b.p_dsi)),
                      lr_positive(p.read_nodes, c.node_sens, c.node_spec));
  b.p_vagina = with_lr(logistic(a.vagina + lin_vagina(0, b.size_cm)),
                       lr_positive(p.read_vagina, 0.8, 0.95));
  return b;
}

double stage_p_size4(int stage) {
  switch (stage) {
    case 0: return 0.0;
    case 1: case 3: return 0.05;
    case 2: case 4: return 0.9;
    default: return 0.4;
  }
}

// What the clinical table shows: the pathology it records (unless missing), histology,
// SCC-Ag, adjuvant therapy and the pre-operative stage.
void apply_clinical(Belief& b, const SynthPatient& p, bool have_size) {
  if (!have_size) b.p_size4 = stage_p_size4(p.preop_stage);
  if (!p.dsi_missing) b.p_dsi = p.dsi, b.deep = p.depth > 0.9 ? 1 : b.deep;
  if (!p.lvsi_missing) b.p_lvsi = p.lvsi;
  b.p_nodes = p.nodes;
  b.p_pm = p.parametrium;
  b.p_margin = p.margin;
  b.p_nonscc = p.histology != 0;
  if (!p.scc_missing) b.p_scc_high = p.scc_ag > kSccHighCut * 1.0 ? 1 : 0;
  if (!p.adjuvant_missing) b.p_adjuvant = p.adjuvant > 0;
}

void oracles(SynthPatient& p, const CenterProfile& c, const Intercepts& a) {
  const Belief img = image_belief(p, c, a);
  const Belief rep = report_belief(p, c, a);
  p.oracle_image = expected_lp(img, a);
  p.oracle_report = expected_lp(rep, a);
  Belief clin;
  apply_clinical(clin, p, false);
  p.oracle_clinical = expected_lp(clin, a);
  // All modalities: the image's latent readings, pathology from the table where recorded, the
  // image and report readings combined where not.
  Belief all = img;
  if (p.has_report) {
    all.p_pm = with_lr(img.p_pm, lr_positive(p.read_pm, c.pm_sens, c.pm_spec));
    const double p_lvsi = logistic(a.lvsi + lin_lvsi(img.z, img.size_cm, img.p_dsi));
    all.p_nodes = with_lr(logistic(a.nodes + lin_nodes(img.z, img.size_cm, p_lvsi, img.p_dsi)),
                          lr_positive(p.read_nodes, c.node_sens, c.node_spec));
    all.p_vagina = rep.p_vagina;
  }
  p.oracle_image_report = expected_lp(all, a);
  apply_clinical(all, p, true);
  p.oracle_all = expected_lp(all, a);
}

// One patient of centre `center`: biology, pathology, therapy, outcome and the reading channels,
// all from the patient's own stream (derived from the seed and the id).
SynthPatient draw_patient(const SynthOptions& o, const CenterProfile& cp, int center, const std::string& id,
                          const Intercepts& a) {
  SynthPatient p;
  p.id = id;
  p.center = center;
  p.seed = derive_seed(o.seed, "synth/patient/" + p.id);
  Rng r(p.seed);
  const Draws d = draw(r);
  realise(p, d, cp, a);
  p.node_side = r.bernoulli(0.5) ? 1 : -1;
  p.tumour_side = r.bernoulli(0.5) ? 1 : -1;
  // Image channel (the same readings drive the rendered texture, heterogeneity and signs).
  p.texture_seen = p.u + r.normal(0, cp.texture_read_sd);
  p.heterogeneity_seen = p.z + r.normal(0, kHeterogeneityReadSd);
  p.depth_seen = std::clamp(p.depth + r.normal(0, 0.08), 0.02, 1.0);
  p.pm_sign_seen = p.parametrium ? r.bernoulli(image_pm_sens(cp)) : !r.bernoulli(image_pm_spec(cp));
  // Report channel: a radiologist reading the MRI.
  p.has_report = !r.bernoulli(o.no_report_fraction);
  p.read_long_mm = std::max(4.0, p.size_cm * 10 + r.normal(0, cp.size_sd_mm));
  p.read_short_mm = p.read_long_mm * r.uniform(0.65, 0.9);
  p.read_depth = std::clamp(p.depth + r.normal(0, 0.15), 0.05, 1.0);
  p.read_pm = p.parametrium ? r.bernoulli(cp.pm_sens) : !r.bernoulli(cp.pm_spec);
  p.read_nodes = p.nodes ? r.bernoulli(cp.node_sens) : !r.bernoulli(cp.node_spec);
  p.read_node_mm = p.read_nodes ? (p.nodes ? r.uniform(10, 24) : r.uniform(8, 12)) : 0;
  p.read_vagina = p.vagina ? r.bernoulli(0.8) : !r.bernoulli(0.95);
  auto stage_of = [](double size_mm, bool vag, bool pm, bool nodes) {
    if (nodes) return 6;
    if (pm) return 5;
    if (vag) return size_mm > 40 ? 4 : 3;
    return size_mm <= 20 ? 0 : (size_mm <= 40 ? 1 : 2);
  };
  p.read_stage = stage_of(p.read_long_mm, p.read_vagina, p.read_pm, p.read_nodes);
  // Pre-operative clinical stage (examination + MRI, an independent look): operable patients,
  // so suspected parametrium is rarely called; suspicious nodes on imaging give IIIC1r.
  {
    const double size_mm = p.size_cm * 10 + r.normal(0, 3.0);
    const bool vag = p.vagina ? r.bernoulli(0.8) : !r.bernoulli(0.97);
    const bool pm = p.parametrium ? r.bernoulli(0.4) : !r.bernoulli(0.98);
    const bool nodes = p.nodes ? r.bernoulli(0.5) : !r.bernoulli(0.97);
    p.preop_stage = stage_of(size_mm, vag, pm, nodes);
  }
  oracles(p, cp, a);
  return p;
}

// Sizes of `n` patients shared by `shares` (largest remainder); `normalise` divides by their sum
// (the study's centre shares already sum to one and are used as they are).
std::vector<int> share_counts(const std::vector<double>& shares, int n, bool normalise) {
  std::vector<int> counts(shares.size(), 0);
  double total = 0;
  for (double s : shares) total += s;
  if (!normalise) total = 1.0;
  std::vector<std::pair<double, std::size_t>> rem;
  int used = 0;
  for (std::size_t c = 0; c < shares.size(); ++c) {
    const double want = shares[c] / total * n;
    counts[c] = static_cast<int>(std::floor(want));
    used += counts[c];
    rem.push_back({-(want - counts[c]), c});
  }
  std::sort(rem.begin(), rem.end());
  for (std::size_t i = 0; used < n && !rem.empty(); ++i, ++used) ++counts[rem[i % rem.size()].second];
  return counts;
}

}  // namespace

std::vector<SynthPatient> synth_biology(const SynthOptions& o, const std::vector<CenterProfile>& centers) {
  if (o.patients < 1) throw ConfigError("synth: --patients must be >= 1");
  if (o.test_external < 0 || o.test_internal < 0) throw ConfigError("synth: --test-patients must be >= 0");
  if (!(o.recurrence_rate > 0.01 && o.recurrence_rate < 0.6))
    throw ConfigError("synth: --recurrence-rate must be in (0.01, 0.6), got " + std::to_string(o.recurrence_rate));
  const Intercepts a = reference_intercepts(o.recurrence_rate);
  std::vector<double> shares;
  for (const auto& c : centers) shares.push_back(c.share);
  const std::vector<int> counts = share_counts(shares, o.patients, false);
  std::vector<SynthPatient> out;
  out.reserve(static_cast<std::size_t>(o.patients + o.test_external + o.test_internal));
  for (std::size_t c = 0; c < centers.size(); ++c)
    for (int k = 0; k < counts[c]; ++k) {
      char id[32];
      std::snprintf(id, sizeof id, "%s%03d", centers[c].name.c_str(), k + 1);
      out.push_back(draw_patient(o, centers[c], static_cast<int>(c), id, a));
    }
  // The test set: the same process, other patients (ids T<centre><5 digits>, their own streams).
  const auto external = external_centers_of(centers);
  const auto is_external = [&](const CenterProfile& c) {
    return std::find(external.begin(), external.end(), c.name) != external.end();
  };
  if ((o.test_external > 0 && external.empty()) ||
      (o.test_internal > 0 && external.size() == centers.size()))
    throw ConfigError("synth: a test set needs an external centre and a training centre (--centers >= 2)");
  for (const bool ext : {false, true}) {
    const int n = ext ? o.test_external : o.test_internal;
    if (n == 0) continue;
    std::vector<double> sh;
    for (const auto& c : centers) sh.push_back(is_external(c) == ext ? c.share : 0.0);
    const std::vector<int> tc = share_counts(sh, n, true);
    for (std::size_t c = 0; c < centers.size(); ++c)
      for (int k = 0; k < tc[c]; ++k) {
        char id[32];
        std::snprintf(id, sizeof id, "T%s%05d", centers[c].name.c_str(), k + 1);
        out.push_back(draw_patient(o, centers[c], static_cast<int>(c), id, a));
        out.back().test_cohort = ext ? "test_external" : "test_internal";
      }
  }
  return out;
}

double mann_whitney_auc(const std::vector<double>& score, const std::vector<int>& outcome) {
  // The statistics library's AUC (Mann-Whitney, ties 1/2); NaN instead of an error when one
  // class is empty, which happens for small synthetic cohorts.
  const auto cases = std::count(outcome.begin(), outcome.end(), 1);
  if (cases == 0 || cases == static_cast<std::ptrdiff_t>(outcome.size())) return std::nan("");
  return stats::roc_auc(score, outcome);
}

}  // namespace cervirisk::data
