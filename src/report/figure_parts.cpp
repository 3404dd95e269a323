#include "report/figure_parts.h"

#include <algorithm>
#include <cmath>
#include <iterator>

#include "core/error.h"
#include "stats/common.h"

namespace cervirisk::report::detail {

Rgb colour_of(std::size_t i) { return series_palette()[i % series_palette().size()]; }

double top_margin(const std::string& title) { return title.empty() ? 20 : 48; }

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

std::vector<double> ticks_within(const std::vector<double>& ticks, double lo, double hi, double tol) {
  std::vector<double> kept;
  for (double t : ticks)
    if (t >= lo - tol && t <= hi + tol) kept.push_back(t);
  return kept;
}

void identity_line(cairo_t* cr, const PlotFrame& f, double line_width) {
  set_colour(cr, kGrey);
  double dash[] = {5, 4};
  cairo_set_dash(cr, dash, 2, 0);
  cairo_set_line_width(cr, line_width);
  cairo_move_to(cr, f.px(0), f.py(0));
  cairo_line_to(cr, f.px(1), f.py(1));
  cairo_stroke(cr);
  cairo_set_dash(cr, nullptr, 0, 0);
}

void annotate(cairo_t* cr, const PlotFrame& f, const std::vector<std::string>& lines) {
  if (lines.empty()) return;
  cairo_save(cr);
  set_font(cr, 13);
  double w = widest_text(cr, lines);
  double x = f.left + f.width - w - 20;
  double y = f.top + f.height - 10 - 18.0 * lines.size();
  cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
  cairo_rectangle(cr, x - 6, y - 4, w + 12, 18.0 * lines.size() + 6);
  cairo_fill(cr);
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  for (std::size_t i = 0; i < lines.size(); ++i) text(cr, x, y + 18.0 * i, lines[i]);
  cairo_restore(cr);
}

int rows_height(FigureSize size, std::size_t n, double row_h, const std::string& title) {
  return size.height > 0 ? size.height : static_cast<int>(n * row_h + top_margin(title) + 70);
}

double row_centre(const PlotFrame& f, std::size_t n, std::size_t r) {
  return f.py(static_cast<double>(n - 1 - r));
}

double label_width(cairo_t* cr, const std::vector<std::string>& labels) {
  set_font(cr, 13);
  return widest_text(cr, labels);
}

void row_label(cairo_t* cr, const PlotFrame& f, double y, const std::string& label) {
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  set_font(cr, 13);
  text(cr, f.left - 10, y, label, 1, 0.5);
}

void check_same_size(std::size_t a, std::size_t b, const std::string& what) {
  if (a != b)
    throw ConfigError("figure: " + what + " have different lengths (" + std::to_string(a) + " vs " +
                      std::to_string(b) + ")");
}

void check_optional_size(std::size_t n, const std::vector<double>& column, const std::string& what) {
  if (!column.empty()) check_same_size(n, column.size(), what);
}

double finite_quantile(const std::vector<double>& v, double q) {
  std::vector<double> finite;
  std::copy_if(v.begin(), v.end(), std::back_inserter(finite), [](double x) { return std::isfinite(x); });
  return stats::quantile_type7(std::move(finite), q);
}

}  // namespace cervirisk::report::detail
