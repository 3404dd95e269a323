#include "report/html.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <iterator>
#include <set>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/version.h"
#include "report/html_parts.h"

namespace cervirisk::report {

namespace fs = std::filesystem;

std::string html_escape(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        o += "&amp;";
        break;
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '"':
        o += "&quot;";
        break;
      case '\'':
        o += "&#39;";
        break;
      default:
        o += c;
    }
  }
  return o;
}

std::string base64_encode(const std::string& in) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += k[(v >> 6) & 63];
    out += k[v & 63];
  }
  if (i + 1 == in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += k[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

namespace {

using html::cohort_list;
using html::find_metrics;
using html::fmt3;
using html::fmt_est;
using html::fmt_p;
using html::pct;

std::string img(const Figure& f, const std::string& alt) {
  return "<figure><img alt=\"" + html_escape(alt) + "\" width=\"" + std::to_string(f.width) +
         "\" src=\"data:image/png;base64," + base64_encode(f.png) + "\"><figcaption>" + html_escape(alt) +
         "</figcaption></figure>\n";
}
std::string img_file(const fs::path& p, const std::string& alt) {
  return "<figure><img alt=\"" + html_escape(alt) + "\" src=\"data:image/png;base64," +
         base64_encode(read_file(p)) + "\"><figcaption>" + html_escape(alt) + "</figcaption></figure>\n";
}

// Caption of an example patient's overlay from its file stem "<id>_<kind>" (src/explain
// patient_overlays); other stems are shown as they are.
std::string overlay_caption(const std::string& stem, const std::string& id) {
  static const std::pair<const char*, const char*> kinds[] = {
      {"gradcam_convnext", "Grad-CAM, ConvNeXt last stage (tumour crop)"},
      {"gradcam_convnext_context", "Grad-CAM, ConvNeXt last stage (context crop)"},
      {"gradcam_vit_tumour", "Grad-CAM, ViT tumour path"},
      {"gradcam_vit_context", "Grad-CAM, ViT context path"},
      {"rollout_tumour", "Attention rollout, ViT tumour path"},
      {"rollout_context", "Attention rollout, ViT context path"}};
  for (const auto& [suffix, text] : kinds) {
    const std::string s = std::string("_") + suffix;
    if (stem.size() > s.size() && stem.compare(stem.size() - s.size(), s.size(), s) == 0)
      return std::string(text) + ", " + id;
  }
  return stem;
}

// The figures, keyed by the stem they are written under; shared by html and write_report_figures.
std::vector<std::pair<std::string, Figure>> roc_figures(const ReportData& d) {
  std::vector<std::pair<std::string, Figure>> out;
  for (const auto& cohort : cohort_list(d)) {
    RocPlot plot;
    plot.title = "ROC \u2014 " + cohort + " cohort";
    for (const auto& v : d.variants) {
      auto it = d.predictions.find(v);
      if (it == d.predictions.end()) continue;
      std::vector<double> s;
      std::vector<int> l;
      for (const auto& p : it->second)
        if (p.cohort == cohort && p.has_label() && std::isfinite(p.probability)) {
          s.push_back(p.probability);
          l.push_back(p.label);
        }
      int pos = 0;
      for (int x : l) pos += x;
      if (pos == 0 || pos == static_cast<int>(l.size())) continue;
      RocSeries r = roc_points(s, l, v);
      if (const auto* m = find_metrics(d, v, cohort)) {
        r.auc = m->auc.value;
        r.auc_lo = m->auc.lo;
        r.auc_hi = m->auc.hi;
      }
      plot.series.push_back(std::move(r));
    }
    if (!plot.series.empty()) out.emplace_back("roc_" + cohort, roc_figure(plot, {720, 560}));
  }
  return out;
}

std::vector<std::pair<std::string, Figure>> km_figures(const ReportData& d) {
  std::vector<std::pair<std::string, Figure>> out;
  for (const auto& s : d.survival) {
    if (s.groups.empty()) continue;
    KmPlot plot;
    plot.title = "Recurrence-free survival by " + s.variant + " risk group \u2014 " + s.cohort;
    plot.groups = s.groups;
    if (std::isfinite(s.logrank_p))
      plot.annotation.push_back(s.logrank_p < 0.001 ? std::string("log-rank p < 0.001")
                                                    : fmt::format("log-rank p = {:.3f}", s.logrank_p));
    if (std::isfinite(s.hazard_ratio.value))
      plot.annotation.push_back(std::isfinite(s.hazard_ratio.lo)
                                    ? fmt::format("HR (high vs low) {:.2f} [{:.2f}\u2013{:.2f}]",
                                                  s.hazard_ratio.value, s.hazard_ratio.lo, s.hazard_ratio.hi)
                                    : fmt::format("HR (high vs low) {:.2f}", s.hazard_ratio.value));
    out.emplace_back("km_" + s.cohort + (s.variant == d.reference_variant ? "" : "_" + s.variant),
                     km_figure(plot, {760, 640}));
  }
  return out;
}

std::vector<std::pair<std::string, Figure>> calibration_figures(const ReportData& d) {
  std::vector<std::pair<std::string, Figure>> out;
  for (const auto& c : d.calibration) {
    CalibrationPlot plot;
    plot.title = "Calibration \u2014 " + c.variant + ", " + c.cohort;
    plot.series = {c.curve};
    const bool raw = !c.curve_raw.predicted.empty();
    if (raw) plot.series.push_back(c.curve_raw);
    const std::string after = raw ? "after: " : "";
    if (std::isfinite(c.slope))
      plot.annotation.push_back(after + fmt::format("slope {:.2f}, intercept {:.2f}", c.slope, c.intercept));
    if (std::isfinite(c.brier)) plot.annotation.push_back(after + fmt::format("Brier {:.3f}", c.brier));
    if (std::isfinite(c.hl_p))
      plot.annotation.push_back(after + (c.hl_p < 0.001 ? std::string("Hosmer\u2013Lemeshow p < 0.001")
                                                        : fmt::format("Hosmer\u2013Lemeshow p = {:.3f}", c.hl_p)));
    if (raw && std::isfinite(c.slope_raw))
      plot.annotation.push_back(fmt::format("before: slope {:.2f}, intercept {:.2f}", c.slope_raw, c.intercept_raw));
    out.emplace_back("calibration_" + c.cohort + (c.variant == d.reference_variant ? "" : "_" + c.variant),
                     calibration_figure(plot, {620, 620}));
  }
  for (const auto& s : d.decision) {
    DecisionPlot plot;
    plot.title = "Decision curve \u2014 " + s.variant + ", " + s.cohort;
    plot.models = {s.model};
    if (!s.model_raw.net_benefit.empty()) plot.models.push_back(s.model_raw);
    plot.treat_all = s.treat_all;
    out.emplace_back("dca_" + s.cohort + (s.variant == d.reference_variant ? "" : "_" + s.variant),
                     decision_curve_figure(plot, {620, 500}));
  }
  return out;
}

std::vector<std::pair<std::string, Figure>> explanation_figures(const ReportData& d) {
  std::vector<std::pair<std::string, Figure>> out;
  if (d.clinical_shap) {
    ShapData s = *d.clinical_shap;
    s.title = "Clinical features" +
              (d.clinical_shap_variant.empty() ? std::string() : " (" + d.clinical_shap_variant + ")");
    out.emplace_back("shap_beeswarm", shap_beeswarm_figure(s, {760, 0}));
    out.emplace_back("shap_bar", shap_bar_figure(s, {760, 0}));
  }
  if (!d.modality_importance.empty())
    out.emplace_back("modalities",
                     contribution_figure(BarPlot{"Modality contributions (mean |\u03c6|, group Shapley)",
                                                 d.modality_importance, "mean |Shapley value|"},
                                         {620, 0}));
  return out;
}

const char* kCss = R"(
body{font-family:"DejaVu Sans",Verdana,sans-serif;margin:0 auto;max-width:1240px;padding:0 24px 48px;color:#1a1a1a;line-height:1.45}
h1{font-size:1.7em;margin:28px 0 4px}h2{border-bottom:2px solid #0072b2;padding-bottom:4px;margin-top:40px}
.sub{color:#555;margin:0 0 12px}.banner{background:#fff4d6;border-left:6px solid #e69f00;padding:10px 14px;margin:14px 0;font-weight:bold}
nav a{margin-right:14px;color:#0072b2;text-decoration:none}
table{border-collapse:collapse;margin:12px 0;font-size:.92em}th,td{border:1px solid #ccc;padding:5px 9px;text-align:left;vertical-align:top}
th{background:#eef4f9}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}tr.ref td{background:#f5f9ee;font-weight:bold}
.grid{display:flex;flex-wrap:wrap;gap:14px}figure{margin:0 0 10px}figure img{max-width:100%;height:auto;border:1px solid #ddd}
.grid figure{flex:0 1 600px}.grid figure img{width:100%}.wide{overflow-x:auto}#performance-table{font-size:.84em}
figcaption{font-size:.85em;color:#555}.patient{border:1px solid #ddd;border-radius:6px;padding:10px 14px;margin:14px 0}
code{font-size:.9em}details{margin:8px 0}.note{color:#555;font-size:.9em}
.banner.warn{background:#fde8e4;border-left-color:#d55e00}.banner ul{margin:6px 0 0;font-weight:normal}
.boot{color:#555;font-size:.88em}tr.tripod-no td:last-child{color:#d55e00;font-weight:bold}
tr.tripod-partly td:last-child{color:#8a6d00}tr.tripod-ok td:last-child{color:#009e73}
)";

std::string performance_table(const ReportData& d) {
  const auto cohorts = cohort_list(d);
  const bool holm = std::any_of(d.metrics.begin(), d.metrics.end(),
                                [](const VariantMetrics& m) { return std::isfinite(m.delong_p_holm); });
  std::ostringstream h;
  h << "<div class=\"wide\"><table id=\"performance-table\"><thead><tr><th rowspan=\"2\">Model</th>";
  for (const auto& c : cohorts) {
    const VariantMetrics* any = nullptr;
    for (const auto& v : d.variants)
      if ((any = find_metrics(d, v, c))) break;
    h << "<th colspan=\"" << (holm ? 4 : 3) << "\">" << html_escape(c);
    if (any && any->n > 0) h << " (n = " << any->n << ", events = " << any->events << ")";
    h << "</th>";
  }
  h << "</tr><tr>";
  for (std::size_t i = 0; i < cohorts.size(); ++i)
    h << "<th>AUC [95% CI]</th><th>Se / Sp (%)</th><th>p<sup>*</sup></th>" << (holm ? "<th>p Holm<sup>&dagger;</sup></th>" : "");
  h << "</tr></thead><tbody>\n";
  for (const auto& v : d.variants) {
    h << "<tr" << (v == d.reference_variant ? " class=\"ref\"" : "") << "><td>" << html_escape(v) << "</td>";
    for (const auto& c : cohorts) {
      const auto* m = find_metrics(d, v, c);
      if (!m) {
        h << "<td class=\"num\">\u2013</td><td class=\"num\">\u2013</td><td class=\"num\">\u2013</td>"
          << (holm ? "<td class=\"num\">\u2013</td>" : "");
        continue;
      }
      h << "<td class=\"num\">" << fmt_est(m->auc) << "</td><td class=\"num\">" << pct(m->sensitivity.value)
        << " / " << pct(m->specificity.value) << "</td><td class=\"num\">"
        << (v == d.reference_variant ? "ref." : fmt_p(m->delong_p)) << "</td>";
      if (holm) h << "<td class=\"num\">" << (v == d.reference_variant ? "ref." : fmt_p(m->delong_p_holm)) << "</td>";
    }
    h << "</tr>\n";
  }
  h << "</tbody></table></div>\n<p class=\"note\">AUC with DeLong 95% CI; sensitivity (Se) and specificity "
       "(Sp), in %, at the "
       "threshold fitted on the training cohort; <sup>*</sup>p: paired DeLong test against "
    << html_escape(d.reference_variant) << " on the same patients"
    << (holm ? "; <sup>&dagger;</sup>the same p, Holm-adjusted over the models compared within the cohort" : "")
    << ".</p>\n";
  return h.str();
}

// Variation over training seeds (--seeds N): mean ± sd of AUC, Se, Sp and Harrell's C.
std::string seeds_table(const ReportData& d) {
  if (d.seed_summary.empty()) return {};
  const auto cohorts = cohort_list(d);
  auto find = [&](const std::string& v, const std::string& c) -> const SeedSummary* {
    for (const auto& s : d.seed_summary)
      if (s.variant == v && s.cohort == c) return &s;
    return nullptr;
  };
  auto cell = [](const SeedSummary* s, const char* name, bool percent) {
    if (!s || !s->mean_sd.count(name)) return std::string("\u2013");
    const auto [mean, sd] = s->mean_sd.at(name);
    if (!std::isfinite(mean)) return std::string("\u2013");
    return percent ? fmt::format("{:.1f} \u00b1 {:.1f}", 100 * mean, 100 * sd) : fmt::format("{:.3f} \u00b1 {:.3f}", mean, sd);
  };
  int seeds = 0;
  for (const auto& s : d.seed_summary) seeds = std::max(seeds, s.seeds);
  std::ostringstream h;
  h << "<h3 id=\"seeds\">Variation over " << seeds << " training seeds</h3><div class=\"wide\"><table "
       "id=\"seeds-table\"><thead><tr><th rowspan=\"2\">Model</th>";
  for (const auto& c : cohorts) h << "<th colspan=\"3\">" << html_escape(c) << "</th>";
  h << "</tr><tr>";
  for (std::size_t i = 0; i < cohorts.size(); ++i) h << "<th>AUC</th><th>Se / Sp (%)</th><th>C-index</th>";
  h << "</tr></thead><tbody>\n";
  for (const auto& v : d.variants) {
    h << "<tr><td>" << html_escape(v) << "</td>";
    for (const auto& c : cohorts) {
      const auto* s = find(v, c);
      h << "<td class=\"num\">" << cell(s, "auc", false) << "</td><td class=\"num\">" << cell(s, "sensitivity", true)
        << " / " << cell(s, "specificity", true) << "</td><td class=\"num\">" << cell(s, "c_index", false) << "</td>";
    }
    h << "</tr>\n";
  }
  h << "</tbody></table></div>\n<p class=\"note\">Mean \u00b1 sd (n \u2212 1) over the seeds; each seed "
       "trained from its own initialisation and dropout stream and was evaluated at its own training "
       "threshold. The table above, the figures and the explanations are those of the first seed.</p>\n";
  return h.str();
}

// Table 1 from run/table1.csv. Its "test" column (report/table1.h) becomes a footnote mark on the
// p-value and a footnote naming each test used; "NA" shows as a dash.
std::string table1_section(const ReportData& d) {
  int p_col = -1, test_col = -1;
  for (std::size_t i = 0; i < d.table1_header.size(); ++i) {
    if (d.table1_header[i] == "p") p_col = static_cast<int>(i);
    if (d.table1_header[i] == "test") test_col = static_cast<int>(i);
  }
  struct Test {
    const char* prefix;
    const char* mark;
    const char* text;
  };
  static const Test kTests[] = {
      {"chi-squared", "a",
       "Pearson&rsquo;s chi-squared test on the cohort &times; level table, levels without patients left out "
       "(R&rsquo;s chisq.test; Yates&rsquo; correction for a 2 &times; 2 table)"},
      {"Kruskal-Wallis", "b",
       "Kruskal&ndash;Wallis rank sum test with tie correction (R&rsquo;s kruskal.test)"},
      {"ANOVA", "c", "one-way ANOVA, equal variances (R&rsquo;s oneway.test)"},
  };
  std::vector<bool> used(std::size(kTests), false);
  bool small_expected = false, undefined = false;
  std::ostringstream h;
  h << "<section id=\"table1\"><h2>Table 1. Patient characteristics by cohort</h2><table><thead><tr>";
  for (std::size_t i = 0; i < d.table1_header.size(); ++i)
    if (static_cast<int>(i) != test_col) h << "<th>" << html_escape(d.table1_header[i]) << "</th>";
  h << "</tr></thead><tbody>\n";
  for (const auto& r : d.table1_rows) {
    std::string mark;
    if (test_col >= 0 && static_cast<std::size_t>(test_col) < r.size() && !r[test_col].empty()) {
      const std::string& t = r[test_col];
      for (std::size_t k = 0; k < std::size(kTests); ++k)
        if (t.rfind(kTests[k].prefix, 0) == 0) {
          used[k] = true;
          mark = kTests[k].mark;
        }
      if (t.find("expected < 5") != std::string::npos) {
        small_expected = true;
        mark += mark.empty() ? "*" : ",*";
      }
    }
    h << "<tr>";
    for (std::size_t i = 0; i < r.size(); ++i) {
      if (static_cast<int>(i) == test_col) continue;
      h << (i ? "<td class=\"num\">" : "<td>") << (r[i] == "NA" ? "\u2014" : html_escape(r[i]));
      undefined |= static_cast<int>(i) == p_col && r[i] == "NA";
      if (static_cast<int>(i) == p_col && !r[i].empty() && !mark.empty()) h << "<sup>" << mark << "</sup>";
      h << "</td>";
    }
    h << "</tr>\n";
  }
  h << "</tbody></table>";
  if (p_col >= 0) {
    h << "<p class=\"note\">p compares the cohorts; missing values are left out per characteristic. ";
    for (std::size_t k = 0; k < std::size(kTests); ++k)
      if (used[k]) h << "<sup>" << kTests[k].mark << "</sup>" << kTests[k].text << ". ";
    if (small_expected)
      h << "<sup>*</sup>An expected count is below 5: the chi-squared approximation may be inaccurate. ";
    if (undefined)
      h << "&mdash;: the test is undefined (fewer than two cohorts or levels with data, or all values "
           "equal).";
    h << "</p>";
  }
  h << "</section>\n";
  return h.str();
}

std::string model_card(const ReportData& d) {
  auto get = [&](const std::string& k, const std::string& def) {
    auto it = d.model_card.find(k);
    return it == d.model_card.end() ? def : it->second;
  };
  std::ostringstream h;
  h << "<table><tbody>";
  h << "<tr><th>Model</th><td>" << html_escape(d.reference_variant)
    << ": multi-scale MRI (ConvNeXt tumour crop + dual-path ViT tumour/context crops), radiology-report BERT "
       "and clinical "
       "encoder, fused into a recurrence logit.</td></tr>";
  h << "<tr><th>Intended use</th><td>"
    << html_escape(get(
           "intended_use",
           "Research use: estimating the risk of postoperative recurrence in operable cervical cancer from "
           "preoperative MRI, the radiology report and clinical data, for study and prospective validation. "
           "It is not a medical device and must not guide the treatment of individual patients."))
    << "</td></tr>";
  std::string data_text = get("data", "");
  if (data_text.empty()) {
    std::ostringstream s;
    for (const auto& c : cohort_list(d))
      if (const auto* m = find_metrics(d, d.reference_variant, c))
        s << c << ": " << m->n << " patients, " << m->events << " recurrences; ";
    data_text = s.str();
    if (d.synthetic) data_text += "all data are SYNTHETIC (simulated images, reports and clinical values).";
  }
  h << "<tr><th>Data</th><td>" << html_escape(data_text) << "</td></tr>";
  if (auto it = d.models.find(d.reference_variant); it != d.models.end()) {
    // Where each encoder's weights started (model.json "initialisation"; older bundles have none).
    h << "<tr><th>Initialisation</th><td>";
    if (it->second.initialisation.empty()) h << "Every encoder from random weights.";
    for (const auto& i : it->second.initialisation) {
      h << "<b>" << html_escape(i.part) << "</b>: ";
      if (!i.file.empty())
        h << "<code>" << html_escape(i.file) << "</code> (<code>" << html_escape(i.key) << "</code>, sha256 <code>"
          << html_escape(i.sha256.substr(0, 16)) << "&hellip;</code>, " << i.tensors << " tensors)";
      else
        h << "<code>" << html_escape(i.key) << "</code>";
      if (!i.note.empty()) h << "; " << html_escape(i.note);
      h << "<br>";
    }
    h << "</td></tr>";
  }
  h << "<tr><th>Metrics (95% CI)</th><td>";
  for (const auto& c : cohort_list(d))
    if (const auto* m = find_metrics(d, d.reference_variant, c)) {
      h << "<b>" << html_escape(c) << "</b>: AUC " << fmt_est(m->auc);
      if (std::isfinite(m->sensitivity.value))
        h << ", Se " << fmt_est(m->sensitivity) << ", Sp " << fmt_est(m->specificity);
      if (std::isfinite(m->c_index.value)) h << ", C-index " << fmt_est(m->c_index);
      if (std::isfinite(m->brier.value)) h << ", Brier " << fmt3(m->brier.value);
      h << "<br>";
    }
  h << "</td></tr>";
  std::string lim =
      get("limitations",
          "Retrospective design; thresholds and risk cut-points were fitted on the training cohort and may "
          "not transfer to other scanners, protocols or populations; the external cohort is one centre; "
          "performance on the training cohort is optimistic; explanations (SHAP, attention rollout, "
          "Grad-CAM) describe the model, not causal effects.");
  h << "<tr><th>Limitations</th><td>";
  if (d.synthetic)
    h << "<b>These results come from synthetic data and say nothing about clinical performance.</b> ";
  h << html_escape(lim) << " See also <a href=\"#limitations\">Limitations</a>.</td></tr>";
  h << "</tbody></table>\n";
  return h.str();
}

}  // namespace

std::string render_report_html(const ReportData& d) {
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    << "<title>" << html_escape(d.title) << "</title><style>" << kCss << "</style></head><body>\n";
  h << "<header><h1>" << html_escape(d.title) << "</h1><p class=\"sub\">Study report generated by cervirisk "
    << html_escape(version()) << " (" << html_escape(git_revision()) << ")</p>";
  if (d.synthetic)
    h << "<div class=\"banner\" id=\"synthetic\">Synthetic data: every patient, image, report and outcome in "
         "this report "
         "is simulated. The numbers demonstrate the pipeline, not clinical performance.</div>";
  h << html::warnings_banner(d);
  h << "<nav><a href=\"#performance\">Performance</a>";
  if (d.design) h << "<a href=\"#design\">Design</a>";
  if (!d.flow.empty() || !d.follow_up.empty()) h << "<a href=\"#participants\">Participants</a>";
  h << "<a href=\"#table1\">Table 1</a><a href=\"#roc\">ROC</a>"
       "<a href=\"#km\">Survival</a><a href=\"#explanations\">Explanations</a><a "
       "href=\"#calibration\">Calibration</a>";
  if (!d.centers.empty()) h << "<a href=\"#centers\">Centres</a>";
  h << "<a href=\"#training\">Training</a><a href=\"#tripod\">TRIPOD+AI</a><a href=\"#limitations\">Limitations</a>"
       "<a href=\"#manifest\">Manifest</a><a href=\"#model-card\">Model card</a></nav></header>\n";

  h << "<section id=\"performance\"><h2>Discrimination by model and cohort</h2>" << performance_table(d)
    << html::threshold_table(d) << seeds_table(d) << "</section>\n";
  h << html::design_section(d) << html::participants_section(d);

  if (!d.table1_header.empty()) h << table1_section(d);

  auto rocs = roc_figures(d);
  if (!rocs.empty()) {
    h << "<section id=\"roc\"><h2>ROC curves</h2><div class=\"grid\">";
    for (const auto& [stem, f] : rocs) h << img(f, "ROC curves, " + stem.substr(4) + " cohort");
    h << "</div></section>\n";
  }
  auto kms = km_figures(d);
  if (!kms.empty()) {
    h << "<section id=\"km\"><h2>Recurrence-free survival by risk group</h2><p class=\"note\">Risk groups "
         "split at the "
         "cut-point fitted on the training cohort; shaded: 95% CI; +: censored.</p><div class=\"grid\">";
    for (const auto& [stem, f] : kms) h << img(f, "Kaplan\u2013Meier, " + stem.substr(3));
    h << "</div>" << html::survival_tables(d) << "</section>\n";
  }
  h << html::td_auc_section(d);

  auto ex = explanation_figures(d);
  if (!ex.empty() || !d.examples.empty()) {
    h << "<section id=\"explanations\"><h2>Explanations</h2><div class=\"grid\">";
    for (const auto& [stem, f] : ex)
      h << img(f, stem == "shap_beeswarm" ? "SHAP values of the clinical features"
                  : stem == "shap_bar"    ? "Mean |SHAP| of the clinical features"
                                          : "Modality contributions");
    h << "</div>\n";
    if (std::any_of(d.examples.begin(), d.examples.end(), [](const runfolder::ExampleRecord& p) { return !p.images.empty(); }))
      h << "<p class=\"note\">Example patients: overlays on the MRI slice of largest tumour area (boxes: the "
           "model's tumour and context crops), min\u2013max scaled; Grad-CAM of the recurrence logit on ConvNeXt's "
           "last stage and on each ViT path's tokens, attention rollout of each ViT path. A map without spatial "
           "variation (e.g. a Grad-CAM without positive evidence) is not shown.</p>\n";
    for (const auto& p : d.examples) {
      h << "<div class=\"patient\"><h3>" << html_escape(p.id) << " \u2014 " << html_escape(p.cohort)
        << " cohort, " << html_escape(p.kind) << "</h3><p>Predicted risk " << fmt3(p.probability) << " ("
        << html_escape(p.variant) << "), observed "
        << (p.label == 1   ? "recurrence"
            : p.label == 0 ? "no recurrence"
                           : "unknown")
        << ".</p><div class=\"grid\">";
      if (!p.modalities.empty()) {
        BarPlot bars{"Modality contributions (" + p.id + ")", {}, "Shapley value"};
        for (const auto& m : p.modalities) bars.items.push_back({m.name, m.phi});
        h << img(contribution_figure(bars, {520, 0}), "Group Shapley values of the modalities, " + p.id);
      }
      for (const auto& im : p.images) h << img_file(im, overlay_caption(im.stem().string(), p.id));
      h << "</div>";
      if (!p.clinical.empty()) {
        h << "<table><thead><tr><th>Clinical feature</th><th>Value</th><th>SHAP</th></tr></thead><tbody>";
        for (const auto& f : p.clinical)
          h << "<tr><td>" << html_escape(f.name) << "</td><td>" << html_escape(f.value)
            << "</td><td class=\"num\">" << fmt::format("{:+.3f}", f.phi) << "</td></tr>";
        h << "</tbody></table>";
      }
      h << "</div>\n";
    }
    h << "</section>\n";
  }

  auto cal = calibration_figures(d);
  const std::string cal_tables = html::calibration_tables(d);
  if (!cal.empty() || !cal_tables.empty()) {
    h << "<section id=\"calibration\"><h2>Calibration and clinical usefulness</h2><div class=\"grid\">";
    for (const auto& [stem, f] : cal) {
      const bool is_cal = stem.rfind("calibration_", 0) == 0;
      h << img(f, std::string(is_cal ? "Calibration, " : "Decision curve, ") + stem.substr(is_cal ? 12 : 4));
    }
    h << "</div>" << cal_tables << "</section>\n";
  }
  h << html::centers_section(d) << html::incremental_section(d);
  if (!d.training.empty()) {
    h << "<section id=\"training\"><h2>Training</h2>"
      << img(training_curves_figure(d.training, "Loss and validation AUC per epoch", {1000, 420}),
             "Training curves (dotted: selected epoch)")
      << "</section>\n";
  }

  h << html::tripod_section(d) << html::limitations_section(d);
  h << "<section id=\"manifest\"><h2>Run manifest</h2><table><tbody>";
  for (const auto& [k, v] : d.manifest)
    h << "<tr><th>" << html_escape(k) << "</th><td><code>" << html_escape(v) << "</code></td></tr>";
  h << "</tbody></table>";
  if (!d.data_hashes.empty()) {
    h << "<details><summary>Input files (" << d.data_hashes.size() << ", SHA-256)</summary><table><tbody>";
    for (const auto& [k, v] : d.data_hashes)
      h << "<tr><td>" << html_escape(k) << "</td><td><code>" << html_escape(v) << "</code></td></tr>";
    h << "</tbody></table></details>";
  }
  h << "</section>\n";
  h << "<section id=\"model-card\"><h2>Model card</h2>" << model_card(d) << "</section>\n";
  h << "</body></html>\n";
  return h.str();
}

void write_report_html(const ReportData& data, const fs::path& file) {
  write_file_atomic(file, render_report_html(data));
}

std::vector<std::string> write_report_figures(const ReportData& d, const fs::path& dir) {
  ensure_writable_dir(dir);
  std::vector<std::string> stems;
  auto put = [&](const std::vector<std::pair<std::string, Figure>>& v) {
    for (const auto& [stem, f] : v) {
      write_figure(f, dir / stem);
      stems.push_back(stem);
    }
  };
  put(roc_figures(d));
  put(km_figures(d));
  put(calibration_figures(d));
  put(explanation_figures(d));
  if (!d.training.empty()) {
    write_figure(training_curves_figure(d.training, "Loss and validation AUC per epoch"), dir / "training");
    stems.push_back("training");
  }
  return stems;
}

}  // namespace cervirisk::report
