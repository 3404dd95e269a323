// An MRI slice with a relevance heatmap (Grad-CAM, attention rollout) laid over it in
// viridis, the boxes of the tumour and its context, and a colour bar.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>

#include "core/error.h"
#include "report/figure_parts.h"
#include "report/figures.h"

namespace cervirisk::report {

namespace {
void check_overlay(const MriOverlay& o) {
  if (o.slice.width <= 0 || o.slice.height <= 0 ||
      o.slice.values.size() != static_cast<std::size_t>(o.slice.width) * o.slice.height)
    throw ConfigError("MRI overlay: the slice raster is empty or its size does not match its values");
  if (!o.heatmap.values.empty() && (o.heatmap.width != o.slice.width || o.heatmap.height != o.slice.height))
    throw ConfigError("MRI overlay: heatmap " + std::to_string(o.heatmap.width) + "x" +
                      std::to_string(o.heatmap.height) + " differs from the slice " +
                      std::to_string(o.slice.width) + "x" + std::to_string(o.slice.height));
}

using Surface = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;

// A w×h ARGB32 image (premultiplied alpha) with pixel(x, y) at each pixel; built once, then
// drawn scaled on both the PNG and the SVG surface.
Surface image_surface(int w, int h, const std::function<std::uint32_t(int, int)>& pixel) {
  Surface s(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h), cairo_surface_destroy);
  cairo_surface_flush(s.get());
  unsigned char* data = cairo_image_surface_get_data(s.get());
  int stride = cairo_image_surface_get_stride(s.get());
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) reinterpret_cast<std::uint32_t*>(data + y * stride)[x] = pixel(x, y);
  cairo_surface_mark_dirty(s.get());
  return s;
}

// The slice in opaque grey, windowed at its 1st–99th percentile; NaN is black.
Surface grey_image(const Raster& slice) {
  std::vector<double> vals(slice.values.begin(), slice.values.end());
  double lo = detail::finite_quantile(vals, 0.01), hi = detail::finite_quantile(vals, 0.99);
  if (!(hi > lo)) hi = lo + 1;
  return image_surface(slice.width, slice.height, [&](int x, int y) {
    double v = slice.at(x, y);
    int g = std::isfinite(v) ? static_cast<int>(std::clamp((v - lo) / (hi - lo), 0.0, 1.0) * 255 + 0.5) : 0;
    return 0xff000000u | (g << 16) | (g << 8) | g;
  });
}

// The heatmap in viridis with opacity alpha; NaN (not covered) is transparent.
Surface heat_image(const Raster& heat, double alpha) {
  auto channel = [alpha](double c) {
    return static_cast<std::uint32_t>(std::clamp(c * alpha, 0.0, 1.0) * 255 + 0.5);
  };
  return image_surface(heat.width, heat.height, [&](int x, int y) -> std::uint32_t {
    double v = heat.at(x, y);
    if (!std::isfinite(v)) return 0;
    Rgb c = viridis(v);
    return (static_cast<std::uint32_t>(alpha * 255 + 0.5) << 24) | (channel(c.r) << 16) |
           (channel(c.g) << 8) | channel(c.b);
  });
}

// The slice (and heatmap, when there is one) scaled into f; edges padded so they do not fade.
void paint_images(cairo_t* cr, const PlotFrame& f, double scale, const Raster& slice, cairo_surface_t* grey,
                  cairo_surface_t* heat) {
  cairo_save(cr);
  cairo_translate(cr, f.left, f.top);
  cairo_scale(cr, scale, scale);
  cairo_rectangle(cr, 0, 0, slice.width, slice.height);
  cairo_clip(cr);
  cairo_set_source_surface(cr, grey, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_GOOD);
  cairo_pattern_set_extend(cairo_get_source(cr), CAIRO_EXTEND_PAD);
  cairo_paint(cr);
  if (heat) {
    cairo_set_source_surface(cr, heat, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_GOOD);
    cairo_paint(cr);
  }
  cairo_restore(cr);
}

// Each box outlined, its label on a dark tab above its top-left corner.
void draw_boxes(cairo_t* cr, const PlotFrame& f, double scale, const std::vector<OverlayBox>& boxes) {
  for (std::size_t i = 0; i < boxes.size(); ++i) {
    const auto& b = boxes[i];
    Rgb c = i == 0 ? series_palette()[3] : series_palette()[5];  // orange, sky blue: visible on grey
    const double x = f.left + b.x0 * scale, y = f.top + b.y0 * scale;
    detail::set_colour(cr, c);
    cairo_set_line_width(cr, 2);
    cairo_rectangle(cr, x, y, (b.x1 - b.x0) * scale, (b.y1 - b.y0) * scale);
    cairo_stroke(cr);
    detail::set_font(cr, 12, true);
    const double tw = detail::text_width(cr, b.label);
    cairo_set_source_rgba(cr, 0, 0, 0, 0.65);
    cairo_rectangle(cr, x, y - 17, tw + 6, 17);
    cairo_fill(cr);
    detail::set_colour(cr, c);
    detail::text(cr, x + 3, y - 2, b.label, 0, 1);
  }
}

// The viridis bar for heatmap values 0..1, right of the image (f.width pixels wide).
void heat_colour_bar(cairo_t* cr, const PlotFrame& f, const std::string& label) {
  double cx = f.left + f.width + 22, ch = f.height * 0.8, cy0 = f.top + f.height * 0.1;
  detail::gradient_strip(cr, cx, cy0, 16, ch, 128, viridis);
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, cx + 0.5, cy0 + 0.5, 16, ch);
  cairo_stroke(cr);
  detail::set_font(cr, 12);
  for (double t : {0.0, 0.5, 1.0})
    detail::text(cr, cx + 22, cy0 + ch * (1 - t), fmt::format("{:.1f}", t), 0, 0.5);
  detail::vertical_text(cr, cx + 64, cy0 + ch / 2, label);
}
}  // namespace

Figure mri_overlay_figure(const MriOverlay& o) {
  check_overlay(o);
  const double scale =
      o.pixels_per_voxel > 0 ? o.pixels_per_voxel : 512.0 / std::max(o.slice.width, o.slice.height);
  const double iw = o.slice.width * scale, ih = o.slice.height * scale;
  const double top = o.title.empty() ? 16 : 44;
  const int W = static_cast<int>(iw + 16 + 110), H = static_cast<int>(ih + top + 16);
  const Surface grey = grey_image(o.slice);
  const Surface heat = o.heatmap.values.empty() ? Surface(nullptr, cairo_surface_destroy)
                                                : heat_image(o.heatmap, o.heat_alpha);
  return detail::render(W, H, [&](cairo_t* cr) {
    detail::title(cr, W, o.title);
    PlotFrame f{8, top, iw, ih, 0, static_cast<double>(o.slice.width), static_cast<double>(o.slice.height),
                0};
    paint_images(cr, f, scale, o.slice, grey.get(), heat.get());
    cairo_save(cr);
    draw_boxes(cr, f, scale, o.boxes);
    heat_colour_bar(cr, f, o.colorbar_label);
    cairo_restore(cr);
    return std::vector<PlotFrame>{f};
  });
}

}  // namespace cervirisk::report
