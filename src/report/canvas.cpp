#include "report/canvas.h"

#include <cairo-svg.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/atomic_file.h"
#include "core/error.h"

namespace cervirisk::report {

const std::vector<Rgb>& series_palette() {
  static const std::vector<Rgb> p = {
      {0 / 255., 114 / 255., 178 / 255.},    // blue
      {213 / 255., 94 / 255., 0 / 255.},     // vermillion
      {0 / 255., 158 / 255., 115 / 255.},    // bluish green
      {230 / 255., 159 / 255., 0 / 255.},    // orange
      {204 / 255., 121 / 255., 167 / 255.},  // reddish purple
      {86 / 255., 180 / 255., 233 / 255.},   // sky blue
      {0, 0, 0},                             // black
      {240 / 255., 228 / 255., 66 / 255.},   // yellow
  };
  return p;
}

Rgb viridis(double t) {
  // matplotlib's viridis sampled at 0, 1/8, ..., 1 and interpolated linearly.
  static const double k[9][3] = {{68, 1, 84},    {71, 45, 123},  {59, 82, 139},
                                 {44, 114, 142}, {33, 145, 140}, {39, 173, 129},
                                 {92, 200, 99},  {170, 220, 50}, {253, 231, 37}};
  if (!(t >= 0)) t = 0;
  if (t > 1) t = 1;
  double s = t * 8;
  int i = std::min(7, static_cast<int>(s));
  double u = s - i;
  return {(k[i][0] + u * (k[i + 1][0] - k[i][0])) / 255., (k[i][1] + u * (k[i + 1][1] - k[i][1])) / 255.,
          (k[i][2] + u * (k[i + 1][2] - k[i][2])) / 255.};
}

void write_figure(const Figure& figure, const std::filesystem::path& stem) {
  auto png = stem;
  png += ".png";
  auto svg = stem;
  svg += ".svg";
  write_file_atomic(png, figure.png);
  write_file_atomic(svg, figure.svg);
}

namespace detail {
namespace {
cairo_status_t append(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}
void check(cairo_status_t s, const char* what) {
  if (s != CAIRO_STATUS_SUCCESS)
    throw Error(ExitCode::kFailure, std::string("figure: ") + what + ": " + cairo_status_to_string(s));
}
// Draws on a fresh context of s over a white page; keeps the frames when asked for them.
cairo_status_t paint_page(cairo_surface_t* s, const std::function<std::vector<PlotFrame>(cairo_t*)>& draw,
                          std::vector<PlotFrame>* frames) {
  cairo_t* cr = cairo_create(s);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  auto drawn = draw(cr);
  if (frames) *frames = std::move(drawn);
  cairo_status_t st = cairo_status(cr);
  cairo_destroy(cr);
  return st;
}
}  // namespace

Figure render(int width, int height, const std::function<std::vector<PlotFrame>(cairo_t*)>& draw) {
  if (width <= 0 || height <= 0 || width > 20000 || height > 20000)
    throw ConfigError("figure: size " + std::to_string(width) + "x" + std::to_string(height) +
                      " out of range");
  Figure fig;
  fig.width = width;
  fig.height = height;
  {
    cairo_surface_t* s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height);
    // the frames locate the PNG's pixels (text, and so layout, is measured per surface)
    cairo_status_t st = paint_page(s, draw, &fig.frames);
    cairo_surface_flush(s);
    if (st == CAIRO_STATUS_SUCCESS) st = cairo_surface_write_to_png_stream(s, append, &fig.png);
    cairo_surface_destroy(s);
    check(st, "PNG");
  }
  {
    cairo_surface_t* s = cairo_svg_surface_create_for_stream(append, &fig.svg, width, height);
    cairo_svg_surface_restrict_to_version(s, CAIRO_SVG_VERSION_1_1);
    cairo_svg_surface_set_document_unit(s, CAIRO_SVG_UNIT_PX);  // same size as the PNG in a browser
    cairo_status_t st = paint_page(s, draw, nullptr);
    cairo_surface_finish(s);
    if (st == CAIRO_STATUS_SUCCESS) st = cairo_surface_status(s);
    cairo_surface_destroy(s);
    check(st, "SVG");
  }
  return fig;
}

void set_colour(cairo_t* cr, const Rgb& c, double alpha) { cairo_set_source_rgba(cr, c.r, c.g, c.b, alpha); }

void set_font(cairo_t* cr, double size, bool bold) {
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
}

double text_width(cairo_t* cr, const std::string& s) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, s.c_str(), &e);
  return e.x_advance;
}

