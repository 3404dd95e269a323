// How well a model performs: ROC (discrimination), calibration with a histogram of the
// predictions, and the decision curve (net benefit, Vickers & Elkin 2006,
// doi:10.1177/0272989X06295361).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "report/figure_parts.h"
#include "report/figures.h"

namespace cervirisk::report {

using detail::AxesStyle;
using detail::check_same_size;
using detail::colour_of;
using detail::kDark;
using detail::kGrey;
using detail::LegendEntry;

// ---- ROC ------------------------------------------------------------------------------------

namespace {
std::string ci_text(double est, double lo, double hi) {
  if (!std::isfinite(est)) return "";
  if (std::isfinite(lo) && std::isfinite(hi)) return fmt::format("{:.3f} [{:.3f}\u2013{:.3f}]", est, lo, hi);
  return fmt::format("{:.3f}", est);
}
}  // namespace

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
    PlotFrame f = detail::frame(80, detail::top_margin(plot.title), 24, 64, size.width, size.height, -0.015,
                                1.015, -0.015, 1.015);
    detail::title(cr, size.width, plot.title);
    auto ticks = detail::nice_ticks(0, 1, 5);
    draw_axes(cr, f, AxesStyle{"1 \u2212 specificity", "Sensitivity", ticks, ticks, true});
    cairo_save(cr);
    detail::clip_to(cr, f);
    detail::identity_line(cr, f, 1.2);
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

// ---- Calibration ----------------------------------------------------------------------------

namespace {
// Each series' binned curve (interval bars when given, the line, a dot per bin); returns the
// legend, the perfect-calibration line first.
std::vector<LegendEntry> calibration_curves(cairo_t* cr, const PlotFrame& f,
                                            const std::vector<CalibrationSeries>& series) {
  std::vector<LegendEntry> leg{{"Perfect calibration", kGrey, true}};
  for (std::size_t i = 0; i < series.size(); ++i) {
    const auto& s = series[i];
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
  return leg;
}

// Per series, how many of its finite predictions fall in each of nb equal bins of [0, 1].
std::vector<std::vector<double>> prediction_counts(const std::vector<CalibrationSeries>& series, int nb) {
  std::vector<std::vector<double>> counts(series.size(), std::vector<double>(nb, 0));
  for (std::size_t i = 0; i < series.size(); ++i)
    for (double p : series[i].predictions) {
      if (!std::isfinite(p)) continue;
      ++counts[i][std::clamp(static_cast<int>(p * nb), 0, nb - 1)];
    }
  return counts;
}

// The histogram of the predictions in a strip of height hist_h under the calibration panel f,
// the series' bars side by side in each bin; returns the strip's frame.
PlotFrame prediction_histogram(cairo_t* cr, const PlotFrame& f, double hist_h, const CalibrationPlot& plot,
                               const std::vector<double>& ticks) {
  PlotFrame h = f;
  h.top = f.top + f.height + 10;
  h.height = hist_h;
  const int nb = std::max(1, plot.histogram_bins);
  const auto counts = prediction_counts(plot.series, nb);
  double cmax = 1;
  for (const auto& per_bin : counts) cmax = std::max(cmax, *std::max_element(per_bin.begin(), per_bin.end()));
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
  return h;
}
}  // namespace

Figure calibration_figure(const CalibrationPlot& plot, FigureSize size) {
  return detail::render(size.width, size.height, [&](cairo_t* cr) {
    const double top = detail::top_margin(plot.title);
    const double hist_h = (size.height - top - 70) * 0.22;
    PlotFrame f =
        detail::frame(80, top, 24, 70 + hist_h + 10, size.width, size.height, -0.02, 1.02, -0.02, 1.02);
    detail::title(cr, size.width, plot.title);
    auto ticks = detail::nice_ticks(0, 1, 5);
    draw_axes(cr, f, AxesStyle{"", "Observed proportion", {}, ticks, true});
    // x ticks only under the histogram; grid lines on the main panel by hand
    cairo_save(cr);
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    cairo_set_line_width(cr, 1);
    for (double t : ticks) detail::vertical_rule(cr, f, t);
    cairo_stroke(cr);
    detail::clip_to(cr, f);
    detail::identity_line(cr, f, 1);
    auto leg = calibration_curves(cr, f, plot.series);
    cairo_restore(cr);
    detail::legend(cr, f, leg, 0);
    detail::annotate(cr, f, plot.annotation);
    PlotFrame h = prediction_histogram(cr, f, hist_h, plot, ticks);
    return std::vector<PlotFrame>{f, h};
  });
}

// ---- Decision curve -------------------------------------------------------------------------

namespace {
struct DecisionRange {
  double tmin = 1, tmax = 0;  // thresholds
  double nbmax = 0.05;        // the highest net benefit; the floor keeps a flat curve's axis open
};
DecisionRange decision_range(const DecisionPlot& plot) {
  DecisionRange r;
  auto scan = [&](const NetBenefitCurve& c) {
    check_same_size(c.threshold.size(), c.net_benefit.size(),
                    "decision curve thresholds and net benefit of '" + c.label + "'");
    for (double t : c.threshold) {
      r.tmin = std::min(r.tmin, t);
      r.tmax = std::max(r.tmax, t);
    }
    for (double v : c.net_benefit)
      if (std::isfinite(v)) r.nbmax = std::max(r.nbmax, v);
  };
  for (const auto& m : plot.models) scan(m);
  scan(plot.treat_all);
  if (!(r.tmax > r.tmin)) {
    r.tmin = 0;
    r.tmax = 1;
  }
  return r;
}
}  // namespace

Figure decision_curve_figure(const DecisionPlot& plot, FigureSize size) {
  const DecisionRange r = decision_range(plot);
  const double tmin = r.tmin, tmax = r.tmax, nbmax = r.nbmax;
  auto yt = detail::nice_ticks(-0.05, nbmax * 1.1, 5);
  return detail::render(size.width, size.height, [&](cairo_t* cr) {
    PlotFrame f = detail::frame(90, detail::top_margin(plot.title), 24, 64, size.width, size.height, tmin,
                                tmax, -0.05, std::max(yt.back(), nbmax * 1.1));
    detail::title(cr, size.width, plot.title);
    draw_axes(cr, f,
              AxesStyle{"Threshold probability", "Net benefit",
                        detail::ticks_within(detail::nice_ticks(tmin, tmax, 6), tmin, tmax, 1e-12),
                        detail::ticks_within(yt, f.ymin, f.ymax), true});
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

}  // namespace cervirisk::report
