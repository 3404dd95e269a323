// Feature attributions as shap draws them (Lundberg & Lee 2017, "A Unified Approach to
// Interpreting Model Predictions", NeurIPS; the layout of shap.plots.beeswarm / .bar), and the
// signed bar chart that the SHAP bar plot and the modality contributions share.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "report/figure_parts.h"
#include "report/figures.h"

namespace cervirisk::report {

using detail::AxesStyle;
using detail::check_same_size;

namespace {
void check_shap(const ShapData& d) {
  for (std::size_t i = 0; i < d.phi.size(); ++i) {
    check_same_size(d.phi[i].size(), d.features.size(),
                    "SHAP values of patient " + std::to_string(i) + " and feature names");
    if (!d.values.empty())
      check_same_size(d.values[i].size(), d.features.size(),
                      "feature values of patient " + std::to_string(i) + " and feature names");
  }
  if (!d.values.empty()) check_same_size(d.values.size(), d.phi.size(), "SHAP rows and feature-value rows");
}
// The rows shap draws: the top max_display−1 features, and "Sum of N other features" when more.
struct ShapRows {
  std::vector<std::string> names;
  std::vector<std::vector<int>> members;  // feature indices summed in each row
};
ShapRows shap_rows(const ShapData& d) {
  auto order = shap_feature_order(d);
  ShapRows r;
  const std::size_t md = static_cast<std::size_t>(std::max(1, d.max_display));
  const std::size_t shown = order.size() > md ? md - 1 : order.size();
  for (std::size_t i = 0; i < shown; ++i) {
    r.names.push_back(d.features[order[i]]);
    r.members.push_back({order[i]});
  }
  if (shown < order.size()) {
    r.names.push_back("Sum of " + std::to_string(order.size() - shown) + " other features");
    r.members.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(shown), order.end());
  }
  return r;
}
// Blue (low) to vermillion (high) through purple: Okabe–Ito end points, readable by
// deuteranopes where shap's red-blue is not always.
Rgb value_colour(double t) {
  const Rgb a = series_palette()[0], m{0.55, 0.35, 0.65}, b = series_palette()[1];
  t = std::clamp(t, 0.0, 1.0);
  const Rgb& p = t < 0.5 ? a : m;
  const Rgb& q = t < 0.5 ? m : b;
  double u = t < 0.5 ? t * 2 : (t - 0.5) * 2;
  return {p.r + u * (q.r - p.r), p.g + u * (q.g - p.g), p.b + u * (q.b - p.b)};
}
}  // namespace

std::vector<int> shap_feature_order(const ShapData& d) {
  check_shap(d);
  std::vector<double> mean(d.features.size(), 0);
  for (const auto& row : d.phi)
    for (std::size_t j = 0; j < row.size(); ++j) mean[j] += std::abs(row[j]);
  std::vector<int> order(d.features.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return mean[a] > mean[b]; });
  return order;
}

// ---- Beeswarm -------------------------------------------------------------------------------

namespace {
constexpr double kBeeswarmRow = 34;  // pixels per row

// What each row shows per patient: φ summed over the row's features, and the value that
// colours the dot (single features only, NaN otherwise); lo and hi bound every φ and 0.
struct RowValues {
  std::vector<std::vector<double>> phi, value;  // rows × patients
  double lo = 0, hi = 0;
};
RowValues row_values(const ShapData& d, const ShapRows& rows) {
  const std::size_t n = d.phi.size();
  RowValues rv;
  rv.phi.assign(rows.names.size(), std::vector<double>(n));
  rv.value.assign(rows.names.size(), std::vector<double>(n, kNaN));
  for (std::size_t r = 0; r < rows.names.size(); ++r)
    for (std::size_t i = 0; i < n; ++i) {
      double s = 0;
      for (int j : rows.members[r]) s += d.phi[i][j];
      rv.phi[r][i] = s;
      rv.lo = std::min(rv.lo, s);
      rv.hi = std::max(rv.hi, s);
      if (rows.members[r].size() == 1 && !d.values.empty()) rv.value[r][i] = d.values[i][rows.members[r][0]];
    }
  return rv;
}

// shap's beeswarm layout: φ quantised into 100 bins over [lo, hi]; the points sharing a bin
// alternate above and below the centre line, one layer further out each time. Returns each
// point's offset in layers.
std::vector<double> beeswarm_layers(const std::vector<double>& phi, double lo, double hi) {
  std::vector<std::size_t> idx(phi.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return phi[a] < phi[b]; });
  const double nbins = 100, range = (hi - lo) + 1e-12;
  std::vector<double> ys(phi.size(), 0);
  double last_bin = -1, layer = 0;
  for (std::size_t k : idx) {
    double b = std::round((phi[k] - lo) / range * nbins);
    if (b != last_bin) {
      layer = 0;
      last_bin = b;
    }
    ys[k] = std::ceil(layer / 2) * (static_cast<int>(layer) % 2 ? -1 : 1);
    layer += 1;
  }
  return ys;
}

