// Training curves: the losses (training solid, validation dashed) and the validation AUC per
// epoch, side by side, the best epoch marked.
#include <algorithm>
#include <cmath>

#include "report/figure_parts.h"
#include "report/figures.h"

namespace cervirisk::report {

using detail::AxesStyle;
using detail::LegendEntry;

namespace {
// The ticks of the three axes, covering every run's finite values.
struct CurveTicks {
  double emax = 1;  // the last epoch
  std::vector<double> epoch, loss, auc;
};
CurveTicks curve_ticks(const std::vector<TrainingHistory>& runs) {
  double emax = 1, lmax = 0, lmin = 1e300, amin = 1, amax = 0;
  for (const auto& r : runs) {
    detail::check_same_size(r.epoch.size(), r.train_loss.size(),
                            "epochs and training losses of '" + r.label + "'");
    detail::check_optional_size(r.epoch.size(), r.val_loss,
                                "epochs and validation losses of '" + r.label + "'");
    detail::check_optional_size(r.epoch.size(), r.val_auc, "epochs and validation AUCs of '" + r.label + "'");
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
  return {emax, detail::nice_ticks(0, emax, 6),
          detail::covering_ticks(std::max(0.0, lmin - 0.05 * (lmax - lmin)), lmax * 1.02, 5),
          detail::covering_ticks(std::max(0.0, amin - 0.05), std::min(1.0, amax + 0.05), 5)};
}

// A series in panel f, clipped to it: a line of colour c.
void panel_line(cairo_t* cr, const PlotFrame& f, const std::vector<double>& x, const std::vector<double>& y,
                const Rgb& c) {
  detail::clip_to(cr, f);
  detail::set_colour(cr, c);
  cairo_set_line_width(cr, 2.2);
  detail::polyline(cr, f, x, y);
  cairo_stroke(cr);
}

// One run in colour c: its losses in fl, its validation AUC and best epoch in fa.
void training_run(cairo_t* cr, const PlotFrame& fl, const PlotFrame& fa, const TrainingHistory& r,
                  const Rgb& c) {
  cairo_save(cr);
  panel_line(cr, fl, r.epoch, r.train_loss, c);
  if (!r.val_loss.empty()) {
    double dash[] = {6, 4};
    cairo_set_dash(cr, dash, 2, 0);
    detail::polyline(cr, fl, r.epoch, r.val_loss);
    cairo_stroke(cr);
  }
  cairo_restore(cr);
  cairo_save(cr);
  panel_line(cr, fa, r.epoch, r.val_auc, c);
  if (r.best_epoch >= 0) {
    double dot[] = {2, 3};
    cairo_set_dash(cr, dot, 2, 0);
    cairo_set_line_width(cr, 1.2);
    cairo_move_to(cr, fa.px(r.best_epoch), fa.top);
    cairo_line_to(cr, fa.px(r.best_epoch), fa.top + fa.height);
    cairo_stroke(cr);
  }
  cairo_restore(cr);
}
}  // namespace

Figure training_curves_figure(const std::vector<TrainingHistory>& runs, const std::string& ttl,
                              FigureSize size) {
  const CurveTicks t = curve_ticks(runs);
  return detail::render(size.width, size.height, [&](cairo_t* cr) {
    const double top = detail::top_margin(ttl), gap = 90;
    const double pw = (size.width - 80 - gap - 24) / 2.0;
    const double xmax = std::max(t.emax, t.epoch.back());
    PlotFrame fl{80, top, pw, size.height - top - 64, 0, xmax, t.loss.front(), t.loss.back()};
    PlotFrame fa{80 + pw + gap, top, pw, size.height - top - 64, 0, xmax, t.auc.front(), t.auc.back()};
    detail::title(cr, size.width, ttl);
    draw_axes(cr, fl, AxesStyle{"Epoch", "Loss", t.epoch, t.loss, true});
    draw_axes(cr, fa, AxesStyle{"Epoch", "Validation AUC", t.epoch, t.auc, true});
    std::vector<LegendEntry> leg;
    for (std::size_t i = 0; i < runs.size(); ++i) {
      training_run(cr, fl, fa, runs[i], detail::colour_of(i));
      leg.push_back({runs[i].label, detail::colour_of(i)});
    }
    leg.push_back({"loss: training (solid) / validation (dashed)", detail::kGrey, true});
    detail::legend(cr, fa, leg, 2);
    return std::vector<PlotFrame>{fl, fa};
  });
}

}  // namespace cervirisk::report
