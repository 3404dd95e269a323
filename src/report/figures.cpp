// The figure functions (see figures.h). Each draws into both the PNG and the SVG surface.
#include "report/figures.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "report/canvas.h"

namespace cervirisk::report {

using detail::AxesStyle;
using detail::LegendEntry;

namespace {

const Rgb kGrey{0.55, 0.55, 0.55};
const Rgb kDark{0.15, 0.15, 0.15};

Rgb colour_of(std::size_t i) { return series_palette()[i % series_palette().size()]; }

std::string ci_text(double est, double lo, double hi) {
  if (!std::isfinite(est)) return "";
  if (std::isfinite(lo) && std::isfinite(hi)) return fmt::format("{:.3f} [{:.3f}\u2013{:.3f}]", est, lo, hi);
  return fmt::format("{:.3f}", est);
}

PlotFrame frame(double left, double top, double right_margin, double bottom_margin, double w, double h,
                double xmin, double xmax, double ymin, double ymax) {
  PlotFrame f;
  f.left = left;
  f.top = top;
  f.width = w - left - right_margin;
  f.height = h - top - bottom_margin;
  f.xmin = xmin;
  f.xmax = xmax;
  f.ymin = ymin;
  f.ymax = ymax;
  return f;
}

// Text lines in a white box at the top-right or bottom-right corner of the frame.
void annotate(cairo_t* cr, const PlotFrame& f, const std::vector<std::string>& lines, bool top_right) {
  if (lines.empty()) return;
  cairo_save(cr);
  detail::set_font(cr, 13);
  double w = 0;
  for (const auto& l : lines) w = std::max(w, detail::text_width(cr, l));
  double x = f.left + f.width - w - 20;
  double y = top_right ? f.top + 10 : f.top + f.height - 10 - 18.0 * lines.size();
  cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
  cairo_rectangle(cr, x - 6, y - 4, w + 12, 18.0 * lines.size() + 6);
  cairo_fill(cr);
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  for (std::size_t i = 0; i < lines.size(); ++i) detail::text(cr, x, y + 18.0 * i, lines[i]);
  cairo_restore(cr);
}

void check_same_size(std::size_t a, std::size_t b, const std::string& what) {
  if (a != b)
    throw ConfigError("figure: " + what + " have different lengths (" + std::to_string(a) + " vs " +
                      std::to_string(b) + ")");
}

}  // namespace

// ---- ROC ------------------------------------------------------------------------------------

RocSeries roc_points(const std::vector<double>& score, const std::vector<int>& label, std::string name) {
  check_same_size(score.size(), label.size(), "ROC scores and labels");
  std::vector<std::size_t> idx(score.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return score[a] > score[b]; });
  double pos = 0, neg = 0;
  for (int l : label) (l ? pos : neg) += 1;
  if (pos == 0 || neg == 0)
    throw StatsError("ROC points: need cases and controls, got " + std::to_string(int(pos)) + " and " +
                     std::to_string(int(neg)));
  RocSeries r;
  r.label = std::move(name);
  r.fpr.push_back(0);
  r.tpr.push_back(0);
  double tp = 0, fp = 0;
  for (std::size_t i = 0; i < idx.size();) {
    std::size_t j = i;
    while (j < idx.size() && score[idx[j]] == score[idx[i]]) {
      (label[idx[j]] ? tp : fp) += 1;
      ++j;
    }
    r.fpr.push_back(fp / neg);
    r.tpr.push_back(tp / pos);
    i = j;
  }
  return r;
}

Figure roc_figure(const RocPlot& plot, FigureSize size) {
  return detail::render(size.width, size.height, [&](cairo_t* cr) {
    // a little room around [0, 1] so curves along the edges stay visible
    PlotFrame f = frame(80, plot.title.empty() ? 20 : 48, 24, 64, size.width, size.height, -0.015, 1.015,
                        -0.015, 1.015);
    detail::title(cr, size.width, plot.title);
    auto ticks = detail::nice_ticks(0, 1, 5);
    draw_axes(cr, f, AxesStyle{"1 \u2212 specificity", "Sensitivity", ticks, ticks, true});
    cairo_save(cr);
    detail::clip_to(cr, f);
    detail::set_colour(cr, kGrey);
    double dash[] = {5, 4};
    cairo_set_dash(cr, dash, 2, 0);
    cairo_set_line_width(cr, 1.2);
    cairo_move_to(cr, f.px(0), f.py(0));
    cairo_line_to(cr, f.px(1), f.py(1));
    cairo_stroke(cr);
    cairo_set_dash(cr, nullptr, 0, 0);
    std::vector<LegendEntry> leg;
    for (std::size_t i = 0; i < plot.series.size(); ++i) {
      const auto& s = plot.series[i];
      check_same_size(s.fpr.size(), s.tpr.size(), "ROC fpr and tpr of '" + s.label + "'");
      detail::set_colour(cr, colour_of(i));
      cairo_set_line_width(cr, 2.5);
      cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
      detail::polyline(cr, f, s.fpr, s.tpr);
      cairo_stroke(cr);
      std::string l = s.label;
      if (std::isfinite(s.auc)) l += "  AUC " + ci_text(s.auc, s.auc_lo, s.auc_hi);
      leg.push_back({l, colour_of(i)});
    }
    cairo_restore(cr);
    detail::legend(cr, f, leg, 2);
    return std::vector<PlotFrame>{f};
  });
}