// One row centred at y (pixels): a dot per patient at its φ, coloured by where its value lies
// between the row's 5th and 95th percentiles (shap's clipping of outliers); grey when missing.
void beeswarm_row(cairo_t* cr, const PlotFrame& f, double y, const std::vector<double>& phi,
                  const std::vector<double>& value, double lo, double hi) {
  const auto layers = beeswarm_layers(phi, lo, hi);
  double ymax = 1;
  for (double l : layers) ymax = std::max(ymax, std::abs(l));
  double v_lo = detail::finite_quantile(value, 0.05), v_hi = detail::finite_quantile(value, 0.95);
  if (std::isfinite(v_lo) && !(v_hi > v_lo)) {
    v_lo = detail::finite_quantile(value, 0.0);
    v_hi = detail::finite_quantile(value, 1.0);
  }
  const double spread = std::min(kBeeswarmRow * 0.4, 3.0 * ymax) / ymax;
  for (std::size_t k = 0; k < phi.size(); ++k) {
    double v = value[k];
    Rgb c =
        !std::isfinite(v) ? Rgb{0.6, 0.6, 0.6} : value_colour(v_hi > v_lo ? (v - v_lo) / (v_hi - v_lo) : 0.5);
    detail::set_colour(cr, c, 0.85);
    cairo_arc(cr, f.px(phi[k]), y - layers[k] * spread, 3.2, 0, 2 * M_PI);
    cairo_fill(cr);
  }
}

// The "Feature value" colour bar, low to high, right of the frame.
void value_colour_bar(cairo_t* cr, const PlotFrame& f) {
  double cx = f.left + f.width + 30, cy0 = f.top + 10, ch = std::max(60.0, f.height - 20);
  detail::gradient_strip(cr, cx, cy0, 12, ch, 100, value_colour);
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  detail::set_font(cr, 12);
  detail::text(cr, cx + 6, cy0 - 2, "High", 0.5, 1);
  detail::text(cr, cx + 6, cy0 + ch + 2, "Low", 0.5, 0);
  detail::vertical_text(cr, cx + 32, cy0 + ch / 2, "Feature value");
}
}  // namespace

Figure shap_beeswarm_figure(const ShapData& d, FigureSize size) {
  const ShapRows rows = shap_rows(d);
  const std::size_t nr = rows.names.size();
  const int height = detail::rows_height(size, nr, kBeeswarmRow, d.title);
  const RowValues rv = row_values(d, rows);
  const double lo = rv.lo, hi = rv.hi, pad = (hi - lo) * 0.05 + 1e-12;
  return detail::render(size.width, height, [&](cairo_t* cr) {
    double lw = detail::label_width(cr, rows.names);
    PlotFrame f = detail::frame(lw + 24, detail::top_margin(d.title), 90, 64, size.width, height, lo - pad,
                                hi + pad, -0.5, nr - 0.5);
    detail::title(cr, size.width, d.title);
    auto xt = detail::ticks_within(detail::nice_ticks(lo - pad, hi + pad, 6), f.xmin, f.xmax);
    draw_axes(cr, f, AxesStyle{d.x_label, "", xt, {}, false});
    cairo_save(cr);
    cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
    cairo_set_line_width(cr, 1);
    detail::vertical_rule(cr, f, 0);
    cairo_stroke(cr);
    for (std::size_t r = 0; r < nr; ++r) {
      double yc = detail::row_centre(f, nr, r);
      detail::row_label(cr, f, yc, rows.names[r]);
      cairo_set_source_rgb(cr, 0.93, 0.93, 0.93);
      detail::horizontal_rule(cr, f, static_cast<double>(nr - 1 - r));
      cairo_stroke(cr);
      beeswarm_row(cr, f, yc, rv.phi[r], rv.value[r], lo, hi);
    }
    value_colour_bar(cr, f);
    cairo_restore(cr);
    return std::vector<PlotFrame>{f};
  });
}

