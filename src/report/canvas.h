// Internal drawing helpers shared by the figure functions (not part of the public API):
// a figure rendered once into a PNG surface and once into an SVG surface from the same
// drawing code, nice axis ticks, text with alignment, legends.
#pragma once

#include <cairo.h>

#include <cmath>
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
// The width of the widest of the lines in the current font.
double widest_text(cairo_t* cr, const std::vector<std::string>& lines);
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
// The centre of the pixel that v falls in: a 1-px line there is crisp, not smeared over two.
inline double pixel_centre(double v) { return std::round(v) + 0.5; }
// Pixel-aligned paths (not stroked) across the frame at data x (vertical) or data y (horizontal).
void vertical_rule(cairo_t* cr, const PlotFrame& f, double x);
void horizontal_rule(cairo_t* cr, const PlotFrame& f, double y);
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
// A colour bar's strip: `steps` bands from map(1) at the top to map(0) at the bottom, each
// overlapping the next by 0.6 px so no seam of background shows between them.
void gradient_strip(cairo_t* cr, double x, double y, double width, double height, int steps,
                    const std::function<Rgb(double)>& map);

}  // namespace cervirisk::report::detail