// ---- Kaplan–Meier ---------------------------------------------------------------------------

int number_at_risk(const KmGroup& g, double t) {
  return static_cast<int>(
      std::count_if(g.follow_up.begin(), g.follow_up.end(), [t](double x) { return x >= t; }));
}

namespace {
double step_value(const std::vector<double>& time, const std::vector<double>& v, double t) {
  double out = v.empty() ? kNaN : v.front();
  for (std::size_t i = 0; i < time.size() && time[i] <= t; ++i) out = v[i];
  return out;
}
// (x, y) vertices of a right-continuous step function up to tmax.
void step_path(const std::vector<double>& time, const std::vector<double>& v, double tmax,
               std::vector<double>& xs, std::vector<double>& ys) {
  xs.clear();
  ys.clear();
  for (std::size_t i = 0; i < time.size(); ++i) {
    if (i > 0) {
      xs.push_back(time[i]);
      ys.push_back(v[i - 1]);
    }
    xs.push_back(time[i]);
    ys.push_back(v[i]);
  }
  if (!time.empty()) {
    xs.push_back(std::max(tmax, time.back()));
    ys.push_back(v.back());
  }
}
}  // namespace

Figure km_figure(const KmPlot& plot, FigureSize size) {
  double tmax = 0;
  for (const auto& g : plot.groups) {
    check_same_size(g.time.size(), g.surv.size(), "KM time and survival of '" + g.label + "'");
    if (!g.lower.empty())
      check_same_size(g.time.size(), g.lower.size(), "KM time and lower band of '" + g.label + "'");
    if (!g.upper.empty())
      check_same_size(g.time.size(), g.upper.size(), "KM time and upper band of '" + g.label + "'");
    for (double t : g.time) tmax = std::max(tmax, t);
    for (double t : g.follow_up) tmax = std::max(tmax, t);
    for (double t : g.censor_times) tmax = std::max(tmax, t);
  }
  if (tmax <= 0) tmax = 1;
  auto xt = detail::nice_ticks(0, tmax, 6);
  double xmax = std::max(tmax, xt.back());
  const double table_h = 34 + 22.0 * plot.groups.size();
  return detail::render(size.width, size.height, [&](cairo_t* cr) {
    PlotFrame f =
        frame(150, plot.title.empty() ? 20 : 48, 30, 64 + table_h, size.width, size.height, 0, xmax, 0, 1.04);
    detail::title(cr, size.width, plot.title);
    draw_axes(cr, f, AxesStyle{plot.x_label, plot.y_label, xt, detail::nice_ticks(0, 1, 5), true});
    cairo_save(cr);
    detail::clip_to(cr, f);
    std::vector<double> xs, ys, xl, yl, xu, yu;
    std::vector<LegendEntry> leg;
    for (std::size_t gi = 0; gi < plot.groups.size(); ++gi) {
      const auto& g = plot.groups[gi];
      Rgb c = colour_of(gi);
      // The curve and its band stop at the group's own last follow-up time (not the axis end).
      double last_t = g.follow_up.empty() ? xmax : *std::max_element(g.follow_up.begin(), g.follow_up.end());
      if (!g.lower.empty() && !g.upper.empty()) {
        step_path(g.time, g.lower, last_t, xl, yl);
        step_path(g.time, g.upper, last_t, xu, yu);
        detail::polyline(cr, f, xu, yu);
        for (std::size_t i = xl.size(); i-- > 0;) cairo_line_to(cr, f.px(xl[i]), f.py(yl[i]));
        cairo_close_path(cr);
        detail::set_colour(cr, c, 0.18);
        cairo_fill(cr);
      }
      step_path(g.time, g.surv, last_t, xs, ys);
      detail::set_colour(cr, c);
      cairo_set_line_width(cr, 2.5);
      detail::polyline(cr, f, xs, ys);
      cairo_stroke(cr);
      cairo_set_line_width(cr, 1.6);
      for (double t : g.censor_times) {
        double x = f.px(t), y = f.py(step_value(g.time, g.surv, t));
        cairo_move_to(cr, x, y - 5);
        cairo_line_to(cr, x, y + 5);
        cairo_move_to(cr, x - 4, y);
        cairo_line_to(cr, x + 4, y);
      }
      cairo_stroke(cr);
      leg.push_back({g.label, c});
    }
    cairo_restore(cr);
    detail::legend(cr, f, leg, 3);
    annotate(cr, f, plot.annotation, false);
    // numbers at risk under the axis
    const auto& rt = plot.risk_times.empty() ? xt : plot.risk_times;
    double y0 = f.top + f.height + 62;
    cairo_save(cr);
    detail::set_font(cr, 13, true);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    detail::text(cr, 12, y0, "Number at risk");
    for (std::size_t gi = 0; gi < plot.groups.size(); ++gi) {
      double y = y0 + 22 * (gi + 1);
      detail::set_font(cr, 13, true);
      detail::set_colour(cr, colour_of(gi));
      std::string lab = plot.groups[gi].label;
      while (lab.size() > 3 && detail::text_width(cr, lab) > f.left - 24) lab.resize(lab.size() - 1);
      detail::text(cr, 12, y, lab);
      detail::set_font(cr, 13);
      for (double t : rt)
        if (t >= f.xmin && t <= f.xmax)
          detail::text(cr, f.px(t), y, std::to_string(number_at_risk(plot.groups[gi], t)), 0.5, 0);
    }
    cairo_restore(cr);
    return std::vector<PlotFrame>{f};
  });
}

