#include "report/checklist.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "report/html_parts.h"

namespace cervirisk::report {

const char* coverage_text(Coverage c) {
  switch (c) {
    case Coverage::kAddressed:
      return "addressed";
    case Coverage::kPartly:
      return "partly addressed";
    case Coverage::kNotAddressed:
      break;
  }
  return "not addressed";
}

namespace {

using html::fmt_num;

// What the run folder holds, as the checklist and the limitations ask about it.
struct Present {
  bool design = false, table1 = false, table1_p = false, flow = false, follow_up = false, centers = false;
  bool calibration = false, calibration_raw = false, decision = false, ci = false, bootstrap = false;
  bool td_auc = false, survival = false, incremental = false, explanations = false, model_json = false;
  bool bundle = false, preprocessing = false, centre_column = false, recalibrated = false;
  std::string recalibration;  // the method (design, else the reference's model.json); "" = unknown
};

bool any_variant_has(const ReportData& d, const std::string& file) {
  return std::any_of(d.variants.begin(), d.variants.end(),
                     [&](const std::string& v) { return d.files.count("models/" + v + "/" + file) > 0; });
}

Present present(const ReportData& d) {
  Present p;
  p.design = d.design.has_value();
  p.table1 = !d.table1_header.empty();
  p.table1_p = std::find(d.table1_header.begin(), d.table1_header.end(), "p") != d.table1_header.end();
  p.flow = !d.flow.empty();
  p.follow_up = !d.follow_up.empty();
  p.centers = !d.centers.empty();
  p.decision = !d.decision.empty();
  p.survival = !d.survival.empty();
  p.calibration = !d.calibration.empty();
  for (const auto& m : d.metrics) {
    p.calibration |= std::isfinite(m.calibration_slope.value) || std::isfinite(m.brier.value);
    p.calibration_raw |= m.calibration_raw.has_value();
    p.ci |= std::isfinite(m.auc.lo);
    p.bootstrap |= m.bootstrap.has_value();
    p.td_auc |= !m.td_auc.empty() || m.auc_ipcw.has_value();
    p.incremental |= m.incremental.has_value();
  }
  for (const auto& c : d.calibration) p.calibration_raw |= !c.curve_raw.predicted.empty();
  p.explanations = d.clinical_shap.has_value() || !d.modality_importance.empty() || !d.examples.empty();
  p.model_json = !d.models.empty();
  p.preprocessing = any_variant_has(d, "preprocessing.json");
  p.bundle = any_variant_has(d, "weights.safetensors") && p.model_json;
  for (const auto& [v, rows] : d.predictions)
    for (const auto& r : rows) p.centre_column |= !r.center.empty();
  if (d.design) {
    p.recalibration = d.design->recalibration;
  } else if (auto it = d.models.find(d.reference_variant); it != d.models.end()) {
    p.recalibration = it->second.recalibration.method;
  }
  p.recalibrated = !p.recalibration.empty() && p.recalibration != "none";
  return p;
}

Coverage when(bool yes, Coverage otherwise = Coverage::kNotAddressed) {
  return yes ? Coverage::kAddressed : otherwise;
}

std::string endpoint_text(const runfolder::Design& g) {
  if (g.endpoint == "horizon")
    return "recurrence within " + fmt_num(g.horizon_months) +
           " months of surgery (data.endpoint = horizon); patients censored earlier without a recurrence "
           "have no "
           "binary outcome and are excluded from the binary statistics";
  return "recurrence observed during follow-up (data.endpoint = event)";
}

std::string selection_text(const runfolder::Design& g) {
  if (g.selection == "split")
    return "the training epoch chosen on a held-out " + fmt_num(100 * g.validation_fraction) +
           "% of the training cohort (train.selection = split)";
  if (g.selection == "cv")
    return "the training epoch chosen by " + std::to_string(g.folds) +
           "-fold cross-validation within the training cohort (train.selection = cv)";
  return "the training epoch chosen on the internal cohort (train.selection = internal)";
}

}  // namespace

std::vector<TripodItem> tripod_ai_items(const ReportData& d) {
  const Present p = present(d);
  const runfolder::Design* g = d.design ? &*d.design : nullptr;
  const Coverage yes = Coverage::kAddressed, partly = Coverage::kPartly, no = Coverage::kNotAddressed;
  const std::string manuscript = "not in the run folder: the manuscript's";
  std::vector<TripodItem> items;
  auto add = [&](std::string item, std::string topic, std::string where, std::string section, Coverage c) {
    items.push_back({std::move(item), std::move(topic), std::move(where), std::move(section), c});
  };

  add("1\u20132", "Title and abstract: development and validation, target population, outcome, key results",
      "the report's title; Performance, Participants and follow-up give the abstract's numbers (n, events, "
      "AUC "
      "with 95% CI per cohort); the title and abstract themselves are the manuscript's",
      "performance", partly);
  add("3a\u20134", "Background, target population, intended use and users, objectives",
      "Model card (intended use); the rationale and objectives are the manuscript's", "model-card", partly);

  // --- methods: data, participants, outcome, predictors
  {
    std::string w = p.table1 ? "Table 1 (cohorts)" : "";
    if (d.files.count("cohorts.csv"))
      w += std::string(w.empty() ? "" : "; ") + "cohorts.csv (patients per cohort)";
    if (!d.data_hashes.empty())
      w += std::string(w.empty() ? "" : "; ") + "run.json input hashes (Run manifest)";
    const bool synthetic = d.synthetic || (g && g->synthetic);
    if (synthetic)
      w += std::string(w.empty() ? "" : "; ") + "all data simulated (cervirisk synth)";
    else if (!w.empty())
      w += "; the data's origin and representativeness are the manuscript's";
    add("5a", "Source of data, separately for development and evaluation", w.empty() ? manuscript : w,
        p.table1 ? "table1" : "manifest", w.empty() ? no : (synthetic ? yes : partly));
  }
  add("5b", "Dates of accrual and end of follow-up", manuscript + " (no dates are stored)", "", no);
  add("6a", "Setting: number and location of centres",
      p.centers ? "Per-centre subgroups (n and events per centre); predictions/<variant>.csv column center"
      : p.centre_column ? "predictions/<variant>.csv column center (no per-centre statistics: metrics.json "
                          "centers is empty)"
                        : "no centre is recorded",
      p.centers ? "centers" : "", p.centers ? yes : (p.centre_column ? partly : no));
  {
    std::string w = p.flow ? "Participants and follow-up (per cohort: analysed, events" : "";
    if (p.flow) w += g && g->endpoint == "horizon" ? ", excluded by the horizon endpoint)" : ")";
    if (d.files.count("cohorts.csv")) w += std::string(w.empty() ? "" : "; ") + "cohorts.csv";
    if (!w.empty()) w += "; the eligibility criteria are the manuscript's";
    add("6b", "Eligibility criteria and exclusions", w.empty() ? manuscript : w, "participants",
        w.empty() ? no : partly);
  }
  add("6c", "Treatments received and how they were handled", manuscript, "", no);
  add("7", "Data preparation and quality checks",
      p.preprocessing
          ? "models/<variant>/preprocessing.json (the feature preprocessing, fitted on the training cohort)"
          : "no preprocessing.json in the run folder",
      "", when(p.preprocessing));
  add("8a", "Outcome definition, time horizon and how it was assessed",
      g ? "Study design: " + endpoint_text(*g) + "; how recurrence was assessed is the manuscript's"
        : "not addressed: metrics.json has no design",
      g ? "design" : "", g ? partly : no);
  add("8b\u2013c", "Outcome assessors and blinding", manuscript, "", no);
  {
    std::string w;
    if (p.table1) w = "Table 1 (clinical characteristics)";
    if (p.preprocessing)
      w += std::string(w.empty() ? "" : "; ") + "models/<variant>/preprocessing.json (predictor encoding)";
    if (d.clinical_shap) w += std::string(w.empty() ? "" : "; ") + "Explanations (clinical features)";
    if (!w.empty()) w += "; MRI and the radiology report as in the Model card";
    add("9a\u2013b", "Predictors: choice, definitions, timing of measurement", w.empty() ? manuscript : w,
        p.table1 ? "table1" : "", w.empty() ? no : partly);
  }
  add("9c", "Predictor assessors (MRI readers, report authors)", manuscript, "", no);
  add("10", "Sample size and number of events",
      p.flow ? "Participants and follow-up (n and events per cohort); Limitations (the \u2265 100 events "
               "guidance for "
               "validation, Collins et al. 2016)"
             : "no cohort counts in metrics.json",
      "participants", when(p.flow));
  {
    std::string w;
    if (g)
      w = "Participants and follow-up (patients without a follow-up time, left out of the survival "
          "statistics)";
    if (p.table1)
      w += std::string(w.empty() ? "" : "; ") + "Table 1 (missing values left out per characteristic)";
    if (p.preprocessing)
      w += std::string(w.empty() ? "" : "; ") +
           "preprocessing.json (imputation fitted on the training cohort)";
    add("11", "Missing data", w.empty() ? "not addressed: no missing-data counts in the run folder" : w,
        "participants", w.empty() ? no : partly);
  }

  // --- analysis
  add("12a", "How the data were used: development, model selection, evaluation",
      g ? "Study design: " + selection_text(*g) + "; evaluation on the cohorts of the Performance table"
      : p.model_json ? "models/<variant>/model.json (selection)"
                     : "not addressed: neither metrics.json design nor model.json",
      g ? "design" : "", when(g || p.model_json));
  add("12b", "Predictor handling (scaling, encoding, transformations)",
      p.preprocessing ? "models/<variant>/preprocessing.json" : "no preprocessing.json in the run folder", "",
      when(p.preprocessing));
  {
    std::string w = "Model card (architecture)";
    if (p.model_json) w += "; models/<variant>/model.json (preset, architecture, selected epoch, selection)";
    if (!d.training.empty()) w += "; Training (loss and validation AUC per epoch)";
    if (d.files.count("config.toml")) w += "; config.toml (every setting)";
    if (g) w += "; Study design (" + selection_text(*g) + ")";
    add("12c", "Model type, building steps, hyperparameter tuning, internal validation", w,
        d.training.empty() ? "model-card" : "training", p.model_json ? yes : partly);
  }
  add("12d", "Heterogeneity across centres",
      p.centers ? "Per-centre subgroups (AUC and calibration-in-the-large per centre)"
                : "not addressed: metrics.json centers is empty",
      p.centers ? "centers" : "", when(p.centers));
  {
    std::string w = "Performance (AUC with DeLong CI; paired DeLong p";
    w += std::any_of(d.metrics.begin(), d.metrics.end(),
                     [](const VariantMetrics& m) { return std::isfinite(m.delong_p_holm); })
             ? ", Holm-adjusted)"
             : ")";
    if (p.td_auc) w += "; Time-dependent AUC";
    if (p.survival) w += "; Kaplan\u2013Meier by risk group";
    add("12e, 23a", "Evaluation measures and results: discrimination", w, "performance", yes);
  }
  add("12e, 23a", "Evaluation measures and results: calibration",
      p.calibration ? "Calibration and clinical usefulness (calibration plots; intercept, slope, Brier, "
                      "Hosmer\u2013Lemeshow)"
                    : "not addressed: metrics.json has no calibration",
      p.calibration ? "calibration" : "", when(p.calibration));
  add("12e, 23a", "Clinical utility: decision curve analysis",
      p.decision ? "Calibration and clinical usefulness (decision curves; metrics.json decision_curve)"
                 : "not addressed: metrics.json decision_curve is empty",
      p.decision ? "calibration" : "", when(p.decision));
  add("12e, 23a", "Comparison of models: incremental value over the clinical model",
      p.incremental
          ? "Incremental value over the clinical model (NRI, IDI, likelihood-ratio test); paired DeLong p"
          : "paired DeLong p only (metrics.json has no incremental)",
      p.incremental ? "incremental" : "performance", p.incremental ? yes : partly);
  add("12f", "Model updating (recalibration)",
      p.recalibrated ? "Calibration before and after recalibration (eval.recalibration = " + p.recalibration +
                           "); models/<variant>/model.json recalibration"
      : p.recalibration == "none" ? "not addressed: eval.recalibration = none"
                                  : "not addressed: no recalibration recorded",
      p.recalibrated ? "recalibration" : "", when(p.recalibrated));
  add("12g", "How predictions are calculated",
      p.bundle ? "models/<variant>/ (model.json, weights.safetensors, preprocessing.json; cervirisk predict)"
               : "not addressed: no model bundle in the run folder",
      "", when(p.bundle));
  add("13", "Class imbalance",
      g ? "Study design (train.class_balance = " + g->class_balance + ", train.loss = " + g->loss +
              "; the probabilities recalibrated afterwards: " +
              (p.recalibrated ? p.recalibration : std::string("no")) + ")"
        : "not addressed: metrics.json has no design",
      g ? "design" : "", when(g != nullptr));
  add("14", "Fairness",
      p.centers ? "Per-centre subgroups only; no sociodemographic subgroups are in the run folder"
                : "not addressed: no subgroup statistics",
      p.centers ? "centers" : "", p.centers ? partly : no);
  add("15", "Model output, thresholds and how they were chosen",
      "Performance (probabilities; Se/Sp/PPV/NPV at the threshold fitted on the training cohort" +
          (g ? ", eval.threshold = " + g->threshold : std::string()) +
          "); Kaplan\u2013Meier (risk groups at the training cut-point" +
          (g ? ", eval.cutpoint = " + g->cutpoint : std::string()) + ")",
      "threshold-table", yes);
  add("16", "Differences between development and evaluation data",
      p.table1_p ? std::string("Table 1 (p across cohorts)") + (p.follow_up ? "; follow-up per cohort" : "")
      : p.table1 ? "Table 1 (without tests)"
      : p.follow_up ? "follow-up per cohort only"
                    : "not addressed: no Table 1",
      p.table1 ? "table1" : "participants", p.table1_p ? yes : (p.table1 || p.follow_up ? partly : no));
  add("17", "Ethics approval and consent", manuscript, "", no);
  add("18a\u2013d", "Funding, conflicts of interest, protocol, registration", manuscript, "", no);
  {
    const bool synthetic = d.synthetic || (g && g->synthetic);
    add("18e", "Data availability",
        synthetic ? "simulated data: regenerated by cervirisk synth from the seed in the Run manifest"
        : !d.data_hashes.empty() ? "the Run manifest's input hashes identify the data; where they can be "
                                   "obtained is the manuscript's"
                                 : manuscript,
        "manifest", synthetic ? yes : (d.data_hashes.empty() ? no : partly));
  }
  {
    bool rev = false;
    for (const auto& [k, v] : d.manifest) rev |= k == "git_revision" || k == "cervirisk_version";
    add("18f", "Code availability",
        rev ? "Run manifest (cervirisk version, git revision, config hash); where the code is published is "
              "the manuscript's"
            : "not addressed: run.json has no version",
        "manifest", rev ? partly : no);
  }
  add("19", "Patient and public involvement", manuscript, "", no);

  // --- results
  add("20a", "Participant flow: n with and without the outcome, exclusions, follow-up",
      p.follow_up ? "Participants and follow-up (n, events, exclusions per cohort; median follow-up by "
                    "reverse Kaplan\u2013Meier)"
      : p.flow    ? "Participants and follow-up (n, events, exclusions; no follow-up summary)"
                  : "not addressed",
      "participants", p.follow_up && p.flow ? yes : (p.flow ? partly : no));
  add("20b", "Characteristics per cohort (predictors, outcome, missing data)",
      p.table1 ? "Table 1" : "not addressed: no table1.csv", p.table1 ? "table1" : "", when(p.table1));
  add("20c", "Development vs evaluation: distribution of predictors and outcome",
      p.table1_p ? "Table 1 (p across cohorts)"
      : p.table1 ? "Table 1 (without tests)"
                 : "not addressed: no table1.csv",
      p.table1 ? "table1" : "", p.table1_p ? yes : (p.table1 ? partly : no));
  {
    std::string w = p.flow ? "Participants and follow-up (n and events per cohort)" : "";
    if (p.model_json)
      w += std::string(w.empty() ? "" : "; ") +
           "Study design (model-selection and recalibration samples from model.json)";
    add("21", "Participants and events in each analysis", w.empty() ? "not addressed" : w, "participants",
        p.flow && p.model_json ? yes : (w.empty() ? no : partly));
  }
  add("22", "Full model specification",
      p.bundle ? "models/<variant>/ (the complete bundle: model.json, weights.safetensors, "
                 "preprocessing.json, clinical.json, "
                 "vocabulary); whether it is shared is the manuscript's"
               : "not addressed: no model bundle in the run folder",
      "", p.bundle ? partly : no);
  {
    std::string w = p.ci ? "Performance (AUC with 95% CI)" : "";
    if (p.bootstrap) w += "; Classification at the training threshold (exact and bootstrap CIs)";
    if (p.td_auc) w += "; Time-dependent AUC with CIs";
    if (p.centers) w += "; Per-centre subgroups";
    add("23a", "Model performance with confidence intervals, including subgroups",
        w.empty() ? "not addressed: no CIs" : w, "performance",
        p.ci ? (p.bootstrap && p.centers ? yes : partly) : no);
  }
  add("23b", "Heterogeneity of performance across centres",
      p.centers ? "Per-centre subgroups" : "not addressed: metrics.json centers is empty",
      p.centers ? "centers" : "", when(p.centers));
  add("24", "Model updating results: the updated model and its performance",
      p.calibration_raw ? "Calibration before and after recalibration (table and figures); the maps in "
                          "models/<variant>/model.json"
                        : "not addressed: no statistics before recalibration in metrics.json",
      p.calibration_raw ? "recalibration" : "", when(p.calibration_raw));
  add("25", "Interpretation, including model explanations",
      p.explanations ? "Explanations (SHAP of the clinical features, modality Shapley values, Grad-CAM and "
                       "attention rollout "
                       "of example patients); the interpretation is the manuscript's"
                     : "not addressed: no explanations in the run folder",
      p.explanations ? "explanations" : "", p.explanations ? partly : no);
  add("26", "Limitations", "Limitations (generated from the run's design and results)", "limitations", yes);
  add("27a\u2013c", "Usability: poor-quality or missing inputs, users, next steps", manuscript, "", no);
  return items;
}

std::vector<std::string> study_limitations(const ReportData& d) {
  const runfolder::Design* g = d.design ? &*d.design : nullptr;
  std::vector<std::string> out;
  // Model selection.
  const runfolder::ModelInfo* ref = nullptr;
  if (auto it = d.models.find(d.reference_variant); it != d.models.end()) ref = &it->second;
  const std::string selection = g ? g->selection : ref ? ref->selection.mode : "";
  if (selection == "internal") {
    out.push_back(
        "Model selection used the internal cohort (train.selection = internal): the internal cohort chose "
        "the "
        "training epoch, so its AUC and every other internal statistic are optimistic and are not an "
        "independent "
        "validation; only the external cohort's results are.");
  } else if (selection == "split") {
    std::string s =
        "The training epoch was chosen on a held-out part of the training cohort (train.selection = split";
    if (g && std::isfinite(g->validation_fraction)) s += ", " + fmt_num(100 * g->validation_fraction) + "%";
    if (ref && ref->selection.validation_n > 0)
      s += fmt::format(": {} patients, {} events", ref->selection.validation_n,
                       ref->selection.validation_events);
    s += "); the internal and external cohorts played no part in it. ";
    if (ref && ref->selection.validation_events > 0 && ref->selection.validation_events < 20)
      s += "With so few validation events the choice of epoch is noisy. ";
    out.push_back(s);
  } else if (selection == "cv") {
    out.push_back(
        "The training epoch was chosen by " +
        std::to_string(g ? g->folds : static_cast<int>(ref->selection.folds)) +
        "-fold cross-validation within the training cohort (train.selection = cv); the internal and "
        "external cohorts played no part in it.");
  } else {
    out.push_back(
        "How the training epoch was chosen is not recorded (metrics.json has no design): if a validation "
        "cohort chose it, that cohort's results are optimistic.");
  }
  // Synthetic data.
  if (d.synthetic || (g && g->synthetic))
    out.push_back(
        "All data are synthetic (simulated images, reports, clinical values and outcomes): the numbers "
        "demonstrate the pipeline and say nothing about clinical performance.");
  // Seed-to-seed spread.
  if (!d.seed_summary.empty()) {
    int seeds = 0;
    std::string s;
    for (const auto& c : html::cohort_list(d))
      for (const auto& r : d.seed_summary)
        if (r.variant == d.reference_variant && r.cohort == c && r.mean_sd.count("auc")) {
          seeds = std::max(seeds, r.seeds);
          s += fmt::format("{}{} {}", s.empty() ? "" : ", ", c, html::fmt3(r.mean_sd.at("auc").second));
        }
    if (!s.empty())
      out.push_back(
          fmt::format("Training is not deterministic across seeds: over {} training seeds the standard "
                      "deviation of {}'s AUC was {}. The tables show the first seed.",
                      seeds, d.reference_variant, s));
    else
      out.push_back("Several training seeds were run, but the seed-to-seed spread of " + d.reference_variant +
                    "'s AUC is not in metrics.json.");
  } else {
    out.push_back("A single training seed; the seed-to-seed spread is not reported.");
  }
  // Events per cohort (Collins, Ogundimu & Altman 2016: at least 100 events for validation).
  for (const auto& f : d.flow) {
    if (f.events >= 100) continue;
    if (f.cohort == "train")
      out.push_back(
          fmt::format("The training cohort has {} events among {} patients: with few events per "
                      "parameter the model may be overfitted, which the validation cohorts reveal.",
                      f.events, f.n));
    else
      out.push_back(
          fmt::format("The {} cohort has {} events among {} patients, fewer than the at least 100 events "
                      "usually recommended for validating a prediction model (Collins, Ogundimu & Altman, "
                      "Stat Med 2016;35:214\u2013226): its estimates are imprecise (wide confidence "
                      "intervals) and its calibration is poorly determined.",
                      f.cohort, f.events, f.n));
  }
  // Recalibration.
  {
    const std::string method = g ? g->recalibration : ref ? ref->recalibration.method : "";
    std::string s;
    if (method.empty()) {
      s = "Whether the probabilities were recalibrated is not recorded.";
    } else if (method == "none") {
      s = "The model's probabilities were not recalibrated (eval.recalibration = none): its calibration is "
          "that of "
          "the training loss, which a weighted loss or oversampling distorts.";
    } else {
      s = "The probabilities were recalibrated (eval.recalibration = " + method +
          "): p = sigmoid(a + b \u00b7 logit)";
      if (ref)
        s += fmt::format(" with a = {:.3f}, b = {:.3f} for {}, fitted on the {} ({} patients, {} events)",
                         ref->recalibration.intercept, ref->recalibration.slope, d.reference_variant,
                         ref->recalibration.fitted_on, ref->recalibration.n, ref->recalibration.events);
      s += "; the statistics after recalibration depend on this map, which was fitted on the training cohort "
           "only. ";
      if (ref && !ref->recalibration.note.empty()) s += "Note: " + ref->recalibration.note + ". ";
    }
    out.push_back(s);
  }
  // The horizon endpoint's exclusions and missing follow-up times.
  {
    std::string s;
    for (const auto& f : d.flow)
      if (f.excluded > 0) s += fmt::format("{}{} {}", s.empty() ? "" : ", ", f.cohort, f.excluded);
    if (!s.empty())
      out.push_back(
          "Patients censored before the " + (g ? fmt_num(g->horizon_months) + "-month " : std::string()) +
          "horizon without a recurrence have no binary outcome and were left out of the binary statistics "
          "(" +
          s +
          "); if their censoring depends on their risk, the AUC and calibration are biased. The "
          "IPCW AUC at the horizon does not leave them out.");
    std::string m;
    for (const auto& f : d.flow)
      if (f.missing_time > 0) m += fmt::format("{}{} {}", m.empty() ? "" : ", ", f.cohort, f.missing_time);
    if (!m.empty())
      out.push_back("Patients without a recorded follow-up time were left out of every survival statistic (" +
                    m + ").");
  }
  // Follow-up differences and the other design warnings.
  for (const auto& w : d.warnings) out.push_back("Design warning: " + w);
  // What is always so.
  out.push_back(
      "The classification threshold and the risk-group cut-point were fitted on the training cohort and "
      "may not transfer to other scanners, protocols or populations; the explanations describe the model, "
      "not causal effects.");
  return out;
}

}  // namespace cervirisk::report