Figure shap_bar_figure(const ShapData& d, FigureSize size) {
  ShapRows rows = shap_rows(d);
  BarPlot bp;
  bp.title = d.title;
  bp.x_label = "mean(|SHAP value|)";
  for (std::size_t r = 0; r < rows.names.size(); ++r) {
    double s = 0;
    for (const auto& p : d.phi)
      for (int j : rows.members[r]) s += std::abs(p[j]);  // shap sums the members' mean |φ|
    bp.items.push_back({rows.names[r], d.phi.empty() ? 0 : s / d.phi.size()});
  }
  return contribution_figure(bp, size);
}

// ---- Signed bars ----------------------------------------------------------------------------

namespace {
// One bar from 0 to the item's value centred at y (vermillion raises the risk, blue lowers it),
// its interval when given, and the value beside the bar's end (signed when any bar is negative).
void signed_bar(cairo_t* cr, const PlotFrame& f, const BarItem& it, double y, double bar_h, bool show_sign) {
  detail::set_colour(cr, it.value >= 0 ? series_palette()[1] : series_palette()[0]);
  double x0 = f.px(0), x1 = f.px(it.value);
  cairo_rectangle(cr, std::min(x0, x1), y - bar_h / 2, std::abs(x1 - x0), bar_h);
  cairo_fill(cr);
  if (std::isfinite(it.lo) && std::isfinite(it.hi)) {
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    cairo_set_line_width(cr, 1.5);
    cairo_move_to(cr, f.px(it.lo), y);
    cairo_line_to(cr, f.px(it.hi), y);
    cairo_move_to(cr, f.px(it.lo), y - 5);
    cairo_line_to(cr, f.px(it.lo), y + 5);
    cairo_move_to(cr, f.px(it.hi), y - 5);
    cairo_line_to(cr, f.px(it.hi), y + 5);
    cairo_stroke(cr);
  }
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  detail::set_font(cr, 12);
  std::string v = show_sign ? fmt::format("{:+.3f}", it.value) : fmt::format("{:.3f}", it.value);
  if (it.value >= 0)
    detail::text(cr, std::max(x0, x1) + 4, y, v, 0, 0.5);
  else
    detail::text(cr, std::min(x0, x1) - 4, y, v, 1, 0.5);
}
}  // namespace

Figure contribution_figure(const BarPlot& plot, FigureSize size) {
  const double row_h = 40;
  const std::size_t n = plot.items.size();
  const int height = detail::rows_height(size, n, row_h, plot.title);
  double lo = 0, hi = 0;
  for (const auto& it : plot.items) {
    lo = std::min({lo, it.value, std::isfinite(it.lo) ? it.lo : 0.0});
    hi = std::max({hi, it.value, std::isfinite(it.hi) ? it.hi : 0.0});
  }
  if (!(hi > lo)) hi = lo + 1;
  const double pad = (hi - lo) * 0.12, neg_pad = (hi - lo) * 0.25;  // room for the value labels
  return detail::render(size.width, height, [&](cairo_t* cr) {
    std::vector<std::string> names;
    for (const auto& it : plot.items) names.push_back(it.label);
    double lw = detail::label_width(cr, names);
    PlotFrame f = detail::frame(lw + 24, detail::top_margin(plot.title), 30, 64, size.width, height,
                                lo < 0 ? lo - neg_pad : 0, hi + pad, -0.5, n - 0.5);
    detail::title(cr, size.width, plot.title);
    auto xt = detail::ticks_within(detail::nice_ticks(f.xmin, f.xmax, 5), f.xmin, f.xmax, 1e-12);
    draw_axes(cr, f, AxesStyle{plot.x_label, "", xt, {}, true});
    cairo_save(cr);
    const double bh = std::min(row_h * 0.6, f.height / std::max<std::size_t>(1, n) * 0.6);
    for (std::size_t i = 0; i < n; ++i) {
      double yc = detail::row_centre(f, n, i);
      detail::row_label(cr, f, yc, plot.items[i].label);
      signed_bar(cr, f, plot.items[i], yc, bh, lo < 0);
    }
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    detail::vertical_rule(cr, f, 0);
    cairo_stroke(cr);
    cairo_restore(cr);
    return std::vector<PlotFrame>{f};
  });
}

}  // namespace cervirisk::report