// ---- Calibration ----------------------------------------------------------------------------

Figure calibration_figure(const CalibrationPlot& plot, FigureSize size) {
  return detail::render(size.width, size.height, [&](cairo_t* cr) {
    const double top = plot.title.empty() ? 20 : 48;
    const double hist_h = (size.height - top - 70) * 0.22;
    PlotFrame f = frame(80, top, 24, 70 + hist_h + 10, size.width, size.height, -0.02, 1.02, -0.02, 1.02);
    detail::title(cr, size.width, plot.title);
    auto ticks = detail::nice_ticks(0, 1, 5);
    draw_axes(cr, f, AxesStyle{"", "Observed proportion", {}, ticks, true});
    // x ticks only under the histogram; grid lines on the main panel by hand
    cairo_save(cr);
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    cairo_set_line_width(cr, 1);
    for (double t : ticks) {
      cairo_move_to(cr, std::round(f.px(t)) + 0.5, f.top);
      cairo_line_to(cr, std::round(f.px(t)) + 0.5, f.top + f.height);
    }
    cairo_stroke(cr);
    detail::clip_to(cr, f);
    detail::set_colour(cr, kGrey);
    double dash[] = {5, 4};
    cairo_set_dash(cr, dash, 2, 0);
    cairo_move_to(cr, f.px(0), f.py(0));
    cairo_line_to(cr, f.px(1), f.py(1));
    cairo_stroke(cr);
    cairo_set_dash(cr, nullptr, 0, 0);
    std::vector<LegendEntry> leg{{"Perfect calibration", kGrey, true}};
    for (std::size_t i = 0; i < plot.series.size(); ++i) {
      const auto& s = plot.series[i];
      check_same_size(s.predicted.size(), s.observed.size(),
                      "calibration predicted and observed of '" + s.label + "'");
      Rgb c = colour_of(i);
      detail::set_colour(cr, c);
      cairo_set_line_width(cr, 1.5);
      if (s.observed_lo.size() == s.observed.size() && s.observed_hi.size() == s.observed.size()) {
        for (std::size_t k = 0; k < s.observed.size(); ++k) {
          cairo_move_to(cr, f.px(s.predicted[k]), f.py(s.observed_lo[k]));
          cairo_line_to(cr, f.px(s.predicted[k]), f.py(s.observed_hi[k]));
        }
        cairo_stroke(cr);
      }
      cairo_set_line_width(cr, 2.5);
      detail::polyline(cr, f, s.predicted, s.observed);
      cairo_stroke(cr);
      for (std::size_t k = 0; k < s.observed.size(); ++k) {
        cairo_arc(cr, f.px(s.predicted[k]), f.py(s.observed[k]), 4.5, 0, 2 * M_PI);
        cairo_fill(cr);
      }
      leg.push_back({s.label, c});
    }
    cairo_restore(cr);
    detail::legend(cr, f, leg, 0);
    annotate(cr, f, plot.annotation, false);
    // histogram of predictions
    PlotFrame h = f;
    h.top = f.top + f.height + 10;
    h.height = hist_h;
    const int nb = std::max(1, plot.histogram_bins);
    std::vector<std::vector<double>> counts(plot.series.size(), std::vector<double>(nb, 0));
    double cmax = 1;
    for (std::size_t i = 0; i < plot.series.size(); ++i)
      for (double p : plot.series[i].predictions) {
        if (!std::isfinite(p)) continue;
        int b = std::clamp(static_cast<int>(p * nb), 0, nb - 1);
        cmax = std::max(cmax, ++counts[i][b]);
      }
    h.ymin = 0;
    h.ymax = cmax * 1.05;
    draw_axes(cr, h, AxesStyle{"Predicted probability", "", ticks, {}, false});
    cairo_save(cr);
    detail::set_font(cr, 12);
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    detail::vertical_text(cr, h.left - 20, h.top + h.height / 2, "Count");
    const double ns = std::max<std::size_t>(1, plot.series.size());
    for (std::size_t i = 0; i < plot.series.size(); ++i) {
      detail::set_colour(cr, colour_of(i), 0.75);
      for (int b = 0; b < nb; ++b) {
        if (counts[i][b] == 0) continue;
        double bw = h.width / nb / ns;
        double x = h.px(static_cast<double>(b) / nb) + bw * i;
        cairo_rectangle(cr, x + 0.5, h.py(counts[i][b]), bw - 1, h.py(0) - h.py(counts[i][b]));
      }
      cairo_fill(cr);
    }
    cairo_restore(cr);
    return std::vector<PlotFrame>{f, h};
  });
}

