// Test helpers: decode a rendered PNG and look at its pixels; check that an SVG is
// well-formed XML (balanced tags, one root).
#pragma once

#include <cairo.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <set>
#include <string>

#include "report/figures.h"

namespace figtest {

struct Png {
  int width = 0, height = 0;
  std::vector<std::uint32_t> px;  // 0xAARRGGBB
  std::uint32_t at(int x, int y) const { return px[static_cast<std::size_t>(y) * width + x]; }
};

struct Reader {
  const std::string* s;
  std::size_t pos = 0;
};
inline cairo_status_t read_fn(void* closure, unsigned char* data, unsigned int length) {
  auto* r = static_cast<Reader*>(closure);
  if (r->pos + length > r->s->size()) return CAIRO_STATUS_READ_ERROR;
  std::memcpy(data, r->s->data() + r->pos, length);
  r->pos += length;
  return CAIRO_STATUS_SUCCESS;
}

inline Png decode_png(const std::string& bytes) {
  Reader r{&bytes};
  cairo_surface_t* s = cairo_image_surface_create_from_png_stream(read_fn, &r);
  Png p;
  if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(s);
    ADD_FAILURE() << "PNG does not decode";
    return p;
  }
  cairo_surface_t* img = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, cairo_image_surface_get_width(s),
                                                    cairo_image_surface_get_height(s));
  cairo_t* cr = cairo_create(img);
  cairo_set_source_surface(cr, s, 0, 0);
  cairo_paint(cr);
  cairo_destroy(cr);
  cairo_surface_flush(img);
  p.width = cairo_image_surface_get_width(img);
  p.height = cairo_image_surface_get_height(img);
  const int stride = cairo_image_surface_get_stride(img);
  const unsigned char* d = cairo_image_surface_get_data(img);
  p.px.resize(static_cast<std::size_t>(p.width) * p.height);
  for (int y = 0; y < p.height; ++y)
    std::memcpy(&p.px[static_cast<std::size_t>(y) * p.width], d + y * stride, 4 * p.width);
  cairo_surface_destroy(img);
  cairo_surface_destroy(s);
  return p;
}

inline std::size_t distinct_colours(const Png& p) {
  std::set<std::uint32_t> s(p.px.begin(), p.px.end());
  return s.size();
}

inline double non_white_fraction(const Png& p) {
  std::size_t n = 0;
  for (auto v : p.px) n += (v & 0xffffff) != 0xffffff;
  return static_cast<double>(n) / p.px.size();
}

inline double colour_distance(std::uint32_t v, const cervirisk::report::Rgb& c) {
  double r = ((v >> 16) & 255) / 255.0, g = ((v >> 8) & 255) / 255.0, b = (v & 255) / 255.0;
  return std::abs(r - c.r) + std::abs(g - c.g) + std::abs(b - c.b);
}

// Is a pixel of colour c (within tol, L1 on 0..1 channels) within `radius` px of (x, y)?
inline bool colour_near(const Png& p, double x, double y, const cervirisk::report::Rgb& c, int radius = 3,
                        double tol = 0.15) {
  for (int dy = -radius; dy <= radius; ++dy)
    for (int dx = -radius; dx <= radius; ++dx) {
      int xx = static_cast<int>(std::lround(x)) + dx, yy = static_cast<int>(std::lround(y)) + dy;
      if (xx < 0 || yy < 0 || xx >= p.width || yy >= p.height) continue;
      if (colour_distance(p.at(xx, yy), c) < tol) return true;
    }
  return false;
}

// Minimal well-formedness check: XML declaration optional, comments / CDATA skipped, every
// start tag closed in order, exactly one root element <svg>.
inline ::testing::AssertionResult svg_well_formed(const std::string& s) {
  std::vector<std::string> stack;
  int roots = 0;
  std::size_t i = 0;
  while ((i = s.find('<', i)) != std::string::npos) {
    if (s.compare(i, 4, "<!--") == 0) {
      i = s.find("-->", i);
      if (i == std::string::npos) return ::testing::AssertionFailure() << "open comment";
      continue;
    }
    if (s.compare(i, 9, "<![CDATA[") == 0) {
      i = s.find("]]>", i);
      if (i == std::string::npos) return ::testing::AssertionFailure() << "open CDATA";
      continue;
    }
    if (s.compare(i, 2, "<?") == 0 || s.compare(i, 2, "<!") == 0) {
      i = s.find('>', i);
      continue;
    }
    std::size_t end = s.find('>', i);
    if (end == std::string::npos) return ::testing::AssertionFailure() << "unterminated tag at " << i;
    std::string tag = s.substr(i + 1, end - i - 1);
    if (!tag.empty() && tag[0] == '/') {
      std::string name = tag.substr(1, tag.find_first_of(" \t\n>") - 1);
      if (stack.empty() || stack.back() != name)
        return ::testing::AssertionFailure()
               << "closing </" << name << "> does not match <" << (stack.empty() ? "" : stack.back()) << ">";
      stack.pop_back();
    } else {
      std::string name = tag.substr(0, tag.find_first_of(" \t\n/>"));
      if (stack.empty()) {
        ++roots;
        if (name != "svg") return ::testing::AssertionFailure() << "root element <" << name << ">";
      }
      if (tag.empty() || tag.back() != '/') stack.push_back(name);
    }
    i = end + 1;
  }
  if (!stack.empty()) return ::testing::AssertionFailure() << "unclosed <" << stack.back() << ">";
  if (roots != 1) return ::testing::AssertionFailure() << roots << " root elements";
  return ::testing::AssertionSuccess();
}

}  // namespace figtest
