// The study runner (study.h).
#include "train/study.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <Eigen/Dense>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <numeric>
#include <set>
#include <sstream>

#include "core/atomic_file.h"
#include "core/config.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/random.h"
#include "core/run_manifest.h"
#include "core/torch/runtime.h"
#include "data/cohort.h"
#include "imaging/cache.h"
#include "io/nifti.h"
#include "io/volume.h"
#include "models/mlm.h"
#include "models/registry.h"
#include "models/weights.h"
#include "report/html.h"
#include "report/report_data.h"
#include "report/figures.h"
#include "report/run_files.h"
#include "report/table1.h"
#include "stats/calibration.h"
#include "stats/cindex.h"
#include "stats/cox.h"
#include "stats/cutpoint.h"
#include "stats/dca.h"
#include "stats/delong.h"
#include "stats/km.h"
#include "stats/logrank.h"
#include "stats/roc.h"
#include "text/vocab_builder.h"
#include "train/options.h"
#include "train/study_features.h"
#include "train/trainer.h"

namespace cervirisk::train {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const char* kCohorts[] = {"train", "internal", "external"};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

json num(double x) { return std::isfinite(x) ? json(x) : json(nullptr); }
json ci(double lo, double hi) { return json::array({num(lo), num(hi)}); }

models::ClinicalRow clinical_row(const data::Cohort& c, const data::Patient& p) {
  models::ClinicalRow r;
  for (std::size_t i = 0; i < c.schema.size() && i < p.clinical.size(); ++i)
    if (!p.clinical[i].missing) r[c.schema[i].name] = p.clinical[i].raw;
  return r;
}

float endpoint_label(const config::Config& cfg, const data::Patient& p) {
  if (cfg.get_string("data.endpoint") == "horizon")
    return (p.event && p.time_months >= 0 && p.time_months <= cfg.get_double("data.horizon_months")) ? 1.f : 0.f;
  return p.event ? 1.f : 0.f;
}

// --- statistics -----------------------------------------------------------------------------

struct CohortPreds {
  std::vector<double> prob, risk, time;
  std::vector<int> label, event;
};

struct PredRow {
  std::string id, cohort, center;
  int label = 0, event = 0;
  double time = 0, logit = 0, prob = 0, risk = 0;
  std::string group;
};

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

json km_group(const std::string& label, const std::vector<double>& t, const std::vector<int>& e) {
  json g;
  g["label"] = label;
  std::vector<double> time{0}, surv{1}, lower{1}, upper{1}, censor;
  if (!t.empty()) {
    auto km = stats::kaplan_meier(t, e);
    for (const auto& r : km.rows) {
      if (r.n_event > 0) {
        time.push_back(r.time);
        surv.push_back(r.surv);
        lower.push_back(std::isfinite(r.lower) ? r.lower : r.surv);
        upper.push_back(std::isfinite(r.upper) ? r.upper : r.surv);
      }
      if (r.n_censor > 0) censor.push_back(r.time);
    }
  }
  g["time"] = time;
  g["surv"] = surv;
  g["lower"] = lower;
  g["upper"] = upper;
  g["censor_times"] = censor;
  g["follow_up"] = t;
  return g;
}

// metrics.json from the predictions of every variant, the training thresholds and cut-points.
json compute_metrics(const std::vector<std::string>& variants, const std::map<std::string, std::vector<PredRow>>& preds,
                     const std::map<std::string, std::pair<double, double>>& thr_cut, std::string* comparisons_csv) {
  const std::string ref = std::find(variants.begin(), variants.end(), "msm_tc") != variants.end() ? "msm_tc" : variants.back();
  json m;
  m["reference_variant"] = ref;
  m["variants"] = variants;
  m["cohorts"] = {"train", "internal", "external"};
  m["metrics"] = json::array();
  m["survival"] = json::array();
  m["calibration"] = json::array();
  m["decision_curve"] = json::array();
  std::ostringstream cmp;
  cmp << "variant,reference,cohort,auc,auc_reference,diff,diff_lo,diff_hi,p\n";
  for (const char* cohort : kCohorts) {
    std::map<std::string, CohortPreds> by;
    for (const auto& v : variants)
      for (const auto& r : preds.at(v))
        if (r.cohort == cohort) {
          auto& c = by[v];
          c.prob.push_back(r.prob);
          c.risk.push_back(r.risk);
          c.time.push_back(r.time);
          c.label.push_back(r.label);
          c.event.push_back(r.event);
        }
    if (by.empty()) continue;
    for (const auto& v : variants) {
      const auto& c = by[v];
      const double threshold = thr_cut.at(v).first, cut = thr_cut.at(v).second;
      const int events = std::accumulate(c.label.begin(), c.label.end(), 0);
      json e = {{"variant", v}, {"cohort", cohort}, {"n", c.prob.size()}, {"events", events}, {"threshold", threshold}};
      const bool two = events > 0 && events < static_cast<int>(c.label.size());
      if (two) {
        e["auc"] = num(stats::roc_auc(c.prob, c.label));
        try {  // DeLong needs >= 2 cases and >= 2 controls
          auto d = stats::auc_delong(c.prob, c.label);
          e["auc_ci"] = ci(d.ci.lower, d.ci.upper);
        } catch (const Error& err) {
          log::warn("AUC CI {} {}: {}", v, cohort, err.what());
        }
        stats::OperatingPoint op;
        try {
          op = stats::roc_operating_point(c.prob, c.label, threshold);
        } catch (const Error& err) {
          log::warn("operating point {} {}: {}", v, cohort, err.what());
        }
        e["sensitivity"] = num(op.sensitivity);
        e["sensitivity_ci"] = ci(op.ci_clopper_pearson.sensitivity.lower, op.ci_clopper_pearson.sensitivity.upper);
        e["specificity"] = num(op.specificity);
        e["specificity_ci"] = ci(op.ci_clopper_pearson.specificity.lower, op.ci_clopper_pearson.specificity.upper);
        e["ppv"] = num(op.ppv);
        e["ppv_ci"] = ci(op.ci_clopper_pearson.ppv.lower, op.ci_clopper_pearson.ppv.upper);
        e["npv"] = num(op.npv);
        e["npv_ci"] = ci(op.ci_clopper_pearson.npv.lower, op.ci_clopper_pearson.npv.upper);
        if (v != ref) try {
          auto pr = stats::auc_delong_paired({c.prob, by[ref].prob}, c.label);
          e["delong_p"] = num(pr.pairs.at(0).p);
          cmp << v << ',' << ref << ',' << cohort << ',' << pr.aucs[0].auc << ',' << pr.aucs[1].auc << ','
              << pr.pairs[0].diff << ',' << pr.pairs[0].diff_ci.lower << ',' << pr.pairs[0].diff_ci.upper << ','
              << pr.pairs[0].p << '\n';
        } catch (const Error& err) {
          log::warn("paired DeLong {} {}: {}", v, cohort, err.what());
        }
        std::vector<double> p = c.prob;
        for (auto& x : p) x = std::clamp(x, 1e-6, 1 - 1e-6);
        json cal = {{"variant", v}, {"cohort", cohort}};
        try {
          auto b = stats::calibration_brier(p, c.label);
          auto fit = stats::calibration_logistic(p, c.label);
          e["brier"] = num(b.brier);
          e["calibration_slope"] = num(fit.slope);
          e["calibration_intercept"] = num(fit.intercept);
          cal["slope"] = num(fit.slope);
          cal["intercept"] = num(fit.intercept);
          cal["brier"] = num(b.brier);
          std::vector<double> pred, obs;
          for (const auto& bin : stats::calibration_curve(p, c.label, 10, stats::BinStrategy::kQuantile)) {
            pred.push_back(bin.mean_pred);
            obs.push_back(bin.frac_pos);
          }
          cal["predicted"] = pred;
          cal["observed"] = obs;
          cal["hl_p"] = num(stats::hosmer_lemeshow(p, c.label).p);
        } catch (const Error& err) {
          log::warn("calibration {} {}: {}", v, cohort, err.what());
        }
        m["calibration"].push_back(cal);
        json dc = {{"variant", v}, {"cohort", cohort}};
        std::vector<double> th, nb, all;
        for (const auto& r : stats::decision_curve(c.prob, c.label, stats::decision_curve_grid(0.01, 0.8, 0.01))) {
          th.push_back(r.threshold);
          nb.push_back(r.net_benefit_model);
          all.push_back(r.net_benefit_all);
        }
        dc["threshold"] = th;
        dc["net_benefit"] = nb;
        dc["treat_all"] = all;
        m["decision_curve"].push_back(dc);
      } else {
        e["auc"] = nullptr;
      }
      // Survival: risk groups by the training cut-point.
      const int sev = std::accumulate(c.event.begin(), c.event.end(), 0);
      if (sev > 0) {
        try {
          auto hc = stats::harrell_c(c.time, c.event, c.risk);
          e["c_index"] = num(hc.c);
          e["c_index_ci"] = ci(hc.c - 1.96 * hc.se, hc.c + 1.96 * hc.se);
        } catch (const Error& err) {
          log::warn("c-index {} {}: {}", v, cohort, err.what());
        }
        std::vector<int> grp(c.risk.size());
        std::vector<double> tl, th;
        std::vector<int> el, eh;
        for (std::size_t i = 0; i < c.risk.size(); ++i) {
          grp[i] = c.risk[i] >= cut ? 1 : 0;
          (grp[i] ? th : tl).push_back(c.time[i]);
          (grp[i] ? eh : el).push_back(c.event[i]);
        }
        json s = {{"variant", v}, {"cohort", cohort}, {"cutpoint", cut}};
        s["groups"] = json::array({km_group("Low risk", tl, el), km_group("High risk", th, eh)});
        if (!tl.empty() && !th.empty()) {
          try {
            s["logrank_p"] = num(stats::logrank(c.time, c.event, grp).p);
            Eigen::MatrixXd x(static_cast<Eigen::Index>(grp.size()), 1);
            for (std::size_t i = 0; i < grp.size(); ++i) x(static_cast<Eigen::Index>(i), 0) = grp[i];
            auto cox = stats::cox_ph(c.time, c.event, x, {"high"});
            s["hr"] = num(cox.hr[0]);
            s["hr_ci"] = ci(cox.hr_ci[0].lower, cox.hr_ci[0].upper);
          } catch (const Error& err) {
            log::warn("survival {} {}: {}", v, cohort, err.what());
          }
        }
        m["survival"].push_back(s);
      }
      m["metrics"].push_back(e);
    }
  }
  if (comparisons_csv) *comparisons_csv = cmp.str();
  return m;
}

std::string predictions_csv(const std::vector<PredRow>& rows) {
  std::ostringstream o;
  o.precision(17);
  o << "id,cohort,center,label,time_months,event,logit,probability,risk,risk_group\n";
  for (const auto& r : rows)
    o << report::csv_field(r.id) << ',' << r.cohort << ',' << report::csv_field(r.center) << ',' << r.label << ','
      << r.time << ',' << r.event << ',' << r.logit << ',' << r.prob << ',' << r.risk << ',' << r.group << '\n';
  return o.str();
}

std::vector<PredRow> read_predictions(const fs::path& file) {
  auto t = report::read_csv(file);
  std::vector<PredRow> rows;
  auto col = [&](const std::string& name) {
    for (std::size_t i = 0; i < t.header.size(); ++i)
      if (t.header[i] == name) return i;
    throw FormatError(file.string() + ": column '" + name + "' missing");
  };
  const auto ci_ = col("id"), cc = col("cohort"), ce = col("center"), cl = col("label"), ct = col("time_months"),
             cv = col("event"), cg = col("logit"), cp = col("probability"), cr = col("risk"), cq = col("risk_group");
  for (const auto& r : t.rows) {
    PredRow p;
    p.id = r[ci_];
    p.cohort = r[cc];
    p.center = r[ce];
    p.label = std::stoi(r[cl]);
    p.time = std::stod(r[ct]);
    p.event = std::stoi(r[cv]);
    p.logit = std::stod(r[cg]);
    p.prob = std::stod(r[cp]);
    p.risk = std::stod(r[cr]);
    p.group = r[cq];
    rows.push_back(p);
  }
  return rows;
}

// Table 1 (report/table1.h): characteristics by cohort with the p-value of the comparison.
std::string table1_csv(const data::Cohort& cohort, const std::vector<float>& labels) {
  const std::vector<std::string> groups(std::begin(kCohorts), std::end(kCohorts));
  std::vector<int> group_of;
  for (const auto& p : cohort.patients) {
    const std::string c = data::cohort_name(p.cohort);
    group_of.push_back(static_cast<int>(std::find(groups.begin(), groups.end(), c) - groups.begin()));
  }
  using Summary = report::Table1Variable::Summary;
  std::vector<report::Table1Variable> vars(2);
  vars[0].name = "recurrence";
  vars[0].summary = Summary::kYesCount;
  vars[0].percent = true;
  for (float l : labels) vars[0].values.push_back(l > 0.5f);
  vars[1].name = "report available";
  vars[1].summary = Summary::kYesCount;
  vars[1].percent = true;
  for (const auto& p : cohort.patients) vars[1].values.push_back(p.report.has_value());
  for (std::size_t j = 0; j < cohort.schema.size(); ++j) {
    const auto& col = cohort.schema[j];
    report::Table1Variable v;
    if (col.type == data::ColumnType::kNumeric) {
      v.name = col.name + (col.unit.empty() ? "" : " (" + col.unit + ")");
      v.summary = Summary::kMedianIqr;
    } else {
      v.name = col.name;
      v.summary = Summary::kLevelCounts;
      v.levels = col.levels;
      v.percent = true;
    }
    for (const auto& p : cohort.patients) {
      const auto& c = p.clinical[j];
      v.values.push_back(c.missing ? NAN : col.type == data::ColumnType::kNumeric ? c.number : c.level);
    }
    vars.push_back(std::move(v));
  }
  return report::table1_csv(report::make_table1(groups, group_of, vars));
}

struct TrainedVariant {
  std::string variant;
  double threshold = 0.5, cutpoint = 0;
  std::vector<PredRow> predictions;
  TrainState state;
};

}  // namespace