double widest_text(cairo_t* cr, const std::vector<std::string>& lines) {
  double w = 0;
  for (const auto& l : lines) w = std::max(w, text_width(cr, l));
  return w;
}

double text(cairo_t* cr, double x, double y, const std::string& s, double ax, double ay) {
  cairo_font_extents_t fe;
  cairo_font_extents(cr, &fe);
  double w = text_width(cr, s);
  double h = fe.ascent + fe.descent;
  cairo_move_to(cr, x - ax * w, y - ay * h + fe.ascent);
  cairo_show_text(cr, s.c_str());
  cairo_new_path(cr);
  return w;
}

void vertical_text(cairo_t* cr, double x, double y, const std::string& s) {
  cairo_save(cr);
  cairo_translate(cr, x, y);
  cairo_rotate(cr, -M_PI / 2);
  text(cr, 0, 0, s, 0.5, 0.5);
  cairo_restore(cr);
}

std::vector<double> nice_ticks(double lo, double hi, int n) {
  if (!(hi > lo)) hi = lo + 1;
  auto nice = [](double x, bool round) {
    double e = std::floor(std::log10(x));
    double f = x / std::pow(10, e);
    double nf;
    if (round)
      nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
    else
      nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
    return nf * std::pow(10, e);
  };
  double range = nice(hi - lo, false);
  double step = nice(range / std::max(1, n), true);
  std::vector<double> t;
  for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step)
    t.push_back(std::abs(v) < step * 1e-9 ? 0 : v);
  return t;
}

std::vector<double> covering_ticks(double lo, double hi, int n) {
  auto t = nice_ticks(lo, hi, n);
  double step = t.size() > 1 ? t[1] - t[0] : 1;
  while (t.front() > lo + 1e-12 * step) t.insert(t.begin(), t.front() - step);
  while (t.back() < hi - 1e-12 * step) t.push_back(t.back() + step);
  return t;
}

std::string tick_label(double v, double step) {
  int dec = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
  return fmt::format("{:.{}f}", v, std::max(0, dec));
}

void clip_to(cairo_t* cr, const PlotFrame& f) {
  cairo_rectangle(cr, f.left, f.top, f.width, f.height);
  cairo_clip(cr);
}

void draw_axes(cairo_t* cr, const PlotFrame& f, const AxesStyle& s) {
  cairo_save(cr);
  cairo_set_line_width(cr, 1);
  if (s.grid) {
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    for (double t : s.x_ticks) vertical_rule(cr, f, t);
    for (double t : s.y_ticks) horizontal_rule(cr, f, t);
    cairo_stroke(cr);
  }
  cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
  cairo_rectangle(cr, pixel_centre(f.left), pixel_centre(f.top), std::round(f.width), std::round(f.height));
  cairo_stroke(cr);
  set_font(cr, 13);
  double xstep = s.x_ticks.size() > 1 ? s.x_ticks[1] - s.x_ticks[0] : 1;
  double ystep = s.y_ticks.size() > 1 ? s.y_ticks[1] - s.y_ticks[0] : 1;
  for (double t : s.x_ticks) {
    double x = pixel_centre(f.px(t));
    cairo_move_to(cr, x, f.top + f.height);
    cairo_line_to(cr, x, f.top + f.height + 5);
    cairo_stroke(cr);
    text(cr, x, f.top + f.height + 8, tick_label(t, xstep), 0.5, 0);
  }
  double max_w = 0;
  for (double t : s.y_ticks) {
    double y = pixel_centre(f.py(t));
    cairo_move_to(cr, f.left - 5, y);
    cairo_line_to(cr, f.left, y);
    cairo_stroke(cr);
    max_w = std::max(max_w, text(cr, f.left - 8, y, tick_label(t, ystep), 1, 0.5));
  }
  set_font(cr, 14);
  if (!s.x_label.empty()) text(cr, f.left + f.width / 2, f.top + f.height + 30, s.x_label, 0.5, 0);
  if (!s.y_label.empty()) vertical_text(cr, f.left - max_w - 24, f.top + f.height / 2, s.y_label);
  cairo_restore(cr);
}

