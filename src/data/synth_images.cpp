// T2-weighted pelvic MRI of the synthetic cohort, rendered on each centre's grid (real,
// non-identity affines; centre B oblique). Anatomy in patient coordinates (LPS mm about the
// cervix): fat with soft texture, pelvic side-wall muscle, bladder (fluid), rectum, uterine body
// with endometrium, vagina, the low-signal cervical stroma ring with the bright canal, and the
// tumour of intermediate-high signal inside it. What the image shows of the biology is the image
// reading channel of SynthPatient: coarse heterogeneity and boundary irregularity grow with z,
// fine texture carries the texture-only latent component, stromal depth sets how much of the ring
// is left, and parametrial involvement shows as a lobe and spiculated stranding into the fat
// beside the tumour -- outside the tumour box, inside the context crop. Enlarged nodes lie on the
// pelvic side wall, outside both crops.
// Centre effects come last, before any normalisation: tissue contrast, gamma, a smooth bias field,
// gain and offset, and Rician noise (Gudbjartsson & Patz, Magn Reson Med 1995,
// doi:10.1002/mrm.1910340618: magnitude of a complex signal with Gaussian noise per channel).
#include <algorithm>
#include <cmath>

#include "core/random.h"
#include "data/rng.h"
#include "data/synth.h"