// --- the whole study --------------------------------------------------------------------------

StudyResult run_study(const StudyOptions& options) {
  const auto t_all = std::chrono::steady_clock::now();
  auto cfg = config::Config::load(options.config);
  const std::uint64_t seed = static_cast<std::uint64_t>(cfg.get_int("study.seed"));
  const bool deterministic = cfg.get_bool("study.deterministic");
  fs::path run = options.out.empty() ? cfg.get_path("study.out_dir") : options.out;
  ensure_writable_dir(run);
  for (const char* d : {"predictions", "models", "explain"}) ensure_writable_dir(run / d);
  RunManifest manifest(options.command, seed);
  manifest.set_runtime(runtime_info());
  manifest.set_config(cfg.hash(), fs::absolute(options.config).string());
  if (cfg.get_bool("study.synthetic")) manifest.set_field("synthetic", "true");
  if (cfg.get_int("study.threads") > 0) set_threads(static_cast<int>(cfg.get_int("study.threads")));
  set_deterministic(deterministic);
  write_file_atomic(run / "config.toml", cfg.to_toml());
  std::vector<std::string> variants = options.variants.empty() ? cfg.get_strings("train.variants") : options.variants;
  for (const auto& v : variants) models::parse_variant(v);
  StudyResult result;
  result.run_dir = run;

  // 1. cohort
  auto t0 = std::chrono::steady_clock::now();
  data::Cohort cohort = data::load_cohort(cfg);
  manifest.add_input("manifest", cohort.manifest);
  std::vector<float> labels;
  for (const auto& p : cohort.patients) labels.push_back(endpoint_label(cfg, p));
  write_file_atomic(run / "cohorts.csv", data::cohort_table(cohort).csv());
  write_file_atomic(run / "table1.csv", table1_csv(cohort, labels));

  // 2. fit the feature pipeline on the training cohort only
  FeatureSpec spec;
  spec.imaging = imaging::PreprocessParams::from_config(cfg);
  spec.augment = imaging::AugmentParams::from_config(cfg);
  spec.max_tokens = cfg.get_int("text.max_length");
  spec.policy = text::long_policy_from_name(cfg.get_string("text.long_policy"));
  const auto train_patients = cohort.in(data::CohortKind::kTrain);
  const auto internal_patients = cohort.in(data::CohortKind::kInternal);
  std::vector<std::string> train_reports, internal_reports;
  for (auto* p : train_patients)
    if (p->report) train_reports.push_back(*p->report);
  for (auto* p : internal_patients)
    if (p->report) internal_reports.push_back(*p->report);
  const fs::path text_dir = run / "text";
  const std::string pretrained = cfg.get_string("text.pretrained");
  if (!pretrained.empty()) {
    spec.tokenizer = std::make_shared<text::Tokenizer>(text::Tokenizer::from_pretrained(cfg.get_path("text.pretrained")));
  } else if (!train_reports.empty()) {
    text::VocabBuilderOptions vo;
    vo.normalizer.lowercase = cfg.get_bool("text.lowercase");
    auto vocab = text::build_vocab(train_reports, static_cast<std::size_t>(cfg.get_int("text.vocab_size")), vo);
    text::TokenizerOptions to;
    to.normalizer = vo.normalizer;
    text::Tokenizer(vocab, to).save(text_dir);
    // Reload from disk: the bundle's tokenizer is exactly the one the study used.
    spec.tokenizer = std::make_shared<text::Tokenizer>(text::Tokenizer::from_pretrained(text_dir));
  }
  {
    std::vector<models::ClinicalRow> rows;
    for (auto* p : train_patients) rows.push_back(clinical_row(cohort, *p));
    spec.clinical = models::ClinicalEncoder::fit(models::clinical_columns_from_config(cfg), rows);
  }

  // 3. per-patient features (imaging cache of src/imaging)
  std::vector<PatientFeatures> feats(cohort.patients.size());
  {
    std::vector<imaging::PatientInput> in;
    for (const auto& p : cohort.patients) in.push_back({p.id, p.image, p.mask, {}});
    fs::path cache = cfg.is_set("preprocess.cache_dir") ? cfg.get_path("preprocess.cache_dir") : run / "cache";
    imaging::CohortStats cs;
    auto samples = imaging::preprocess_cohort(in, spec.imaging, static_cast<int>(cfg.get_int("preprocess.workers")), cache, &cs);
    log::info("preprocessed {} patients ({} from the cache)", samples.size(), cs.cache_hits);
    for (std::size_t i = 0; i < cohort.patients.size(); ++i) {
      const auto& p = cohort.patients[i];
      auto& f = feats[i];
      f.id = p.id;
      f.cohort = data::cohort_name(p.cohort);
      f.center = p.center;
      f.label = labels[i];
      f.time = static_cast<float>(std::max(0.0, p.time_months));
      f.event = static_cast<float>(p.event);
      f.image = std::move(samples[i]);
      fill_text_clinical(spec, p.report, clinical_row(cohort, p), f);
    }
  }
  std::vector<const PatientFeatures*> by_cohort[3];
  for (const auto& f : feats) by_cohort[static_cast<int>(data::parse_cohort(f.cohort).value())].push_back(&f);
  FeatureDataset train_ds(by_cohort[0], &spec), internal_ds(by_cohort[1], &spec), external_ds(by_cohort[2], &spec);
  std::vector<float> train_labels;
  for (auto* f : by_cohort[0]) train_labels.push_back(f->label);
  const double t_pre = seconds_since(t0);
  manifest.add_timing("preprocess", t_pre);
  result.timings["preprocess"] = t_pre;

  // MLM pretraining of the report encoder on the training reports (held out: internal reports).
  models::TensorMap bert_weights;
  const bool any_text = std::any_of(variants.begin(), variants.end(),
                                    [](const std::string& v) { return models::modalities_of(models::parse_variant(v)).text; });
  models::DataSizes sizes;
  sizes.clinical_features = static_cast<std::int64_t>(spec.clinical.feature_count());
  sizes.vocab_size = spec.tokenizer ? static_cast<std::int64_t>(spec.tokenizer->vocab().size()) : 0;
  sizes.in_chans = 2 * spec.imaging.neighbours + 1;
  sizes.tumour_size = spec.imaging.tumour_size_px;
  sizes.context_size = spec.imaging.context_size_px;
  if (any_text && spec.tokenizer && cfg.get_int("text.pretrain_epochs") > 0 && pretrained.empty()) {
    t0 = std::chrono::steady_clock::now();
    seed_everything(derive_seed(seed, "mlm"));
    auto arch = models::arch_from_config(cfg, models::Variant::kMsmT, sizes);
    auto bert = models::Bert(arch.text);
    models::MlmOptions mo;
    mo.epochs = static_cast<int>(cfg.get_int("text.pretrain_epochs"));
    mo.batch_size = cfg.get_int("text.pretrain_batch_size");
    mo.max_length = static_cast<std::size_t>(spec.max_tokens);
    mo.mask_probability = cfg.get_double("text.mask_probability");
    mo.learning_rate = cfg.get_double("text.pretrain_learning_rate");
    mo.whole_word = cfg.get_bool("text.whole_word_cjk");
    mo.seed = derive_seed(seed, "mlm");
    auto res = models::pretrain_mlm(bert, *spec.tokenizer, train_reports, internal_reports, mo);
    bert_weights = models::state_dict(*bert);
    const double t = seconds_since(t0);
    manifest.add_timing("pretrain_text", t);
    result.timings["pretrain_text"] = t;
    log::info("MLM pretraining: held-out loss {:.3f} -> {:.3f}", res.epochs.front().held_out_loss,
              res.epochs.back().held_out_loss);
  }

  // 4./5. train each variant (x seed), predict every cohort
  std::map<std::string, std::pair<double, double>> thr_cut;
  std::map<std::string, std::vector<PredRow>> preds;
  // --seeds N: every scalar metric of every seed (computed by compute_metrics on that seed's own
  // predictions, threshold and cut-point), per variant/cohort -> metric -> one value per seed.
  std::map<std::string, std::map<std::string, std::vector<double>>> seed_metrics;
  for (int k = 0; k < options.seeds; ++k) {
    std::map<std::string, std::vector<PredRow>> seed_preds;
    std::map<std::string, std::pair<double, double>> seed_thr_cut;
    for (const auto& v : variants) {
      t0 = std::chrono::steady_clock::now();
      const std::uint64_t s = seed + static_cast<std::uint64_t>(k);
      const fs::path dir = options.seeds > 1 && k > 0 ? run / "models" / v / fmt::format("seed-{}", k) : run / "models" / v;
      ensure_writable_dir(dir);
      seed_everything(derive_seed(s, "init/" + v));
      const auto variant = models::parse_variant(v);
      auto arch = models::arch_from_config(cfg, variant, sizes);
      auto model = models::build_model(arch);
      if (arch.modalities().text && !bert_weights.empty()) {
        auto b = models::text_bert(model);
        if (b) models::load_weights(*b, bert_weights);
      }
      auto setup = training_setup(cfg, train_labels, v, s);
      setup.trainer.checkpoint = dir / "checkpoint.pt";
      setup.trainer.resume = options.resume;
      setup.trainer.label = v;
      const bool cox = setup.trainer.loss.kind == LossKind::kCox;
      ForwardFn fwd = [&model, cox](const Batch& b) {
        auto out = model->forward(model_inputs(b.inputs));
        return cox && out.risk.defined() ? out.risk : out.logit;
      };
      Trainer trainer(*model, fwd, setup.trainer);
      Loader loader(train_ds, effective_loader_options(setup.loader, deterministic));
      auto fit = trainer.fit(loader, internal_ds);
      // Threshold and cut-point: fitted on the training cohort's predictions only.
      auto tr = score_dataset(model, train_ds);
      std::vector<double> tp, tt;
      std::vector<int> tl, te;
      for (std::size_t i = 0; i < train_ds.size(); ++i) {
        tp.push_back(sigmoid(tr.logit[i]));
        tl.push_back(train_ds.patient(i).label > 0.5f);
        tt.push_back(train_ds.patient(i).time);
        te.push_back(train_ds.patient(i).event > 0.5f);
      }
      double threshold = cfg.get_string("eval.threshold") == "fixed" ? cfg.get_double("eval.fixed_threshold")
                                                                       : stats::roc_youden_threshold(tp, tl);
      const std::vector<double>& tr_risk = tr.risk;
      double cut = 0;
      try {
        cut = cfg.get_string("eval.cutpoint") == "median" ? stats::cutpoint_median(tt, te, tr_risk).cut
                                                          : stats::cutpoint_maxstat(tt, te, tr_risk).cut;
      } catch (const Error& e) {
        log::warn("{}: cut-point: {}; using the median", v, e.what());
        std::vector<double> r = tr_risk;
        std::sort(r.begin(), r.end());
        cut = r[r.size() / 2];
      }
      // Bundle
      std::vector<double> q = tp;
      std::sort(q.begin(), q.end());
      json summary = {{"n", tp.size()},
                      {"events", std::accumulate(tl.begin(), tl.end(), 0)},
                      {"prevalence", std::accumulate(tl.begin(), tl.end(), 0) / std::max<double>(1, tl.size())},
                      {"auc", num(stats::roc_auc(tp, tl))},
                      {"probability_quantiles",
                       {q[q.size() / 10], q[q.size() / 4], q[q.size() / 2], q[3 * q.size() / 4], q[9 * q.size() / 10]}}};
      models::write_safetensors(dir / "weights.safetensors", models::state_dict(*model));
      write_file_atomic(dir / "preprocessing.json", spec.to_json().dump(2));
      if (spec.tokenizer && arch.modalities().text) spec.tokenizer->save(dir);
      if (arch.modalities().clinical) write_file_atomic(dir / "clinical.json", spec.clinical.to_json().dump(2));
      report::TrainingHistory hist;
      hist.label = v;
      for (const auto& r : fit.state.history) {
        hist.epoch.push_back(static_cast<double>(r.epoch));
        hist.train_loss.push_back(r.train_loss);
        hist.val_loss.push_back(r.val_loss);
        hist.val_auc.push_back(r.val_auc);
      }
      hist.best_epoch = static_cast<int>(fit.state.best_epoch);
      report::write_history_csv(dir / "history.csv", hist);
      json mj = {{"format", "cervirisk-model/1"},
                 {"variant", v},
                 {"preset", arch.preset},
                 {"arch", arch.to_json()},
                 {"threshold", threshold},
                 {"cutpoint", cut},
                 {"seed", s},
                 {"best_epoch", fit.state.best_epoch},
                 {"epochs_done", fit.state.epochs_done},
                 {"stopped_early", fit.state.stopped_early},
                 {"fingerprint", fit.state.fingerprint},
                 {"config_sha256", cfg.hash()},
                 {"training_cohort", summary}};
      write_file_atomic(dir / "model.json", mj.dump(2));  // last: a bundle without it is incomplete
      const double t_train = seconds_since(t0);
      manifest.add_timing("train/" + v, t_train);
      result.timings["train/" + v] += t_train;
      // Predictions of every patient of every cohort
      t0 = std::chrono::steady_clock::now();
      std::vector<PredRow> rows;
      for (const FeatureDataset* ds : {&train_ds, &internal_ds, &external_ds}) {
        auto sc = score_dataset(model, *ds);
        for (std::size_t i = 0; i < ds->size(); ++i) {
          const auto& f = ds->patient(i);
          PredRow r{f.id, f.cohort, f.center, f.label > 0.5f, f.event > 0.5f, f.time, sc.logit[i], sigmoid(sc.logit[i]),
                    sc.risk[i], sc.risk[i] >= cut ? "high" : "low"};
          rows.push_back(r);
        }
      }
      if (options.seeds > 1) {
        seed_preds[v] = rows;
        seed_thr_cut[v] = {threshold, cut};
      }
      if (k == 0 && model->modality_order().size() > 1) {
        // The fused vectors (the head's input) of every patient, in predictions order: the
        // players of the modality group Shapley values (`cervirisk explain`).
        torch::NoGradGuard ng;
        model->eval();
        std::vector<torch::Tensor> fused;
        for (const FeatureDataset* ds : {&train_ds, &internal_ds, &external_ds})
          for (std::int64_t b0 = 0; b0 < static_cast<std::int64_t>(ds->size()); b0 += 64) {
            std::vector<Sample> smp;
            for (std::int64_t i = b0; i < std::min<std::int64_t>(ds->size(), b0 + 64); ++i)
              smp.push_back(ds->get(static_cast<std::size_t>(i), nullptr));
            fused.push_back(model->forward(model_inputs(collate(std::move(smp)).inputs)).embeddings.at("fused"));
          }
        models::write_safetensors(run / "explain" / ("fused_" + v + ".safetensors"),
                                  {{"fused", torch::cat(fused, 0).contiguous()}});
      }
      if (k == 0) {
        write_file_atomic(run / "predictions" / (v + ".csv"), predictions_csv(rows));
        preds[v] = rows;
        thr_cut[v] = {threshold, cut};
      }
      manifest.add_timing("predict", seconds_since(t0));
    }
    if (options.seeds > 1) {
      std::string unused;
      const json m = compute_metrics(variants, seed_preds, seed_thr_cut, &unused);
      for (const auto& e : m["metrics"]) {
        auto& into = seed_metrics[e["variant"].get<std::string>() + "/" + e["cohort"].get<std::string>()];
        for (const auto& [name, value] : e.items())
          if (value.is_number() && name != "n" && name != "events" && name != "threshold" &&
              !(name.size() > 2 && name.compare(name.size() - 2, 2, "_p") == 0))  // p-values are not averaged
            into[name].push_back(value.get<double>());
      }
    }
  }

  // 6. statistics
  t0 = std::chrono::steady_clock::now();
  std::string comparisons;
  json metrics = compute_metrics(variants, preds, thr_cut, &comparisons);
  if (options.seeds > 1) {
    json ms = json::array();
    auto mean_sd = [](const std::vector<double>& a) {
      const double mean = std::accumulate(a.begin(), a.end(), 0.0) / static_cast<double>(a.size());
      double var = 0;
      for (double x : a) var += (x - mean) * (x - mean);
      return std::pair{mean, a.size() > 1 ? std::sqrt(var / static_cast<double>(a.size() - 1)) : 0.0};
    };
    for (const auto& [key, by_metric] : seed_metrics) {
      const auto slash = key.find('/');
      json e = {{"variant", key.substr(0, slash)}, {"cohort", key.substr(slash + 1)}, {"seeds", options.seeds}};
      json all = json::object();
      for (const auto& [name, a] : by_metric) {
        // A metric undefined for some seed (e.g. one class) is summarised over the seeds that have it.
        const auto [mean, sd] = mean_sd(a);
        all[name] = {{"mean", mean}, {"sd", sd}, {"n", a.size()}, {"values", a}};
        if (name == "auc") {
          e["auc_mean"] = mean;
          e["auc_sd"] = sd;
          e["auc"] = a;
        }
      }
      e["metrics"] = all;
      ms.push_back(e);
    }
    metrics["seeds"] = ms;
  }
  write_file_atomic(run / "metrics.json", metrics.dump(2));
  write_file_atomic(run / "comparisons.csv", comparisons);
  for (const auto& e : metrics["metrics"]) {
    StudyResult::Row r;
    r.variant = e["variant"];
    r.cohort = e["cohort"];
    r.n = e["n"];
    r.events = e["events"];
    r.auc = e["auc"].is_number() ? e["auc"].get<double>() : NAN;
    r.lo = e.contains("auc_ci") && e["auc_ci"][0].is_number() ? e["auc_ci"][0].get<double>() : NAN;
    r.hi = e.contains("auc_ci") && e["auc_ci"][1].is_number() ? e["auc_ci"][1].get<double>() : NAN;
    result.table.push_back(r);
  }
  const double t_eval = seconds_since(t0);
  manifest.add_timing("evaluate", t_eval);
  result.timings["evaluate"] = t_eval;
  manifest.add_timing("total", seconds_since(t_all));
  result.timings["total"] = seconds_since(t_all);
  manifest.write(run);

  // 7. report
  if (options.report) {
    try {
      auto data = report::load_run_folder(run);
      report::write_report_figures(data, run / "figures");
      report::write_report_html(data, run / "report.html");
    } catch (const Error& e) {
      log::warn("report.html not written: {}", e.what());
    }
  }
  return result;
}