// ---- Decision curve -------------------------------------------------------------------------

Figure decision_curve_figure(const DecisionPlot& plot, FigureSize size) {
  double tmin = 1, tmax = 0, nbmax = 0.05;
  auto scan = [&](const NetBenefitCurve& c) {
    check_same_size(c.threshold.size(), c.net_benefit.size(),
                    "decision curve thresholds and net benefit of '" + c.label + "'");
    for (double t : c.threshold) {
      tmin = std::min(tmin, t);
      tmax = std::max(tmax, t);
    }
    for (double v : c.net_benefit)
      if (std::isfinite(v)) nbmax = std::max(nbmax, v);
  };
  for (const auto& m : plot.models) scan(m);
  scan(plot.treat_all);
  if (!(tmax > tmin)) {
    tmin = 0;
    tmax = 1;
  }
  auto yt = detail::nice_ticks(-0.05, nbmax * 1.1, 5);
  return detail::render(size.width, size.height, [&](cairo_t* cr) {
    PlotFrame f = frame(90, plot.title.empty() ? 20 : 48, 24, 64, size.width, size.height, tmin, tmax, -0.05,
                        std::max(yt.back(), nbmax * 1.1));
    detail::title(cr, size.width, plot.title);
    AxesStyle st{"Threshold probability", "Net benefit", detail::nice_ticks(tmin, tmax, 6), {}, true};
    for (double t : yt)
      if (t >= f.ymin && t <= f.ymax) st.y_ticks.push_back(t);
    std::vector<double> xt;
    for (double t : st.x_ticks)
      if (t >= tmin - 1e-12 && t <= tmax + 1e-12) xt.push_back(t);
    st.x_ticks = xt;
    draw_axes(cr, f, st);
    cairo_save(cr);
    detail::clip_to(cr, f);
    cairo_set_line_width(cr, 2);
    detail::set_colour(cr, kDark);
    cairo_move_to(cr, f.px(tmin), f.py(0));
    cairo_line_to(cr, f.px(tmax), f.py(0));
    cairo_stroke(cr);
    detail::set_colour(cr, kGrey);
    double dash[] = {6, 4};
    cairo_set_dash(cr, dash, 2, 0);
    detail::polyline(cr, f, plot.treat_all.threshold, plot.treat_all.net_benefit);
    cairo_stroke(cr);
    cairo_set_dash(cr, nullptr, 0, 0);
    std::vector<LegendEntry> leg;
    for (std::size_t i = 0; i < plot.models.size(); ++i) {
      detail::set_colour(cr, colour_of(i));
      cairo_set_line_width(cr, 2.5);
      detail::polyline(cr, f, plot.models[i].threshold, plot.models[i].net_benefit);
      cairo_stroke(cr);
      leg.push_back({plot.models[i].label, colour_of(i)});
    }
    cairo_restore(cr);
    leg.push_back({plot.treat_all.label.empty() ? "Treat all" : plot.treat_all.label, kGrey, true});
    leg.push_back({"Treat none", kDark});
    detail::legend(cr, f, leg, 1);
    return std::vector<PlotFrame>{f};
  });
}