namespace cervirisk::data {
namespace {

using V3 = io::Vec3;
V3 sub(const V3& a, const V3& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }
double dot(const V3& a, const V3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
V3 cross(const V3& a, const V3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
V3 normalise(const V3& a) {
  const double n = std::sqrt(dot(a, a));
  return {a[0] / n, a[1] / n, a[2] / n};
}

// Smooth value noise in [-1, 1] on a lattice of unit spacing (trilinear with smoothstep), hashed
// from the patient's seed: a cheap band-limited texture.
class ValueNoise {
 public:
  explicit ValueNoise(std::uint64_t seed) : seed_(seed) {}
  double operator()(double x, double y, double z) const {
    const double fx = std::floor(x), fy = std::floor(y), fz = std::floor(z);
    const auto ix = static_cast<std::int64_t>(fx), iy = static_cast<std::int64_t>(fy), iz = static_cast<std::int64_t>(fz);
    const double tx = smooth(x - fx), ty = smooth(y - fy), tz = smooth(z - fz);
    double c[2][2][2];
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 2; ++b)
        for (int d = 0; d < 2; ++d) c[a][b][d] = lattice(ix + a, iy + b, iz + d);
    auto lerp = [](double p, double q, double t) { return p + (q - p) * t; };
    const double x00 = lerp(c[0][0][0], c[1][0][0], tx), x10 = lerp(c[0][1][0], c[1][1][0], tx);
    const double x01 = lerp(c[0][0][1], c[1][0][1], tx), x11 = lerp(c[0][1][1], c[1][1][1], tx);
    return lerp(lerp(x00, x10, ty), lerp(x01, x11, ty), tz);
  }

 private:
  static double smooth(double t) { return t * t * (3 - 2 * t); }
  double lattice(std::int64_t x, std::int64_t y, std::int64_t z) const {
    std::uint64_t h = seed_ ^ (static_cast<std::uint64_t>(x) * 0x9E3779B97F4A7C15ULL) ^
                      (static_cast<std::uint64_t>(y) * 0xC2B2AE3D27D4EB4FULL) ^
                      (static_cast<std::uint64_t>(z) * 0x165667B19E3779F9ULL);
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 29;
    return static_cast<double>(h >> 11) * 0x1.0p-52 - 1.0;
  }
  std::uint64_t seed_;
};

// The same kind of noise in voxel-index space with the lattice precomputed: the soft textures of
// fat and organs need no world consistency, and this costs no hashing per voxel.
class GridNoise {
 public:
  GridNoise(std::uint64_t seed, const std::array<std::int64_t, 3>& shape, const V3& step_vox) : step_(step_vox) {
    for (int d = 0; d < 3; ++d) n_[d] = static_cast<std::int64_t>(static_cast<double>(shape[d]) / step_vox[d]) + 3;
    const ValueNoise v(seed);
    lattice_.resize(static_cast<std::size_t>(n_[0] * n_[1] * n_[2]));
    for (std::int64_t k = 0; k < n_[2]; ++k)
      for (std::int64_t j = 0; j < n_[1]; ++j)
        for (std::int64_t i = 0; i < n_[0]; ++i)
          lattice_[static_cast<std::size_t>(i + n_[0] * (j + n_[1] * k))] = v(i + 0.5, j + 0.5, k + 0.5);
  }
  double operator()(std::int64_t i, std::int64_t j, std::int64_t k) const {
    const double x = static_cast<double>(i) / step_[0], y = static_cast<double>(j) / step_[1], z = static_cast<double>(k) / step_[2];
    const auto ix = static_cast<std::int64_t>(x), iy = static_cast<std::int64_t>(y), iz = static_cast<std::int64_t>(z);
    const double tx = smooth(x - ix), ty = smooth(y - iy), tz = smooth(z - iz);
    const float* p = &lattice_[static_cast<std::size_t>(ix + n_[0] * (iy + n_[1] * iz))];
    const std::int64_t sj = n_[0], sk = n_[0] * n_[1];
    auto lerp = [](double a, double b, double t) { return a + (b - a) * t; };
    const double a = lerp(lerp(p[0], p[1], tx), lerp(p[sj], p[sj + 1], tx), ty);
    const double b = lerp(lerp(p[sk], p[sk + 1], tx), lerp(p[sk + sj], p[sk + sj + 1], tx), ty);
    return lerp(a, b, tz);
  }

 private:
  static double smooth(double t) { return t * t * (3 - 2 * t); }
  V3 step_;
  std::int64_t n_[3];
  std::vector<float> lattice_;
};

// Approximately standard normal from one 64-bit draw: the sum of four 16-bit uniforms
// (Irwin-Hall, n = 4), rescaled. Plenty for image noise and ~10x cheaper than Box-Muller.
inline double fast_normal(Rng& r) {
  const std::uint64_t x = r.next();
  const double s = static_cast<double>((x & 0xFFFF) + ((x >> 16) & 0xFFFF) + ((x >> 32) & 0xFFFF) + (x >> 48));
  return (s / 65536.0 - 2.0) * 1.7320508075688772;
}

struct Lobe {
  V3 dir;
  double freq, phase, weight;
};

// In-plane voxels of --size small are this many of the full grid's.
int in_plane_shrink(SynthSize size) { return size == SynthSize::kSmall ? 4 : 1; }

// The grid of the centre's protocol (coarser for --size small), its field of view centred near,
// not at, the cervix.
io::Geometry draw_grid(const CenterProfile& c, SynthSize size, Rng& r, V3& cervix) {
  io::Geometry g;
  const int shrink = in_plane_shrink(size);
  g.shape = {c.matrix[0] / shrink, c.matrix[1] / shrink, c.matrix[2] / (size == SynthSize::kSmall ? 2 : 1)};
  g.spacing_mm = {c.spacing_mm * shrink, c.spacing_mm * shrink, c.slice_mm * (size == SynthSize::kSmall ? 2 : 1)};
  g.direction_lps = c.direction_lps;
  cervix = V3{r.normal(0, 4), 15 + r.normal(0, 4), -70 + r.normal(0, 5)};
  const V3 fov_centre{cervix[0] + r.normal(0, 3), cervix[1] + r.normal(0, 5), cervix[2] + r.normal(0, 5)};
  for (int d = 0; d < 3; ++d) {
    double o = fov_centre[d];
    for (int a = 0; a < 3; ++a) o -= g.direction_lps[d][a] * g.spacing_mm[a] * (static_cast<double>(g.shape[a]) - 1) / 2;
    g.origin_lps_mm[d] = std::round(o * 1000) / 1000;
  }
  return g;
}

// One patient's pelvis in patient coordinates (LPS mm), drawn from the image stream after the grid.
struct Anatomy {
  V3 cervix, axis, ap;             // canal axis; ap: its anterior-posterior normal
  double ta, tl, tp, ring;         // tumour semi-axes (along the axis, lateral, AP); stroma ring radius
  V3 tumour_c;
  double cervix_half_len;
  double het, irregular, fine;     // coarse heterogeneity, boundary irregularity, fine texture
  std::vector<Lobe> lobes;
  bool pm;                         // parametrial sign: a lobe through the ring and strands into the fat
  V3 pm_lobe;
  double pm_lobe_r, strand_strength;
  std::vector<V3> strands;
  V3 node_c, node2_c;
  double node_r;
  double uterus_len, uterus_r;
  V3 bladder_c, bladder_r;
  double rectum_y, rectum_r;
  double annot_scale, annot_jitter;  // the annotator's global scale and boundary jitter
  double bias_coef[6];               // the smooth bias field
  double tumour_reach;               // beyond this box around tumour_c nothing is tumour or mask
};

// The draws of Anatomy, in the order of the patient's image stream (changing it changes every image).
Anatomy draw_anatomy(const SynthPatient& p, const CenterProfile& c, const V3& cervix, int shrink, Rng& r) {
  Anatomy a;
  a.cervix = cervix;
  // Cervical canal axis: superior and anterior (anteverted uterus), in the sagittal plane.
  const double tilt = (35 + r.normal(0, 8)) * M_PI / 180;
  a.axis = V3{0, -std::sin(tilt), std::cos(tilt)};
  a.ap = cross(a.axis, V3{1, 0, 0});
  const double half_d = p.size_cm * 10 / 2;
  a.ta = half_d;
  a.tl = half_d * r.uniform(0.72, 0.9);
  a.tp = half_d * r.uniform(0.65, 0.85);
  a.ring = std::clamp(a.tl / std::max(p.depth_seen, 0.05), a.tl + 1.5, a.tl + 22);
  if (p.depth_seen >= 0.95) a.ring = a.tl - 0.5;
  a.ring = std::max(a.ring, 10.0);
  a.tumour_c = V3{cervix[0] + p.tumour_side * 0.12 * a.tl, cervix[1], cervix[2] - 2};
  a.cervix_half_len = std::max(16.0, a.ta + 4);
  // Boundary irregularity and coarse heterogeneity grow with the aggressiveness reading.
  a.het = std::clamp(0.06 + 0.05 * (p.heterogeneity_seen + 1.5), 0.02, 0.32);
  a.irregular = std::clamp(0.05 + 0.035 * (p.heterogeneity_seen + 1.5) + (p.pm_sign_seen ? 0.06 : 0), 0.02, 0.3);
  a.fine = std::clamp(0.05 + 0.04 * (p.texture_seen + 2.0), 0.01, 0.32);
  a.lobes.resize(6);
  for (auto& l : a.lobes) {
    l.dir = normalise({r.normal(), r.normal(), r.normal()});
    l.freq = r.uniform(2.5, 6);
    l.phase = r.uniform(0, 2 * M_PI);
    l.weight = r.uniform(0.5, 1.0);
  }
  a.pm = p.pm_sign_seen;
  a.pm_lobe = V3{a.tumour_c[0] + p.tumour_side * (a.ring + 2), a.tumour_c[1] + r.normal(0, 3), a.tumour_c[2] + r.normal(0, 3)};
  a.pm_lobe_r = r.uniform(4, 7);
  a.strand_strength = std::clamp((a.pm ? 0.75 : 0.0) + 0.12 * std::max(0.0, p.heterogeneity_seen), 0.0, 1.0);
  a.strands.resize(22);
  // Mostly lateral (the parametria), spread enough to cross the sagittal slices through the tumour.
  for (auto& s : a.strands) s = normalise({p.tumour_side * (0.2 + 0.6 * r.uniform()), r.normal(0, 1), r.normal(0, 1)});
  // Nodes on the pelvic side wall (obturator region).
  a.node_c = V3{cervix[0] + p.node_side * (38 + r.normal(0, 3)), cervix[1] + 8 + r.normal(0, 4), cervix[2] + 12 + r.normal(0, 5)};
  a.node_r = p.nodes ? r.uniform(6, 11) : r.uniform(2.5, 3.5);
  a.node2_c = V3{cervix[0] - p.node_side * (37 + r.normal(0, 3)), cervix[1] + 6, cervix[2] + 14};
  a.uterus_len = r.uniform(30, 40);
  a.uterus_r = r.uniform(20, 26);
  a.bladder_c = V3{cervix[0], cervix[1] - 38 + r.normal(0, 3), cervix[2] + 22 + r.normal(0, 3)};
  a.bladder_r = V3{r.uniform(30, 40), r.uniform(15, 24), r.uniform(18, 28)};
  a.rectum_y = cervix[1] + 28 + r.normal(0, 3);
  a.rectum_r = r.uniform(11, 16);
  // Annotator: global scale and a smooth boundary jitter of about one to two voxels.
  a.annot_scale = 1 + std::clamp(r.normal(0, 0.025), -0.06, 0.06);
  a.annot_jitter = 1.5 * c.spacing_mm * shrink / std::max(a.tl, 3.0);
  // Bias field: a random smooth (quadratic) field, peak deviation ~ c.bias.
  for (double& b : a.bias_coef) b = r.normal(0, 1);
  double bias_norm = 0;
  for (double b : a.bias_coef) bias_norm += std::fabs(b);
  for (double& b : a.bias_coef) b *= c.bias / bias_norm;
  a.tumour_reach = std::max({a.ta, a.tl, a.tp}) * 1.6 + 25;
  return a;
}

// The patient's noise fields: tumour texture and annotator jitter in world space, soft tissue
// texture (lattice ~6 mm, and a finer one) in voxel space.
struct Textures {
  Textures(std::uint64_t seed, const io::Geometry& g)
      : coarse(derive_seed(seed, "noise/coarse")),
        fine(derive_seed(seed, "noise/fine")),
        annot(derive_seed(seed, "noise/annotator")),
        tissue(derive_seed(seed, "noise/tissue"), g.shape, {in_plane(g), in_plane(g), std::max(1.0, 6.0 / g.spacing_mm[2])}),
        tissue_fine(derive_seed(seed, "noise/tissue_fine"), g.shape, {in_plane(g) / 3, in_plane(g) / 3, 1.0}) {}
  static double in_plane(const io::Geometry& g) { return 6.0 / g.spacing_mm[0]; }
  ValueNoise coarse, fine, annot;
  GridNoise tissue, tissue_fine;
};

// One voxel: its indices, its position (LPS mm) and where it lies relative to the cervix.
struct Voxel {
  std::int64_t i, j, k;
  V3 w;        // position
  V3 x;        // position relative to the cervix
  double t;    // along the canal axis
  double rho2; // squared distance from the canal axis
};

// Fat with a soft texture, side-wall muscle, rectum, bladder, uterus, vagina and the cervix, later
// structures drawn over earlier ones. in_fat: the voxel is left as fat.
double pelvis_signal(const Anatomy& a, const Textures& n, const CenterProfile& c, const Voxel& v, bool& in_fat) {
  const V3& x = v.x;
  double s = 0.74 + 0.04 * n.tissue(v.i, v.j, v.k);
  in_fat = true;
  // Pelvic side-wall muscle (obturator internus).
  if (std::fabs(x[0]) > 52 + 0.15 * x[2]) s = 0.28, in_fat = false;
  // Rectum: a tube along the superior-inferior axis behind the cervix.
  {
    const double dx = x[0] / a.rectum_r, dy = (v.w[1] - a.rectum_y) / (a.rectum_r * 0.8);
    const double q = dx * dx + dy * dy;
    if (q < 1) s = q > 0.55 ? 0.3 : 0.42 + 0.1 * n.tissue_fine(v.i, v.j, v.k), in_fat = false;
  }
  // Bladder.
  {
    const V3 b = sub(v.w, a.bladder_c);
    const V3& br = a.bladder_r;
    const double q = b[0] * b[0] / (br[0] * br[0]) + b[1] * b[1] / (br[1] * br[1]) + b[2] * b[2] / (br[2] * br[2]);
    if (q < 1) s = q > 0.88 ? 0.3 : 1.0, in_fat = false;
  }
  // Uterine body above the cervix, endometrium inside.
  {
    const double ut = (v.t - a.cervix_half_len - a.uterus_len * 0.85) / a.uterus_len;
    const double q = ut * ut + v.rho2 / (a.uterus_r * a.uterus_r);
    if (q < 1) s = q < 0.08 ? 0.82 : 0.46, in_fat = false;
  }
  // Vagina below the cervix: a flattened tube, wall and lumen.
  if (v.t < -a.cervix_half_len + 2 && v.t > -a.cervix_half_len - 45) {
    const double vl = x[0] / 13, vp = dot(x, a.ap) / 6;
    const double q = vl * vl + vp * vp;
    if (q < 1) s = q < 0.3 ? 0.55 : 0.3, in_fat = false;
  }
  // Cervix: low-signal stroma ring, bright canal.
  const double tt = v.t / a.cervix_half_len;
  const double q = tt * tt * tt * tt + v.rho2 / (a.ring * a.ring);
  if (q < 1) {
    s = c.stroma_signal + 0.03 * n.tissue_fine(v.i, v.j, v.k);
    if (v.rho2 < 2.5 && std::fabs(v.t) < a.cervix_half_len - 2) s = 0.7;
    in_fat = false;
  }
  return s;
}

// The tumour (irregular lobulated ellipsoid, plus the parametrial lobe) over the signal s, the
// spiculated stranding into the fat beside it, and the annotator's outline of it in `mask`.
void tumour_voxel(const Anatomy& a, const Textures& n, const CenterProfile& c, const Voxel& v, bool in_fat, double& s,
                  float& mask) {
  const V3& w = v.w;
  const V3 y = sub(w, a.tumour_c);
  if (!(std::fabs(y[0]) < a.tumour_reach && std::fabs(y[1]) < a.tumour_reach && std::fabs(y[2]) < a.tumour_reach)) return;
  const double ua = dot(y, a.axis) / a.ta, ul = y[0] / a.tl, up = dot(y, a.ap) / a.tp;
  const double rr = std::sqrt(ua * ua + ul * ul + up * up);
  double inside_r = 0;
  if (rr < 1.6) {
    const V3 dir = rr > 1e-9 ? V3{ua / rr, ul / rr, up / rr} : V3{1, 0, 0};
    double bump = 0;
    for (const auto& l : a.lobes) bump += l.weight * std::cos(l.freq * dot(dir, l.dir) + l.phase);
    inside_r = 1 + a.irregular * bump / 3;
  }
  bool in_tumour = rr < inside_r;
  double pm_q = 2;
  if (a.pm) {
    const V3 e = sub(w, a.pm_lobe);
    pm_q = dot(e, e) / (a.pm_lobe_r * a.pm_lobe_r);
    in_tumour = in_tumour || pm_q < 1;
  }
  if (in_tumour) {
    const double h = n.coarse(w[0] / 4, w[1] / 4, w[2] / 4), f = n.fine(w[0] / 1.1, w[1] / 1.1, w[2] / 1.1);
    s = c.tumour_signal * (1 + a.het * h + a.fine * f);
  } else if (in_fat && a.strand_strength > 0 && std::sqrt(v.rho2) < a.ring + 22) {
    // Spiculated stranding into the fat around the cervix, beside the tumour.
    const double dist = std::max(0.0, std::sqrt(v.rho2) - a.ring);
    const V3 yd = normalise({y[0] + 1e-9, y[1], y[2]});
    double beam = 0;
    for (const auto& sd : a.strands) beam = std::max(beam, dot(yd, sd));
    if (beam > 0.93) {
      const double q = (beam - 0.93) / 0.07;
      const double b = q * q * std::exp(-std::max(dist, 0.0) / 12);
      s -= (s - 0.32) * a.strand_strength * b;
    }
  }
  // The annotator's outline: the true tumour, slightly scaled and jittered.
  const double jit = a.annot_jitter * n.annot(w[0] / 5, w[1] / 5, w[2] / 5);
  if (rr < inside_r * a.annot_scale + jit || (a.pm && pm_q < (a.annot_scale + jit) * (a.annot_scale + jit))) mask = 1.0f;
}

// Pelvic side-wall nodes, enlarged (and textured) when involved, drawn over everything else.
void node_voxel(const Anatomy& a, const Textures& n, const SynthPatient& p, const Voxel& v, double& s) {
  const V3& w = v.w;
  const V3 na = sub(w, a.node_c), nb = sub(w, a.node2_c);
  const double qa = (na[0] * na[0] + na[1] * na[1]) / (a.node_r * a.node_r) + na[2] * na[2] / (2.2 * a.node_r * a.node_r);
  const double qb = (nb[0] * nb[0] + nb[1] * nb[1] + nb[2] * nb[2] / 2) / 9.0;
  if (qa < 1 || qb < 1) s = 0.5 + (p.nodes && qa < 1 ? 0.08 * n.coarse(w[0] / 2, w[1] / 2, w[2] / 2) : 0);
}

// Tissue signal (0 fat .. 1 fluid, before centre effects) and the annotator's mask on the grid.
void render_anatomy(const Anatomy& a, const Textures& n, const SynthPatient& p, const CenterProfile& c, SynthImages& out) {
  const io::Geometry& g = out.image.geometry;
  std::size_t idx = 0;
  for (std::int64_t k = 0; k < g.shape[2]; ++k) {
    for (std::int64_t j = 0; j < g.shape[1]; ++j) {
      for (std::int64_t i = 0; i < g.shape[0]; ++i, ++idx) {
        Voxel v{i, j, k, {}, {}, 0, 0};
        for (int d = 0; d < 3; ++d)
          v.w[d] = g.origin_lps_mm[d] + g.direction_lps[d][0] * g.spacing_mm[0] * i +
                   g.direction_lps[d][1] * g.spacing_mm[1] * j + g.direction_lps[d][2] * g.spacing_mm[2] * k;
        v.x = sub(v.w, a.cervix);
        v.t = dot(v.x, a.axis);
        const V3 radial{v.x[0] - v.t * a.axis[0], v.x[1] - v.t * a.axis[1], v.x[2] - v.t * a.axis[2]};
        v.rho2 = dot(radial, radial);
        bool in_fat = true;
        double s = pelvis_signal(a, n, c, v, in_fat);
        tumour_voxel(a, n, c, v, in_fat, s, out.mask.voxels[idx]);
        node_voxel(a, n, p, v, s);
        out.image.voxels[idx] = static_cast<float>(s);
      }
    }
  }
}

// The annotator's outline is sampled at voxel centres only. --size small quadruples the in-plane
// spacing and doubles the slice spacing (7-9 mm), so a sub-centimetre tumour can lie wholly
// between two slices and leave an empty mask, which validate rejects (mask_empty; seed 11: C003,
// 7.4 mm). An annotator marks every tumour shown to them: the voxel holding the tumour's centre
// (which is always inside the tumour) is then the mask. No random draw, and nothing changes for a
// mask that has any voxel: every cohort that validated stays byte-identical.
void mask_at_least_the_centre_voxel(const Anatomy& a, io::Volume& mask) {
  if (std::any_of(mask.voxels.begin(), mask.voxels.end(), [](float m) { return m > 0.5f; })) return;
  const io::Geometry& g = mask.geometry;
  const io::Vec3 q = g.lps_to_index(a.tumour_c);
  std::array<std::int64_t, 3> ijk{};
  for (int d = 0; d < 3; ++d) ijk[d] = std::clamp<std::int64_t>(std::llround(q[d]), 0, g.shape[d] - 1);
  mask.voxels[static_cast<std::size_t>(ijk[0] + g.shape[0] * (ijk[1] + g.shape[1] * ijk[2]))] = 1.0f;
}

// Centre effects: gamma, bias field, gain and offset, Rician noise; stored as integers.
void apply_centre_effects(const Anatomy& a, const CenterProfile& c, std::uint64_t seed, io::Volume& image) {
  Rng noise_rng(derive_seed(seed, "image/rician"));
  const double scale = 250.0 * c.gain;
  const double sigma = c.noise * scale;
  constexpr std::size_t kLut = 2049;  // gamma on [0, 2], linearly interpolated
  std::vector<double> gamma_lut(kLut);
  for (std::size_t q = 0; q < kLut; ++q) gamma_lut[q] = std::pow(2.0 * static_cast<double>(q) / (kLut - 1), c.gamma);
  const io::Geometry& g = image.geometry;
  const double* bc = a.bias_coef;
  std::size_t idx = 0;
  const double nx = static_cast<double>(g.shape[0] - 1), ny = static_cast<double>(g.shape[1] - 1),
               nz = static_cast<double>(std::max<std::int64_t>(g.shape[2] - 1, 1));
  for (std::int64_t k = 0; k < g.shape[2]; ++k) {
    const double Z = 2 * k / nz - 1;
    for (std::int64_t j = 0; j < g.shape[1]; ++j) {
      const double Y = 2 * j / ny - 1;
      for (std::int64_t i = 0; i < g.shape[0]; ++i, ++idx) {
        const double X = 2 * i / nx - 1;
        const double bias = 1 + bc[0] * X + bc[1] * Y + bc[2] * Z + bc[3] * X * Y + bc[4] * (X * X - 0.33) + bc[5] * (Y * Y - 0.33);
        const double sv = std::clamp(static_cast<double>(image.voxels[idx]), 0.0, 2.0) * (kLut - 1) / 2.0;
        const auto li = static_cast<std::size_t>(sv);
        const double gv = li + 1 < kLut ? gamma_lut[li] + (gamma_lut[li + 1] - gamma_lut[li]) * (sv - li) : gamma_lut[kLut - 1];
        const double v = scale * gv * bias;
        const double re = v + sigma * fast_normal(noise_rng), im = sigma * fast_normal(noise_rng);
        const double m = std::sqrt(re * re + im * im) + c.offset;
        image.voxels[idx] = static_cast<float>(std::floor(std::clamp(m, 0.0, 32767.0) + 0.5));
      }
    }
  }
}

}  // namespace

SynthImages synth_images(const SynthPatient& p, const CenterProfile& c, SynthSize size) {
  Rng r(derive_seed(p.seed, "image"));
  V3 cervix;
  const io::Geometry g = draw_grid(c, size, r, cervix);
  const Anatomy a = draw_anatomy(p, c, cervix, in_plane_shrink(size), r);
  const Textures n(p.seed, g);
  SynthImages out;
  out.image.geometry = g;
  out.mask.geometry = g;
  const auto voxels = static_cast<std::size_t>(g.voxel_count());
  out.image.voxels.resize(voxels);
  out.mask.voxels.assign(voxels, 0.0f);
  render_anatomy(a, n, p, c, out);
  mask_at_least_the_centre_voxel(a, out.mask);
  apply_centre_effects(a, c, p.seed, out.image);
  out.image.metadata["description"] = "cervirisk synthetic T2 (centre " + c.name + ")";
  out.mask.metadata["description"] = "cervirisk synthetic tumour mask (centre " + c.name + ")";
  return out;
}

}  // namespace cervirisk::data