void evaluate_run(const fs::path& run) {
  std::vector<std::string> variants;
  std::map<std::string, std::vector<PredRow>> preds;
  std::map<std::string, std::pair<double, double>> thr_cut;
  for (const char* v : {"clinical", "convnext", "vit", "msm", "msm_t", "msm_tc"}) {
    const fs::path f = run / "predictions" / (std::string(v) + ".csv");
    if (!fs::exists(f)) continue;
    auto mj = json::parse(read_file(run / "models" / v / "model.json"));
    variants.push_back(v);
    preds[v] = read_predictions(f);
    thr_cut[v] = {mj.at("threshold").get<double>(), mj.at("cutpoint").get<double>()};
  }
  if (variants.empty()) throw InputError((run / "predictions").string() + ": no predictions/<variant>.csv");
  std::string comparisons;
  json metrics = compute_metrics(variants, preds, thr_cut, &comparisons);
  write_file_atomic(run / "metrics.json", metrics.dump(2));
  write_file_atomic(run / "comparisons.csv", comparisons);
}

PredictOutput predict_patient(const fs::path& dir, const PredictInput& input) {
  Bundle b = load_bundle(dir);
  PatientFeatures f;
  io::Volume image = io::read_image(input.image);
  io::Volume mask = io::read_mask(input.mask, image.geometry);
  f.image = imaging::preprocess(image, mask, b.spec.imaging);
  models::ClinicalRow row(input.clinical.begin(), input.clinical.end());
  fill_text_clinical(b.spec, input.report, row, f);
  FeatureDataset ds({&f}, &b.spec);
  auto sc = score_dataset(b.model, ds, 1);
  PredictOutput o;
  o.logit = sc.logit[0];
  o.probability = sigmoid(o.logit);
  o.threshold = b.threshold;
  o.cutpoint = b.cutpoint;
  o.risk_group = sc.risk[0] >= b.cutpoint ? "high" : "low";
  const auto m = b.arch.modalities();
  if (m.convnext || m.vit) o.modalities_present.push_back("image");
  if (m.text && f.has_text) o.modalities_present.push_back("report");
  if (m.clinical && f.has_clinical) o.modalities_present.push_back("clinical");
  return o;
}

}  // namespace cervirisk::train