// ---- SHAP -----------------------------------------------------------------------------------

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
double quantile(std::vector<double> v, double q) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }), v.end());
  if (v.empty()) return kNaN;
  std::sort(v.begin(), v.end());
  double h = (v.size() - 1) * q;
  std::size_t i = static_cast<std::size_t>(std::floor(h));
  return i + 1 < v.size() ? v[i] + (h - i) * (v[i + 1] - v[i]) : v[i];
}
double label_width(cairo_t* cr, const std::vector<std::string>& names) {
  detail::set_font(cr, 13);
  double w = 0;
  for (const auto& n : names) w = std::max(w, detail::text_width(cr, n));
  return w;
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

Figure shap_beeswarm_figure(const ShapData& d, FigureSize size) {
  ShapRows rows = shap_rows(d);
  const double row_h = 34;
  int height = size.height > 0
                   ? size.height
                   : static_cast<int>(rows.names.size() * row_h + (d.title.empty() ? 20 : 48) + 70);
  // the φ of each row (summed over its members) and the colour value (single features only)
  const std::size_t n = d.phi.size();
  std::vector<std::vector<double>> phi(rows.names.size(), std::vector<double>(n)),
      val(rows.names.size(), std::vector<double>(n, kNaN));
  double lo = 0, hi = 0;
  for (std::size_t r = 0; r < rows.names.size(); ++r)
    for (std::size_t i = 0; i < n; ++i) {
      double s = 0;
      for (int j : rows.members[r]) s += d.phi[i][j];
      phi[r][i] = s;
      lo = std::min(lo, s);
      hi = std::max(hi, s);
      if (rows.members[r].size() == 1 && !d.values.empty()) val[r][i] = d.values[i][rows.members[r][0]];
    }
  double pad = (hi - lo) * 0.05 + 1e-12;
  return detail::render(size.width, height, [&](cairo_t* cr) {
    double lw = label_width(cr, rows.names);
    PlotFrame f = frame(lw + 24, d.title.empty() ? 20 : 48, 90, 64, size.width, height, lo - pad, hi + pad,
                        -0.5, rows.names.size() - 0.5);
    detail::title(cr, size.width, d.title);
    AxesStyle st{d.x_label, "", detail::nice_ticks(lo - pad, hi + pad, 6), {}, false};
    std::vector<double> xt;
    for (double t : st.x_ticks)
      if (t >= f.xmin && t <= f.xmax) xt.push_back(t);
    st.x_ticks = xt;
    draw_axes(cr, f, st);
    cairo_save(cr);
    cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
    cairo_set_line_width(cr, 1);
    cairo_move_to(cr, std::round(f.px(0)) + 0.5, f.top);
    cairo_line_to(cr, std::round(f.px(0)) + 0.5, f.top + f.height);
    cairo_stroke(cr);
    for (std::size_t r = 0; r < rows.names.size(); ++r) {
      // row 0 (most important) at the top
      double yc = f.py(static_cast<double>(rows.names.size() - 1 - r));
      cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
      detail::set_font(cr, 13);
      detail::text(cr, f.left - 10, yc, rows.names[r], 1, 0.5);
      cairo_set_source_rgb(cr, 0.93, 0.93, 0.93);
      cairo_move_to(cr, f.left, std::round(yc) + 0.5);
      cairo_line_to(cr, f.left + f.width, std::round(yc) + 0.5);
      cairo_stroke(cr);
      // shap's beeswarm layout: quantise φ into 100 bins; points sharing a bin alternate
      // above and below the row's centre line.
      std::vector<std::size_t> idx(n);
      std::iota(idx.begin(), idx.end(), 0);
      std::stable_sort(idx.begin(), idx.end(),
                       [&](std::size_t a, std::size_t b) { return phi[r][a] < phi[r][b]; });
      const double nbins = 100, range = (hi - lo) + 1e-12;
      std::vector<double> ys(n, 0);
      double last_bin = -1, layer = 0, ymax = 1;
      for (std::size_t k : idx) {
        double b = std::round((phi[r][k] - lo) / range * nbins);
        if (b != last_bin) {
          layer = 0;
          last_bin = b;
        }
        ys[k] = std::ceil(layer / 2) * (static_cast<int>(layer) % 2 ? -1 : 1);
        ymax = std::max(ymax, std::abs(ys[k]));
        layer += 1;
      }
      double v_lo = quantile(val[r], 0.05), v_hi = quantile(val[r], 0.95);
      if (std::isfinite(v_lo) && !(v_hi > v_lo)) {
        v_lo = quantile(val[r], 0.0);
        v_hi = quantile(val[r], 1.0);
      }
      const double spread = std::min(row_h * 0.4, 3.0 * ymax) / ymax;
      for (std::size_t k = 0; k < n; ++k) {
        double v = val[r][k];
        Rgb c = !std::isfinite(v) ? Rgb{0.6, 0.6, 0.6}
                                  : value_colour(v_hi > v_lo ? (v - v_lo) / (v_hi - v_lo) : 0.5);
        detail::set_colour(cr, c, 0.85);
        cairo_arc(cr, f.px(phi[r][k]), yc - ys[k] * spread, 3.2, 0, 2 * M_PI);
        cairo_fill(cr);
      }
    }
    // colour bar "Feature value" low → high
    double cx = f.left + f.width + 30, cy0 = f.top + 10, ch = std::max(60.0, f.height - 20);
    for (int i = 0; i < 100; ++i) {
      detail::set_colour(cr, value_colour(1 - i / 99.0));
      cairo_rectangle(cr, cx, cy0 + ch * i / 100.0, 12, ch / 100.0 + 0.6);
      cairo_fill(cr);
    }
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    detail::set_font(cr, 12);
    detail::text(cr, cx + 6, cy0 - 2, "High", 0.5, 1);
    detail::text(cr, cx + 6, cy0 + ch + 2, "Low", 0.5, 0);
    detail::vertical_text(cr, cx + 32, cy0 + ch / 2, "Feature value");
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

// ---- Bars -----------------------------------------------------------------------------------

Figure contribution_figure(const BarPlot& plot, FigureSize size) {
  const double row_h = 40;
  int height = size.height > 0
                   ? size.height
                   : static_cast<int>(plot.items.size() * row_h + (plot.title.empty() ? 20 : 48) + 70);
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
    double lw = label_width(cr, names);
    PlotFrame f = frame(lw + 24, plot.title.empty() ? 20 : 48, 30, 64, size.width, height,
                        lo < 0 ? lo - neg_pad : 0, hi + pad, -0.5, plot.items.size() - 0.5);
    detail::title(cr, size.width, plot.title);
    AxesStyle st{plot.x_label, "", {}, {}, true};
    for (double t : detail::nice_ticks(f.xmin, f.xmax, 5))
      if (t >= f.xmin - 1e-12 && t <= f.xmax + 1e-12) st.x_ticks.push_back(t);
    draw_axes(cr, f, st);
    cairo_save(cr);
    const double bh = std::min(row_h * 0.6, f.height / std::max<std::size_t>(1, plot.items.size()) * 0.6);
    for (std::size_t i = 0; i < plot.items.size(); ++i) {
      const auto& it = plot.items[i];
      double yc = f.py(static_cast<double>(plot.items.size() - 1 - i));
      cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
      detail::set_font(cr, 13);
      detail::text(cr, f.left - 10, yc, it.label, 1, 0.5);
      detail::set_colour(cr, it.value >= 0 ? series_palette()[1] : series_palette()[0]);
      double x0 = f.px(0), x1 = f.px(it.value);
      cairo_rectangle(cr, std::min(x0, x1), yc - bh / 2, std::abs(x1 - x0), bh);
      cairo_fill(cr);
      if (std::isfinite(it.lo) && std::isfinite(it.hi)) {
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        cairo_set_line_width(cr, 1.5);
        cairo_move_to(cr, f.px(it.lo), yc);
        cairo_line_to(cr, f.px(it.hi), yc);
        cairo_move_to(cr, f.px(it.lo), yc - 5);
        cairo_line_to(cr, f.px(it.lo), yc + 5);
        cairo_move_to(cr, f.px(it.hi), yc - 5);
        cairo_line_to(cr, f.px(it.hi), yc + 5);
        cairo_stroke(cr);
      }
      cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
      detail::set_font(cr, 12);
      std::string v = lo < 0 ? fmt::format("{:+.3f}", it.value) : fmt::format("{:.3f}", it.value);
      if (it.value >= 0)
        detail::text(cr, std::max(x0, x1) + 4, yc, v, 0, 0.5);
      else
        detail::text(cr, std::min(x0, x1) - 4, yc, v, 1, 0.5);
    }
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    cairo_move_to(cr, std::round(f.px(0)) + 0.5, f.top);
    cairo_line_to(cr, std::round(f.px(0)) + 0.5, f.top + f.height);
    cairo_stroke(cr);
    cairo_restore(cr);
    return std::vector<PlotFrame>{f};
  });
}

// ---- Training curves ------------------------------------------------------------------------

Figure training_curves_figure(const std::vector<TrainingHistory>& runs, const std::string& ttl,
                              FigureSize size) {
  double emax = 1, lmax = 0, lmin = 1e300, amin = 1, amax = 0;
  for (const auto& r : runs) {
    check_same_size(r.epoch.size(), r.train_loss.size(), "epochs and training losses of '" + r.label + "'");
    if (!r.val_loss.empty())
      check_same_size(r.epoch.size(), r.val_loss.size(), "epochs and validation losses of '" + r.label + "'");
    if (!r.val_auc.empty())
      check_same_size(r.epoch.size(), r.val_auc.size(), "epochs and validation AUCs of '" + r.label + "'");
    for (double e : r.epoch) emax = std::max(emax, e);
    for (const auto* v : {&r.train_loss, &r.val_loss})
      for (double x : *v)
        if (std::isfinite(x)) {
          lmax = std::max(lmax, x);
          lmin = std::min(lmin, x);
        }
    for (double x : r.val_auc)
      if (std::isfinite(x)) {
        amin = std::min(amin, x);
        amax = std::max(amax, x);
      }
  }
  if (lmin > lmax) {
    lmin = 0;
    lmax = 1;
  }
  if (amin > amax) {
    amin = 0.5;
    amax = 1;
  }
  auto lt = detail::covering_ticks(std::max(0.0, lmin - 0.05 * (lmax - lmin)), lmax * 1.02, 5);
  auto at = detail::covering_ticks(std::max(0.0, amin - 0.05), std::min(1.0, amax + 0.05), 5);
  auto et = detail::nice_ticks(0, emax, 6);
  return detail::render(size.width, size.height, [&](cairo_t* cr) {
    const double top = ttl.empty() ? 20 : 48, gap = 90;
    const double pw = (size.width - 80 - gap - 24) / 2.0;
    PlotFrame fl{80, top, pw, size.height - top - 64, 0, std::max(emax, et.back()), lt.front(), lt.back()};
    PlotFrame fa{80 + pw + gap, top,      pw, size.height - top - 64, 0, std::max(emax, et.back()),
                 at.front(),    at.back()};
    detail::title(cr, size.width, ttl);
    draw_axes(cr, fl, AxesStyle{"Epoch", "Loss", et, lt, true});
    draw_axes(cr, fa, AxesStyle{"Epoch", "Validation AUC", et, at, true});
    std::vector<LegendEntry> leg;
    for (std::size_t i = 0; i < runs.size(); ++i) {
      const auto& r = runs[i];
      Rgb c = colour_of(i);
      cairo_save(cr);
      detail::clip_to(cr, fl);
      detail::set_colour(cr, c);
      cairo_set_line_width(cr, 2.2);
      detail::polyline(cr, fl, r.epoch, r.train_loss);
      cairo_stroke(cr);
      if (!r.val_loss.empty()) {
        double dash[] = {6, 4};
        cairo_set_dash(cr, dash, 2, 0);
        detail::polyline(cr, fl, r.epoch, r.val_loss);
        cairo_stroke(cr);
      }
      cairo_restore(cr);
      cairo_save(cr);
      detail::clip_to(cr, fa);
      detail::set_colour(cr, c);
      cairo_set_line_width(cr, 2.2);
      detail::polyline(cr, fa, r.epoch, r.val_auc);
      cairo_stroke(cr);
      if (r.best_epoch >= 0) {
        double dot[] = {2, 3};
        cairo_set_dash(cr, dot, 2, 0);
        cairo_set_line_width(cr, 1.2);
        cairo_move_to(cr, fa.px(r.best_epoch), fa.top);
        cairo_line_to(cr, fa.px(r.best_epoch), fa.top + fa.height);
        cairo_stroke(cr);
      }
      cairo_restore(cr);
      leg.push_back({r.label, c});
    }
    leg.push_back({"loss: training (solid) / validation (dashed)", kGrey, true});
    detail::legend(cr, fa, leg, 2);
    return std::vector<PlotFrame>{fl, fa};
  });
}

// ---- MRI overlay ----------------------------------------------------------------------------

Figure mri_overlay_figure(const MriOverlay& o) {
  if (o.slice.width <= 0 || o.slice.height <= 0 ||
      o.slice.values.size() != static_cast<std::size_t>(o.slice.width) * o.slice.height)
    throw ConfigError("MRI overlay: the slice raster is empty or its size does not match its values");
  if (!o.heatmap.values.empty() && (o.heatmap.width != o.slice.width || o.heatmap.height != o.slice.height))
    throw ConfigError("MRI overlay: heatmap " + std::to_string(o.heatmap.width) + "x" +
                      std::to_string(o.heatmap.height) + " differs from the slice " +
                      std::to_string(o.slice.width) + "x" + std::to_string(o.slice.height));
  const int ppv = o.pixels_per_voxel > 0 ? o.pixels_per_voxel
                                         : std::max(1, 512 / std::max(o.slice.width, o.slice.height));
  const double scale = o.pixels_per_voxel > 0 ? ppv : 512.0 / std::max(o.slice.width, o.slice.height);
  const double iw = o.slice.width * scale, ih = o.slice.height * scale;
  const double top = o.title.empty() ? 16 : 44;
  const int W = static_cast<int>(iw + 16 + 110), H = static_cast<int>(ih + top + 16);
  std::vector<double> vals(o.slice.values.begin(), o.slice.values.end());
  double g_lo = quantile(vals, 0.01), g_hi = quantile(vals, 0.99);
  if (!(g_hi > g_lo)) g_hi = g_lo + 1;
  // ARGB32 buffers (premultiplied) built once and drawn scaled on both surfaces.
  auto make_surface = [&](bool heat) {
    cairo_surface_t* s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, o.slice.width, o.slice.height);
    cairo_surface_flush(s);
    unsigned char* data = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    for (int y = 0; y < o.slice.height; ++y)
      for (int x = 0; x < o.slice.width; ++x) {
        auto* px = reinterpret_cast<std::uint32_t*>(data + y * stride) + x;
        if (!heat) {
          double v = o.slice.at(x, y);
          int g = std::isfinite(v)
                      ? static_cast<int>(std::clamp((v - g_lo) / (g_hi - g_lo), 0.0, 1.0) * 255 + 0.5)
                      : 0;
          *px = 0xff000000u | (g << 16) | (g << 8) | g;
        } else {
          double v = o.heatmap.at(x, y);
          if (!std::isfinite(v)) {
            *px = 0;
            continue;
          }
          Rgb c = viridis(v);
          double a = o.heat_alpha;
          auto ch = [&](double c1) {
            return static_cast<std::uint32_t>(std::clamp(c1 * a, 0.0, 1.0) * 255 + 0.5);
          };
          *px =
              (static_cast<std::uint32_t>(a * 255 + 0.5) << 24) | (ch(c.r) << 16) | (ch(c.g) << 8) | ch(c.b);
        }
      }
    cairo_surface_mark_dirty(s);
    return s;
  };
  cairo_surface_t* grey = make_surface(false);
  cairo_surface_t* heat = o.heatmap.values.empty() ? nullptr : make_surface(true);
  Figure fig;
  try {
    fig = detail::render(W, H, [&](cairo_t* cr) {
      detail::title(cr, W, o.title);
      PlotFrame f{8, top, iw, ih, 0, static_cast<double>(o.slice.width), static_cast<double>(o.slice.height),
                  0};
      cairo_save(cr);
      cairo_translate(cr, f.left, f.top);
      cairo_scale(cr, scale, scale);
      cairo_rectangle(cr, 0, 0, o.slice.width, o.slice.height);
      cairo_clip(cr);
      cairo_set_source_surface(cr, grey, 0, 0);
      cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_GOOD);
      cairo_pattern_set_extend(cairo_get_source(cr), CAIRO_EXTEND_PAD);  // no fade at the borders
      cairo_paint(cr);
      if (heat) {
        cairo_set_source_surface(cr, heat, 0, 0);
        cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_GOOD);
        cairo_paint(cr);
      }
      cairo_restore(cr);
      cairo_save(cr);
      for (std::size_t i = 0; i < o.boxes.size(); ++i) {
        const auto& b = o.boxes[i];
        Rgb c = i == 0 ? series_palette()[3] : series_palette()[5];  // orange, sky blue: visible on grey
        detail::set_colour(cr, c);
        cairo_set_line_width(cr, 2);
        cairo_rectangle(cr, f.left + b.x0 * scale, f.top + b.y0 * scale, (b.x1 - b.x0) * scale,
                        (b.y1 - b.y0) * scale);
        cairo_stroke(cr);
        detail::set_font(cr, 12, true);
        const double tw = detail::text_width(cr, b.label);
        cairo_set_source_rgba(cr, 0, 0, 0, 0.65);
        cairo_rectangle(cr, f.left + b.x0 * scale, f.top + b.y0 * scale - 17, tw + 6, 17);
        cairo_fill(cr);
        detail::set_colour(cr, c);
        detail::text(cr, f.left + b.x0 * scale + 3, f.top + b.y0 * scale - 2, b.label, 0, 1);
      }
      // colour bar
      double cx = f.left + iw + 22, ch = ih * 0.8, cy0 = f.top + ih * 0.1;
      for (int i = 0; i < 128; ++i) {
        detail::set_colour(cr, viridis(1 - i / 127.0));
        cairo_rectangle(cr, cx, cy0 + ch * i / 128.0, 16, ch / 128.0 + 0.6);
        cairo_fill(cr);
      }
      cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
      cairo_set_line_width(cr, 1);
      cairo_rectangle(cr, cx + 0.5, cy0 + 0.5, 16, ch);
      cairo_stroke(cr);
      detail::set_font(cr, 12);
      for (double t : {0.0, 0.5, 1.0})
        detail::text(cr, cx + 22, cy0 + ch * (1 - t), fmt::format("{:.1f}", t), 0, 0.5);
      detail::vertical_text(cr, cx + 64, cy0 + ch / 2, o.colorbar_label);
      cairo_restore(cr);
      return std::vector<PlotFrame>{f};
    });
  } catch (...) {
    cairo_surface_destroy(grey);
    if (heat) cairo_surface_destroy(heat);
    throw;
  }
  cairo_surface_destroy(grey);
  if (heat) cairo_surface_destroy(heat);
  return fig;
}

}  // namespace cervirisk::report
