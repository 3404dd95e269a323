// What the figure families share on top of the canvas (not part of the public API): the axes
// box under the title, series colours, the y = x reference line, the annotation box, the
// layout of charts with one row per item, and the checks of their inputs.
#pragma once

#include <cairo.h>

#include <cstddef>
#include <string>
#include <vector>

#include "report/canvas.h"
#include "report/figures.h"

namespace cervirisk::report::detail {

inline const Rgb kGrey{0.55, 0.55, 0.55};  // references: chance, perfect calibration, treat all
inline const Rgb kDark{0.15, 0.15, 0.15};  // treat none

// The i-th series' colour; the palette repeats after eight.
Rgb colour_of(std::size_t i);

// Pixels above the axes box: room for the title when there is one.
double top_margin(const std::string& title);
// An axes box with these margins inside a w×h figure, and its data ranges.
PlotFrame frame(double left, double top, double right_margin, double bottom_margin, double w, double h,
                double xmin, double xmax, double ymin, double ymax);
// The ticks in [lo − tol, hi + tol].
std::vector<double> ticks_within(const std::vector<double>& ticks, double lo, double hi, double tol = 0);

// The dashed grey line y = x (chance in ROC, perfect calibration).
void identity_line(cairo_t* cr, const PlotFrame& f, double line_width);
// Text lines (statistics of the curves) in a white box at the bottom-right of the frame.
void annotate(cairo_t* cr, const PlotFrame& f, const std::vector<std::string>& lines);

// Charts with one row per item (SHAP, contributions), the first item in the top row.
// The figure's height for n rows of row_h pixels, unless size.height fixes it.
int rows_height(FigureSize size, std::size_t n, double row_h, const std::string& title);
// The y (pixels) of row r of n.
double row_centre(const PlotFrame& f, std::size_t n, std::size_t r);
// The widest row label, measured in the row-label font (which it leaves set).
double label_width(cairo_t* cr, const std::vector<std::string>& labels);
// A row's label, right-aligned left of the frame.
void row_label(cairo_t* cr, const PlotFrame& f, double y, const std::string& label);

// ConfigError naming `what` when two columns that pair up differ in length.
void check_same_size(std::size_t a, std::size_t b, const std::string& what);
// The same for an optional column (empty = not given) against a required one of n entries.
void check_optional_size(std::size_t n, const std::vector<double>& column, const std::string& what);

// Type-7 quantile of the finite values (non-finite ones are no data); NaN when there are none.
double finite_quantile(const std::vector<double>& v, double q);

}  // namespace cervirisk::report::detail
