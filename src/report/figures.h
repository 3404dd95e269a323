// Publication figures drawn with Cairo into PNG and SVG: ROC, Kaplan–Meier with numbers at
// risk, calibration with a histogram, decision curve, SHAP beeswarm / bar, modality
// contributions, training curves and MRI heatmap overlays.
//
// Inputs are plain structs (computed by src/stats and src/explain), so every figure can be
// rendered and tested on known data. Colours: the Okabe–Ito palette (Okabe & Ito 2008,
// "Color Universal Design", https://jfly.uni-koeln.de/color/), safe for the common forms of
// colour-vision deficiency; continuous maps: viridis (van der Walt & Smith 2015, matplotlib),
// perceptually uniform and colour-blind safe. Text: DejaVu Sans.
//
// Drawn on the canvas (canvas.h) with the parts the families share (figure_parts.h), one file a
// family: figures_performance.cpp (ROC, calibration, decision curve), figures_survival.cpp
// (Kaplan–Meier), figures_shap.cpp (SHAP beeswarm and bar, signed bars), figures_training.cpp,
// figures_mri.cpp; the palette and write_figure in canvas.cpp.
#pragma once

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace cervirisk::report {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Rgb {
  double r = 0, g = 0, b = 0;  // 0..1
};
// Okabe–Ito, in the order series are coloured: blue, vermillion, bluish green, orange,
// reddish purple, sky blue, black, yellow.
const std::vector<Rgb>& series_palette();
// Viridis at t in [0, 1] (clamped).
Rgb viridis(double t);

// A 2-D image, row-major (values[y * width + x]); NaN = no value (transparent in overlays).
struct Raster {
  int width = 0;
  int height = 0;
  std::vector<float> values;
  Raster() = default;
  Raster(int w, int h, float fill = 0.f)
      : width(w), height(h), values(static_cast<std::size_t>(w) * h, fill) {}
  float& at(int x, int y) { return values[static_cast<std::size_t>(y) * width + x]; }
  float at(int x, int y) const { return values[static_cast<std::size_t>(y) * width + x]; }
};

// Where an axes box lies in the image (pixels, origin top-left) and its data ranges, so
// callers and tests can locate data points.
struct PlotFrame {
  double left = 0, top = 0, width = 0, height = 0;
  double xmin = 0, xmax = 1, ymin = 0, ymax = 1;
  double px(double x) const { return left + (x - xmin) / (xmax - xmin) * width; }
  double py(double y) const { return top + height - (y - ymin) / (ymax - ymin) * height; }
};

struct Figure {
  int width = 0, height = 0;      // pixels of the PNG
  std::string png;                // PNG bytes
  std::string svg;                // SVG document
  std::vector<PlotFrame> frames;  // the axes boxes, main axes first
};
// Writes <stem>.png and <stem>.svg atomically.
void write_figure(const Figure& figure, const std::filesystem::path& stem);

struct FigureSize {
  int width = 800;
  int height = 600;
};

// ---- ROC -------------------------------------------------------------------------------
struct RocSeries {
  std::string label;
  std::vector<double> fpr, tpr;                     // points of the empirical curve, (0,0) to (1,1)
  double auc = kNaN, auc_lo = kNaN, auc_hi = kNaN;  // shown as "label  AUC 0.80 [0.72–0.88]"
};
struct RocPlot {
  std::string title;
  std::vector<RocSeries> series;
};
Figure roc_figure(const RocPlot& plot, FigureSize size = {});
// Empirical ROC points of scores (higher = case) against 0/1 labels; ties move diagonally.
RocSeries roc_points(const std::vector<double>& score, const std::vector<int>& label, std::string name = {});

// ---- Kaplan–Meier -------------------------------------------------------------------------
struct KmGroup {
  std::string label;
  // Step function: surv[i] holds from time[i] until time[i+1]; start with (0, 1).
  std::vector<double> time, surv;
  std::vector<double> lower, upper;  // confidence band at the same steps (optional)
  std::vector<double> censor_times;  // a "+" mark on the curve at each censored time
  std::vector<double> follow_up;     // every subject's time: numbers at risk = #{t_i >= t}
};
struct KmPlot {
  std::string title;
  std::vector<KmGroup> groups;
  std::vector<std::string> annotation;  // lines, e.g. "log-rank p = 0.003", "HR 2.41 [1.32–4.40]"
  std::string x_label = "Months since surgery";
  std::string y_label = "Recurrence-free probability";
  std::vector<double> risk_times;  // where numbers at risk are counted; empty = x ticks
};
Figure km_figure(const KmPlot& plot, FigureSize size = {800, 680});
int number_at_risk(const KmGroup& group, double t);

// ---- Calibration -------------------------------------------------------------------------
struct CalibrationSeries {
  std::string label;
  std::vector<double> predicted, observed;       // binned curve (mean predicted, observed rate)
  std::vector<double> observed_lo, observed_hi;  // optional CI per bin
  std::vector<double> predictions;               // raw predictions, for the histogram below
};
struct CalibrationPlot {
  std::string title;
  std::vector<CalibrationSeries> series;
  std::vector<std::string> annotation;  // e.g. "slope 0.92, intercept −0.05", "Brier 0.18"
  int histogram_bins = 20;
};
Figure calibration_figure(const CalibrationPlot& plot, FigureSize size = {700, 700});

// ---- Decision curve ----------------------------------------------------------------------
struct NetBenefitCurve {
  std::string label;
  std::vector<double> threshold, net_benefit;
};
struct DecisionPlot {
  std::string title;
  std::vector<NetBenefitCurve> models;
  NetBenefitCurve treat_all;  // treat none is the zero line
};
Figure decision_curve_figure(const DecisionPlot& plot, FigureSize size = {});

// ---- SHAP --------------------------------------------------------------------------------
struct ShapData {
  std::string title;
  std::vector<std::string> features;
  std::vector<std::vector<double>> phi;     // patients × features
  std::vector<std::vector<double>> values;  // patients × features (colour); NaN = missing (grey)
  int max_display = 12;                     // as shap: the rest are summed into one row
  std::string x_label = "SHAP value (impact on model output)";
};
// Feature indices by decreasing mean |φ| (shap's order for beeswarm and bar plots).
std::vector<int> shap_feature_order(const ShapData& data);
Figure shap_beeswarm_figure(const ShapData& data, FigureSize size = {800, 0});
Figure shap_bar_figure(const ShapData& data, FigureSize size = {800, 0});

// ---- Bars (modality contributions) ----------------------------------------------------------
struct BarItem {
  std::string label;
  double value = 0;
  double lo = kNaN, hi = kNaN;  // optional interval
};
struct BarPlot {
  std::string title;
  std::vector<BarItem> items;
  std::string x_label;
};
Figure contribution_figure(const BarPlot& plot, FigureSize size = {700, 0});

// ---- Training curves ---------------------------------------------------------------------
struct TrainingHistory {
  std::string label;
  std::vector<double> epoch, train_loss, val_loss, val_auc;  // val_* may be empty
  int best_epoch = -1;                                       // marked when >= 0
};
Figure training_curves_figure(const std::vector<TrainingHistory>& runs, const std::string& title,
                              FigureSize size = {1000, 420});

// ---- MRI overlay --------------------------------------------------------------------------
struct OverlayBox {
  std::string label;
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // slice pixel edges
};
struct MriOverlay {
  std::string title;
  Raster slice;    // grey values (windowed at the 1st–99th percentile)
  Raster heatmap;  // same size as the slice, in [0, 1]; NaN = not covered
  std::vector<OverlayBox> boxes;
  std::string colorbar_label = "relevance";
  double heat_alpha = 0.55;
  int pixels_per_voxel = 0;  // 0 = fit a ~512 px panel
};
Figure mri_overlay_figure(const MriOverlay& overlay);

}  // namespace cervirisk::report
