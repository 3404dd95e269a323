// Kaplan–Meier curves with confidence bands and censoring marks, and the numbers at risk in a
// table under the axis.
#include <algorithm>
#include <cmath>

#include "report/figure_parts.h"
#include "report/figures.h"

namespace cervirisk::report {

using detail::AxesStyle;
using detail::colour_of;
using detail::LegendEntry;

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

// The last time anything happens in the plot (1 when nothing does); checks the groups.
double last_time(const KmPlot& plot) {
  double tmax = 0;
  for (const auto& g : plot.groups) {
    detail::check_same_size(g.time.size(), g.surv.size(), "KM time and survival of '" + g.label + "'");
    detail::check_optional_size(g.time.size(), g.lower, "KM time and lower band of '" + g.label + "'");
    detail::check_optional_size(g.time.size(), g.upper, "KM time and upper band of '" + g.label + "'");
    for (const auto* times : {&g.time, &g.follow_up, &g.censor_times})
      for (double t : *times) tmax = std::max(tmax, t);
  }
  return tmax <= 0 ? 1 : tmax;
}

// One group: its band (when given), its curve and a "+" at each censored time, clipped to f.
void km_group(cairo_t* cr, const PlotFrame& f, const KmGroup& g, const Rgb& c) {
  // The curve and its band stop at the group's own last follow-up time (not the axis end).
  double last_t = g.follow_up.empty() ? f.xmax : *std::max_element(g.follow_up.begin(), g.follow_up.end());
  std::vector<double> xs, ys;
  if (!g.lower.empty() && !g.upper.empty()) {
    std::vector<double> xl, yl;
    step_path(g.time, g.lower, last_t, xl, yl);
    step_path(g.time, g.upper, last_t, xs, ys);
    detail::polyline(cr, f, xs, ys);
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
}

// The numbers at risk at the times rt, a row per group under the axis, labels shortened to
// fit the left margin.
void risk_table(cairo_t* cr, const PlotFrame& f, const std::vector<KmGroup>& groups,
                const std::vector<double>& rt) {
  double y0 = f.top + f.height + 62;
  cairo_save(cr);
  detail::set_font(cr, 13, true);
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  detail::text(cr, 12, y0, "Number at risk");
  for (std::size_t gi = 0; gi < groups.size(); ++gi) {
    double y = y0 + 22 * (gi + 1);
    detail::set_font(cr, 13, true);
    detail::set_colour(cr, colour_of(gi));
    std::string lab = groups[gi].label;
    while (lab.size() > 3 && detail::text_width(cr, lab) > f.left - 24) lab.resize(lab.size() - 1);
    detail::text(cr, 12, y, lab);
    detail::set_font(cr, 13);
    for (double t : rt)
      if (t >= f.xmin && t <= f.xmax)
        detail::text(cr, f.px(t), y, std::to_string(number_at_risk(groups[gi], t)), 0.5, 0);
  }
  cairo_restore(cr);
}
}  // namespace

Figure km_figure(const KmPlot& plot, FigureSize size) {
  const double tmax = last_time(plot);
  auto xt = detail::nice_ticks(0, tmax, 6);
  double xmax = std::max(tmax, xt.back());
  const double table_h = 34 + 22.0 * plot.groups.size();
  return detail::render(size.width, size.height, [&](cairo_t* cr) {
    PlotFrame f = detail::frame(150, detail::top_margin(plot.title), 30, 64 + table_h, size.width,
                                size.height, 0, xmax, 0, 1.04);
    detail::title(cr, size.width, plot.title);
    draw_axes(cr, f, AxesStyle{plot.x_label, plot.y_label, xt, detail::nice_ticks(0, 1, 5), true});
    cairo_save(cr);
    detail::clip_to(cr, f);
    std::vector<LegendEntry> leg;
    for (std::size_t gi = 0; gi < plot.groups.size(); ++gi) {
      km_group(cr, f, plot.groups[gi], colour_of(gi));
      leg.push_back({plot.groups[gi].label, colour_of(gi)});
    }
    cairo_restore(cr);
    detail::legend(cr, f, leg, 3);
    detail::annotate(cr, f, plot.annotation);
    risk_table(cr, f, plot.groups, plot.risk_times.empty() ? xt : plot.risk_times);
    return std::vector<PlotFrame>{f};
  });
}

}  // namespace cervirisk::report