void vertical_rule(cairo_t* cr, const PlotFrame& f, double x) {
  cairo_move_to(cr, pixel_centre(f.px(x)), f.top);
  cairo_line_to(cr, pixel_centre(f.px(x)), f.top + f.height);
}

void horizontal_rule(cairo_t* cr, const PlotFrame& f, double y) {
  cairo_move_to(cr, f.left, pixel_centre(f.py(y)));
  cairo_line_to(cr, f.left + f.width, pixel_centre(f.py(y)));
}

void polyline(cairo_t* cr, const PlotFrame& f, const std::vector<double>& x, const std::vector<double>& y) {
  bool pen = false;
  for (std::size_t i = 0; i < std::min(x.size(), y.size()); ++i) {
    if (!std::isfinite(x[i]) || !std::isfinite(y[i])) {
      pen = false;
      continue;
    }
    if (pen)
      cairo_line_to(cr, f.px(x[i]), f.py(y[i]));
    else
      cairo_move_to(cr, f.px(x[i]), f.py(y[i]));
    pen = true;
  }
}

void legend(cairo_t* cr, const PlotFrame& f, const std::vector<LegendEntry>& entries, int corner) {
  if (entries.empty()) return;
  cairo_save(cr);
  set_font(cr, 13);
  double w = 0;
  for (const auto& e : entries) w = std::max(w, text_width(cr, e.label));
  const double line = 20, pad = 8, key = 26;
  double bw = w + key + 3 * pad, bh = entries.size() * line + 2 * pad - 4;
  double x = (corner == 1 || corner == 2) ? f.left + f.width - bw - 10 : f.left + 10;
  double y = (corner == 2 || corner == 3) ? f.top + f.height - bh - 10 : f.top + 10;
  cairo_set_source_rgba(cr, 1, 1, 1, 0.9);
  cairo_rectangle(cr, x, y, bw, bh);
  cairo_fill_preserve(cr);
  cairo_set_source_rgb(cr, 0.7, 0.7, 0.7);
  cairo_set_line_width(cr, 1);
  cairo_stroke(cr);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    double cy = y + pad + i * line + 8;
    set_colour(cr, entries[i].colour);
    if (entries[i].box) {
      cairo_rectangle(cr, x + pad + 6, cy - 6, 12, 12);
      cairo_fill(cr);
    } else {
      if (entries[i].dashed) {
        double d[] = {6, 4};
        cairo_set_dash(cr, d, 2, 0);
      }
      cairo_set_line_width(cr, 2.5);
      cairo_move_to(cr, x + pad, cy);
      cairo_line_to(cr, x + pad + key - 4, cy);
      cairo_stroke(cr);
      cairo_set_dash(cr, nullptr, 0, 0);
    }
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    text(cr, x + pad + key + pad / 2, cy, entries[i].label, 0, 0.5);
  }
  cairo_restore(cr);
}

void title(cairo_t* cr, double width, const std::string& s) {
  if (s.empty()) return;
  cairo_save(cr);
  cairo_set_source_rgb(cr, 0, 0, 0);
  set_font(cr, 17, true);
  text(cr, width / 2, 12, s, 0.5, 0);
  cairo_restore(cr);
}

void gradient_strip(cairo_t* cr, double x, double y, double width, double height, int steps,
                    const std::function<Rgb(double)>& map) {
  for (int i = 0; i < steps; ++i) {
    set_colour(cr, map(1 - i / (steps - 1.0)));
    cairo_rectangle(cr, x, y + height * i / steps, width, height / steps + 0.6);
    cairo_fill(cr);
  }
}

}  // namespace detail
}  // namespace cervirisk::report
