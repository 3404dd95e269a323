// Internal drawing helpers shared by the figure functions (not part of the public API):
// a figure rendered once into a PNG surface and once into an SVG surface from the same
// drawing code, nice axis ticks, text with alignment, legends.
#pragma once

#include <cairo.h>

#include <functional>
#include <string>
#include <vector>

#include "report/figures.h"

namespace cervirisk::report::detail {

// Draws with `draw` into a w×h PNG and an SVG of the same size; `draw` returns the frames.
Figure render(int width, int height, const std::function<std::vector<PlotFrame>(cairo_t*)>& draw);

void set_colour(cairo_t* cr, const Rgb& c, double alpha = 1.0);
void set_font(cairo_t* cr, double size, bool bold = false);
// Text anchored at (x, y): ax 0 = left, 0.5 = centre, 1 = right; ay 0 = top, 0.5 = middle,
// 1 = baseline-ish bottom. Returns the text width.
double text(cairo_t* cr, double x, double y, const std::string& s, double ax = 0, double ay = 0);
double text_width(cairo_t* cr, const std::string& s);
void vertical_text(cairo_t* cr, double x, double y, const std::string& s);  // centred, reading upwards

// "Nice" tick positions covering [lo, hi] with about n intervals (Heckbert 1990, Graphics Gems).
std::vector<double> nice_ticks(double lo, double hi, int n = 5);
// Nice ticks whose first is <= lo and last >= hi (for an axis range that shows all data).
std::vector<double> covering_ticks(double lo, double hi, int n = 5);
std::string tick_label(double v, double step);

struct AxesStyle {
  std::string x_label, y_label;
  std::vector<double> x_ticks, y_ticks;
  bool grid = true;
};
// Frame box, grid lines, ticks and labels.
void draw_axes(cairo_t* cr, const PlotFrame& f, const AxesStyle& s);
// Polyline through points in data space, clipped to the frame.
void polyline(cairo_t* cr, const PlotFrame& f, const std::vector<double>& x, const std::vector<double>& y);
void clip_to(cairo_t* cr, const PlotFrame& f);

struct LegendEntry {
  std::string label;
  Rgb colour;
  bool dashed = false;
  bool box = false;  // a filled square instead of a line
};
// Legend box inside the frame; corner: 0 = top-left, 1 = top-right, 2 = bottom-right, 3 = bottom-left.
void legend(cairo_t* cr, const PlotFrame& f, const std::vector<LegendEntry>& entries, int corner);
void title(cairo_t* cr, double width, const std::string& s);

}  // namespace cervirisk::report::detail
