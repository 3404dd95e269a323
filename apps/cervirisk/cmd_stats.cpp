// cervirisk stats <test> --csv FILE [options] [--json]
// One subcommand per statistic; each prints one JSON object (compact with --json, indented
// otherwise). Rows with a missing value in a used column are dropped and counted
// ("n_dropped"). NA values are printed as null. docs/stats.md lists the R reference of each.
#include <Eigen/Core>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "commands.h"
#include "core/error.h"
#include "core/log.h"
#include "io/table.h"
#include "stats/bootstrap.h"
#include "stats/calibration.h"
#include "stats/cindex.h"
#include "stats/cox.h"
#include "stats/cutpoint.h"
#include "stats/dca.h"
#include "stats/delong.h"
#include "stats/design.h"
#include "stats/km.h"
#include "stats/logrank.h"
#include "stats/lowess.h"
#include "stats/roc.h"
#include "stats/tdauc.h"

namespace cervirisk::cli {

namespace {

using nlohmann::json;

json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }
json interval(const stats::Interval& i) { return json::array({num(i.lower), num(i.upper)}); }

std::vector<double> parse_list(const std::string& s, const char* option) {
  std::vector<double> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char* end = nullptr;
    double v = std::strtod(item.c_str(), &end);
    if (item.empty() || *end != '\0')
      throw ConfigError(std::string(option) + ": '" + item + "' is not a number");
    out.push_back(v);
  }
  if (out.empty()) throw ConfigError(std::string(option) + ": empty list");
  return out;
}

std::vector<std::string> split_names(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

// Options shared by every test.
struct Common {
  std::string csv;
  bool json = false;
  double level = 0.95;
};

void add_common(CLI::App* sub, Common& c) {
  sub->add_option("--csv", c.csv, "Input CSV (comma or semicolon, header line, NA/empty = missing)")
      ->required();
  sub->add_flag("--json", c.json, "Print one compact JSON object (default: indented JSON)");
  sub->add_option("--level", c.level, "Confidence level")->check(CLI::Range(0.5, 0.9999));
}

void print(const Common& c, const json& j) {
  std::cout << (c.json ? j.dump() : j.dump(2)) << "\n";
  std::cout.flush();
}

// The rows of a CSV with no missing value in any used column.
struct Data {
  io::Table table;
  std::vector<std::size_t> rows;
  std::size_t dropped = 0;

  Data(const std::string& path, const std::vector<std::string>& used) : table(io::Table::read_csv(path)) {
    std::vector<std::size_t> cols;
    for (const auto& u : used) cols.push_back(table.column_index(u));
    for (std::size_t r = 0; r < table.rows(); ++r) {
      bool ok = true;
      for (std::size_t c : cols) ok = ok && !table.is_missing(r, c);
      if (ok)
        rows.push_back(r);
      else
        ++dropped;
    }
    if (dropped > 0) log::info("{}: dropped {} row(s) with a missing value in a used column", path, dropped);
    if (rows.empty()) throw ValidationError(path + ": no complete rows in the used columns");
  }

  std::vector<double> numeric(const std::string& name) const {
    const std::size_t c = table.column_index(name);
    std::vector<double> v;
    v.reserve(rows.size());
    for (std::size_t r : rows) v.push_back(*table.number(r, c));
    return v;
  }
  std::vector<std::string> strings(const std::string& name) const {
    const std::size_t c = table.column_index(name);
    std::vector<std::string> v;
    v.reserve(rows.size());
    for (std::size_t r : rows) v.push_back(table.cell(r, c));
    return v;
  }
  // 0/1 label: numeric 0/1, or two levels of which --positive is the case.
  std::vector<int> label(const std::string& name, const std::string& positive) const {
    std::vector<std::string> s = strings(name);
    std::set<std::string> levels(s.begin(), s.end());
    std::vector<int> out(s.size());
    if (positive.empty()) {
      for (std::size_t i = 0; i < s.size(); ++i) {
        char* end = nullptr;
        const double v = std::strtod(s[i].c_str(), &end);
        if (end == s[i].c_str() || *end != '\0' || (v != 0 && v != 1))
          throw ValidationError(table.source() + ":" + std::to_string(table.line_of(rows[i])) + ": column '" +
                                name + "': '" + s[i] +
                                "' is not 0/1 (use --positive LEVEL for a two-level label)");
        out[i] = static_cast<int>(v);
      }
      return out;
    }
    if (!levels.count(positive))
      throw ValidationError(table.source() + ": column '" + name + "' has no level '" + positive + "'");
    if (levels.size() != 2)
      throw ValidationError(table.source() + ": column '" + name + "' has " + std::to_string(levels.size()) +
                            " levels, expected 2 for --positive");
    for (std::size_t i = 0; i < s.size(); ++i) out[i] = s[i] == positive ? 1 : 0;
    return out;
  }
  // Event indicator: value == code is an event; the other allowed value (code - 1) is censored.
  std::vector<int> event(const std::string& name, int code) const {
    std::vector<double> v = numeric(name);
    std::vector<int> out(v.size());
    const std::size_t c = table.column_index(name);
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (v[i] == code)
        out[i] = 1;
      else if (v[i] == code - 1)
        out[i] = 0;
      else
        throw ValidationError(table.source() + ":" + std::to_string(table.line_of(rows[i])) + ": column '" +
                              table.column_names()[c] + "': event value " + table.cell(rows[i], c) +
                              " is neither " + std::to_string(code - 1) + " (censored) nor " +
                              std::to_string(code) + " (event; see --event-code)");
    }
    return out;
  }
};

struct SurvivalOpts {
  std::string time, event;
  int event_code = 1;
};
void add_survival(CLI::App* sub, SurvivalOpts& s) {
  sub->add_option("--time", s.time, "Follow-up time column")->required();
  sub->add_option("--event", s.event, "Event column (1 = event, 0 = censored)")->required();
  sub->add_option("--event-code", s.event_code, "Value meaning 'event' (2 for R's 1/2 coding)")
      ->check(CLI::Range(1, 2));
}

void add_label(CLI::App* sub, std::string& label, std::string& positive) {
  sub->add_option("--label", label, "Outcome column (1 = case, or two levels with --positive)")->required();
  sub->add_option("--positive", positive, "Level of --label that is the case");
}

// --- auc ---------------------------------------------------------------------------------
struct AucOpts {
  Common c;
  std::string label, positive, adjust = "none";
  std::vector<std::string> scores;
  int bootstrap = 0;
  std::uint64_t seed = 0;
  bool roc = false;
};

void run_auc(const AucOpts& o, const GlobalOptions& g) {
  std::vector<std::string> used{o.label};
  used.insert(used.end(), o.scores.begin(), o.scores.end());
  Data d(o.c.csv, used);
  std::vector<int> y = d.label(o.label, o.positive);
  std::vector<std::vector<double>> s;
  for (const auto& name : o.scores) s.push_back(d.numeric(name));
  stats::AucDelongPaired res = stats::auc_delong_paired(s, y, o.c.level);
  json j;
  j["n"] = y.size();
  j["n_cases"] = res.aucs[0].n_cases;
  j["n_controls"] = res.aucs[0].n_controls;
  j["n_dropped"] = d.dropped;
  j["level"] = o.c.level;
  j["scores"] = json::array();
  for (std::size_t k = 0; k < s.size(); ++k) {
    const auto& a = res.aucs[k];
    json e{{"name", o.scores[k]},
           {"auc", num(a.auc)},
           {"ci_delong", interval(a.ci)},
           {"var_delong", num(a.var)}};
    if (o.bootstrap > 0) {
      stats::BootstrapOptions bo;
      bo.replicates = o.bootstrap;
      bo.seed = o.seed;
      bo.level = o.c.level;
      bo.threads = g.threads;
      stats::BootstrapCi b = stats::bootstrap_ci_auc(s[k], y, bo);
      e["ci_bootstrap"] = interval(b.ci);
      e["bootstrap_failed"] = b.failed;
    }
    if (o.roc) {
      json pts = json::array();
      for (const auto& pt : stats::roc_curve(s[k], y))
        pts.push_back({{"threshold", num(pt.threshold)},
                       {"sensitivity", pt.sensitivity},
                       {"specificity", pt.specificity}});
      e["roc"] = pts;
    }
    j["scores"].push_back(e);
  }
  j["paired"] = json::array();
  for (const auto& p : res.pairs) {
    json e{{"a", o.scores[p.a]}, {"b", o.scores[p.b]}, {"diff", num(p.diff)},
           {"z", num(p.z)},      {"p", num(p.p)},      {"diff_ci", interval(p.diff_ci)}};
    if (o.adjust == "holm") e["p_holm"] = num(p.p_holm);
    j["paired"].push_back(e);
  }
  print(o.c, j);
}

void add_auc(CLI::App* parent, GlobalOptions& g) {
  auto o = std::make_shared<AucOpts>();
  auto* s = parent->add_subcommand(
      "auc", "AUC with DeLong variance/CI, paired DeLong tests between scores, bootstrap CI");
  add_common(s, o->c);
  add_label(s, o->label, o->positive);
  s->add_option("--score", o->scores, "Score column (repeat for several; higher = case)")->required();
  s->add_option("--bootstrap", o->bootstrap, "Stratified bootstrap replicates for the AUC CI (0 = none)")
      ->check(CLI::NonNegativeNumber);
  s->add_option("--seed", o->seed, "Bootstrap seed");
  s->add_flag("--roc", o->roc, "Also print each score's ROC points (pROC thresholds; -Inf/Inf as null)");
  s->add_option("--adjust", o->adjust, "p adjustment of the paired tests")
      ->check(CLI::IsMember({"none", "holm"}));
  s->callback([o, &g] {
    apply_globals(g);
    run_auc(*o, g);
  });
}

// --- threshold ---------------------------------------------------------------------------
struct ThresholdOpts {
  Common c;
  std::string label, positive, score;
  std::optional<double> at;
};

json cis(const stats::OperatingPoint::Cis& c) {
  return {{"sensitivity", interval(c.sensitivity)},
          {"specificity", interval(c.specificity)},
          {"ppv", interval(c.ppv)},
          {"npv", interval(c.npv)},
          {"accuracy", interval(c.accuracy)}};
}

void run_threshold(const ThresholdOpts& o) {
  Data d(o.c.csv, {o.label, o.score});
  std::vector<int> y = d.label(o.label, o.positive);
  std::vector<double> s = d.numeric(o.score);
  double t = o.at ? *o.at : stats::roc_youden_threshold(s, y);
  stats::OperatingPoint op = stats::roc_operating_point(s, y, t, o.c.level);
  json j{{"method", o.at ? "fixed" : "youden"},
         {"threshold", num(op.threshold)},
         {"sensitivity", num(op.sensitivity)},
         {"specificity", num(op.specificity)},
         {"ppv", num(op.ppv)},
         {"npv", num(op.npv)},
         {"accuracy", num(op.accuracy)},
         {"f1", num(op.f1)},
         {"tp", op.tp},
         {"fp", op.fp},
         {"tn", op.tn},
         {"fn", op.fn},
         {"n_dropped", d.dropped},
         {"ci_wilson", cis(op.ci_wilson)},
         {"ci_clopper_pearson", cis(op.ci_clopper_pearson)}};
  print(o.c, j);
}

void add_threshold(CLI::App* parent, GlobalOptions& g) {
  auto o = std::make_shared<ThresholdOpts>();
  auto* s = parent->add_subcommand(
      "threshold", "Operating point (Se, Sp, PPV, NPV, accuracy, F1) at --at or the Youden threshold");
  add_common(s, o->c);
  add_label(s, o->label, o->positive);
  s->add_option("--score", o->score, "Score column (positive when score >= threshold)")->required();
  s->add_option("--at", o->at, "Threshold (default: Youden)");
  s->callback([o, &g] {
    apply_globals(g);
    run_threshold(*o);
  });
}

// --- km ----------------------------------------------------------------------------------
struct KmOpts {
  Common c;
  SurvivalOpts s;
  std::string group, conf_type = "log", times;
};

json km_row(const stats::KmRow& r) {
  return {{"time", r.time},       {"n_risk", r.n_risk},        {"n_event", r.n_event},
          {"surv", num(r.surv)},  {"std_err", num(r.std_err)}, {"lower", num(r.lower)},
          {"upper", num(r.upper)}};
}

void run_km(const KmOpts& o) {
  std::vector<std::string> used{o.s.time, o.s.event};
  if (!o.group.empty()) used.push_back(o.group);
  Data d(o.c.csv, used);
  std::vector<double> t = d.numeric(o.s.time);
  std::vector<int> e = d.event(o.s.event, o.s.event_code);
  stats::KmOptions ko;
  ko.level = o.c.level;
  ko.conf_type = o.conf_type == "log-log" ? stats::KmConfType::kLogLog
                 : o.conf_type == "plain" ? stats::KmConfType::kPlain
                                          : stats::KmConfType::kLog;
  std::vector<double> at;
  if (!o.times.empty()) at = parse_list(o.times, "--times");
  std::vector<std::string> g(t.size(), "all");
  if (!o.group.empty()) g = d.strings(o.group);
  json j{
      {"conf_type", o.conf_type}, {"level", o.c.level}, {"n_dropped", d.dropped}, {"groups", json::array()}};
  for (const auto& level : stats::sorted_levels(g)) {
    std::vector<double> tt;
    std::vector<int> ee;
    for (std::size_t i = 0; i < t.size(); ++i)
      if (g[i] == level) {
        tt.push_back(t[i]);
        ee.push_back(e[i]);
      }
    stats::KaplanMeier km = stats::kaplan_meier(tt, ee, ko);
    json rows = json::array();
    for (const auto& r : at.empty() ? km.event_rows() : stats::kaplan_meier_at(km, at))
      rows.push_back(km_row(r));
    j["groups"].push_back({{"name", level},
                           {"n", km.n},
                           {"events", km.events},
                           {"median", num(km.median)},
                           {"median_ci", interval(km.median_ci)},
                           {"table", rows}});
  }
  print(o.c, j);
}

void add_km(CLI::App* parent, GlobalOptions& g) {
  auto o = std::make_shared<KmOpts>();
  auto* s = parent->add_subcommand("km", "Kaplan-Meier curves with Greenwood CIs and median survival");
  add_common(s, o->c);
  add_survival(s, o->s);
  s->add_option("--group", o->group, "Group column (one curve per level)");
  s->add_option("--conf-type", o->conf_type, "Interval type")
      ->check(CLI::IsMember({"log", "log-log", "plain"}));
  s->add_option("--times", o->times,
                "Report the curve at these times (t1,t2,...) instead of at every event time");
  s->callback([o, &g] {
    apply_globals(g);
    run_km(*o);
  });
}

// --- logrank -----------------------------------------------------------------------------
struct LogrankOpts {
  Common c;
  SurvivalOpts s;
  std::string group;
  double rho = 0;
};

void run_logrank(const LogrankOpts& o) {
  Data d(o.c.csv, {o.s.time, o.s.event, o.group});
  std::vector<double> t = d.numeric(o.s.time);
  std::vector<int> e = d.event(o.s.event, o.s.event_code);
  std::vector<std::string> g = d.strings(o.group);
  std::vector<std::string> levels = stats::sorted_levels(g);
  std::vector<int> gi(g.size());
  for (std::size_t i = 0; i < g.size(); ++i)
    gi[i] = std::find(levels.begin(), levels.end(), g[i]) - levels.begin();
  stats::Logrank lr = stats::logrank(t, e, gi, o.rho);
  json j{{"chisq", num(lr.chisq)}, {"df", lr.df}, {"p", num(lr.p)}, {"rho", o.rho}, {"n_dropped", d.dropped},
         {"groups", json::array()}};
  for (std::size_t k = 0; k < levels.size(); ++k)
    j["groups"].push_back({{"name", levels[k]},
                           {"n", lr.n[k]},
                           {"observed", num(lr.observed[k])},
                           {"expected", num(lr.expected[k])}});
  print(o.c, j);
}

void add_logrank(CLI::App* parent, GlobalOptions& g) {
  auto o = std::make_shared<LogrankOpts>();
  auto* s = parent->add_subcommand("logrank", "Log-rank / G-rho test between groups");
  add_common(s, o->c);
  add_survival(s, o->s);
  s->add_option("--group", o->group, "Group column")->required();
  s->add_option("--rho", o->rho, "G-rho weight exponent (0 = log-rank, 1 = Peto-Peto)");
  s->callback([o, &g] {
    apply_globals(g);
    run_logrank(*o);
  });
}

// --- cox ---------------------------------------------------------------------------------
struct CoxOpts {
  Common c;
  SurvivalOpts s;
  std::string covariates, categorical, ties = "efron";
};

void run_cox(const CoxOpts& o) {
  std::vector<std::string> covs = split_names(o.covariates), cats = split_names(o.categorical);
  if (covs.empty()) throw ConfigError("--covariates: no covariate named");
  for (const auto& c : cats)
    if (std::find(covs.begin(), covs.end(), c) == covs.end())
      throw ConfigError("--categorical: '" + c + "' is not among --covariates");
  std::vector<std::string> used{o.s.time, o.s.event};
  used.insert(used.end(), covs.begin(), covs.end());
  Data d(o.c.csv, used);
  std::vector<stats::Covariate> cv;
  for (const auto& name : covs) {
    stats::Covariate c;
    c.name = name;
    c.categorical = std::find(cats.begin(), cats.end(), name) != cats.end();
    if (c.categorical)
      c.levels = d.strings(name);
    else
      c.numeric = d.numeric(name);
    cv.push_back(std::move(c));
  }
  stats::Design des = stats::design_matrix(cv);
  stats::CoxOptions co;
  co.ties = o.ties == "breslow" ? stats::CoxTies::kBreslow : stats::CoxTies::kEfron;
  co.level = o.c.level;
  std::vector<double> t = d.numeric(o.s.time);
  std::vector<int> e = d.event(o.s.event, o.s.event_code);
  stats::CoxFit f = stats::cox_ph(t, e, des.x, des.terms, co);
  std::vector<double> lp(f.linear_predictor.data(), f.linear_predictor.data() + f.linear_predictor.size());
  stats::Concordance cc = stats::harrell_c(t, e, lp);
  auto vec = [](const Eigen::VectorXd& v) {
    json a = json::array();
    for (Eigen::Index i = 0; i < v.size(); ++i) a.push_back(num(v(i)));
    return a;
  };
  json ci = json::array();
  for (const auto& i : f.hr_ci) ci.push_back(interval(i));
  json j{{"n", f.n},
         {"events", f.events},
         {"n_dropped", d.dropped},
         {"ties", o.ties},
         {"terms", f.terms},
         {"coef", vec(f.coef)},
         {"se", vec(f.se)},
         {"hr", vec(f.hr)},
         {"hr_ci", ci},
         {"z", vec(f.z)},
         {"p", vec(f.p)},
         {"loglik", json::array({num(f.loglik_null), num(f.loglik)})},
         {"df", f.df},
         {"lr", num(f.lr)},
         {"lr_p", num(f.lr_p)},
         {"wald", num(f.wald)},
         {"wald_p", num(f.wald_p)},
         {"score", num(f.score)},
         {"score_p", num(f.score_p)},
         {"iterations", f.iterations},
         {"converged", f.converged},
         {"concordance", num(cc.c)},
         {"concordance_se", num(cc.se)}};
  if (!f.converged) log::warn("cox: no convergence in {} iterations", f.iterations);
  print(o.c, j);
}

void add_cox(CLI::App* parent, GlobalOptions& g) {
  auto o = std::make_shared<CoxOpts>();
  auto* s = parent->add_subcommand("cox", "Cox proportional hazards model");
  add_common(s, o->c);
  add_survival(s, o->s);
  s->add_option("--covariates", o->covariates, "Covariate columns a,b,...")->required();
  s->add_option("--categorical", o->categorical,
                "Which covariates are categorical (reference = first level in sort order)");
  s->add_option("--ties", o->ties, "Tie handling")->check(CLI::IsMember({"efron", "breslow"}));
  s->callback([o, &g] {
    apply_globals(g);
    run_cox(*o);
  });
}

// --- cindex / tdauc / cutpoint -----------------------------------------------------------
struct ScoreSurvOpts {
  Common c;
  SurvivalOpts s;
  std::string score, horizons, method = "maxstat";
  double minprop = 0.1, maxprop = 0.9;
  std::optional<double> cut;
};

void run_cindex(const ScoreSurvOpts& o) {
  Data d(o.c.csv, {o.s.time, o.s.event, o.score});
  stats::Concordance c =
      stats::harrell_c(d.numeric(o.s.time), d.event(o.s.event, o.s.event_code), d.numeric(o.score));
  json j{{"c", num(c.c)},
         {"se", num(c.se)},
         {"var", num(c.var)},
         {"concordant", c.concordant},
         {"discordant", c.discordant},
         {"tied_x", c.tied_x},
         {"tied_y", c.tied_y},
         {"tied_xy", c.tied_xy},
         {"n_dropped", d.dropped}};
  print(o.c, j);
}

void add_cindex(CLI::App* parent, GlobalOptions& g) {
  auto o = std::make_shared<ScoreSurvOpts>();
  auto* s = parent->add_subcommand(
      "cindex", "Harrell's C of a risk score (higher = higher risk) with its standard error");
  add_common(s, o->c);
  add_survival(s, o->s);
  s->add_option("--score", o->score, "Risk score column")->required();
  s->callback([o, &g] {
    apply_globals(g);
    run_cindex(*o);
  });
}

void run_tdauc(const ScoreSurvOpts& o) {
  Data d(o.c.csv, {o.s.time, o.s.event, o.score});
  std::vector<stats::TdAuc> r = stats::td_auc(d.numeric(o.s.time), d.event(o.s.event, o.s.event_code),
                                              d.numeric(o.score), parse_list(o.horizons, "--horizons"));
  json j{{"n_dropped", d.dropped}, {"horizons", json::array()}};
  for (const auto& h : r)
    j["horizons"].push_back(
        {{"t", h.t}, {"auc", num(h.auc)}, {"n_cases", h.n_cases}, {"n_controls", h.n_controls}});
  print(o.c, j);
}

void add_tdauc(CLI::App* parent, GlobalOptions& g) {
  auto o = std::make_shared<ScoreSurvOpts>();
  auto* s = parent->add_subcommand("tdauc", "Time-dependent AUC (cumulative/dynamic, IPCW) at horizons");
  add_common(s, o->c);
  add_survival(s, o->s);
  s->add_option("--score", o->score, "Risk score column")->required();
  s->add_option("--horizons", o->horizons, "Horizons t1,t2,...")->required();
  s->callback([o, &g] {
    apply_globals(g);
    run_tdauc(*o);
  });
}

void run_cutpoint(const ScoreSurvOpts& o) {
  Data d(o.c.csv, {o.s.time, o.s.event, o.score});
  std::vector<double> t = d.numeric(o.s.time), s = d.numeric(o.score);
  std::vector<int> e = d.event(o.s.event, o.s.event_code);
  stats::Cutpoint c;
  if (o.method == "maxstat")
    c = stats::cutpoint_maxstat(t, e, s, o.minprop, o.maxprop);
  else if (o.method == "median")
    c = stats::cutpoint_median(t, e, s);
  else {
    if (!o.cut) throw ConfigError("--method fixed needs --cut VALUE");
    c = stats::cutpoint_fixed(t, e, s, *o.cut);
  }
  // low = score <= cut, high = score > cut (stats/risk_group.h): the study's and predict's rule.
  json j{{"cut", num(c.cut)},       {"statistic", num(c.statistic)}, {"method", c.method}, {"n_low", c.n_low},
         {"n_high", c.n_high},      {"n_dropped", d.dropped},        {"p_lau94", num(c.p_lau94)},
         {"p_lau92", num(c.p_lau92)}};
  print(o.c, j);
}

void add_cutpoint(CLI::App* parent, GlobalOptions& g) {
  auto o = std::make_shared<ScoreSurvOpts>();
  auto* s = parent->add_subcommand(
      "cutpoint", "Cut-point of a score: maximally selected log-rank statistic, median or fixed");
  add_common(s, o->c);
  add_survival(s, o->s);
  s->add_option("--score", o->score, "Score column")->required();
  s->add_option("--method", o->method, "Cut-point method")
      ->check(CLI::IsMember({"maxstat", "median", "fixed"}));
  s->add_option("--minprop", o->minprop, "Least fraction of patients in a group (maxstat)")
      ->check(CLI::Range(0.0, 0.5));
  s->add_option("--maxprop", o->maxprop, "Largest fraction of patients in the low group (maxstat)")
      ->check(CLI::Range(0.5, 1.0));
  s->add_option("--cut", o->cut, "The cut for --method fixed");
  s->callback([o, &g] {
    apply_globals(g);
    run_cutpoint(*o);
  });
}

// --- calibration / dca -------------------------------------------------------------------
struct ProbOpts {
  Common c;
  std::string label, positive, prob, strategy = "uniform", thresholds = "0.01:0.99:0.01";
  int bins = 10;
  bool lowess = false;
};

void run_calibration(const ProbOpts& o) {
  Data d(o.c.csv, {o.label, o.prob});
  std::vector<int> y = d.label(o.label, o.positive);
  std::vector<double> p = d.numeric(o.prob);
  stats::Brier b = stats::calibration_brier(p, y);
  stats::CalibrationFit f = stats::calibration_logistic(p, y);
  stats::HosmerLemeshow hl = stats::hosmer_lemeshow(p, y, 10);
  auto bins = stats::calibration_curve(
      p, y, o.bins, o.strategy == "quantile" ? stats::BinStrategy::kQuantile : stats::BinStrategy::kUniform);
  json j{{"n", p.size()},
         {"n_dropped", d.dropped},
         {"brier", num(b.brier)},
         {"brier_scaled", num(b.scaled)},
         {"slope", num(f.slope)},
         {"intercept", num(f.intercept)},
         {"hl_chisq", num(hl.chisq)},
         {"hl_df", hl.df},
         {"hl_p", num(hl.p)},
         {"strategy", o.strategy},
         {"bins", json::array()}};
  for (const auto& bin : bins)
    j["bins"].push_back({{"mean_pred", num(bin.mean_pred)}, {"frac_pos", num(bin.frac_pos)}, {"n", bin.n}});
  if (o.lowess) {
    std::vector<double> yd(y.begin(), y.end());
    stats::LowessCurve lc = stats::lowess(p, yd);
    json pts = json::array();
    for (std::size_t i = 0; i < lc.x.size(); ++i) pts.push_back({{"x", lc.x[i]}, {"y", lc.y[i]}});
    j["lowess"] = pts;
  }
  print(o.c, j);
}

void add_calibration(CLI::App* parent, GlobalOptions& g) {
  auto o = std::make_shared<ProbOpts>();
  auto* s = parent->add_subcommand(
      "calibration", "Brier, calibration slope/intercept, Hosmer-Lemeshow and the binned curve");
  add_common(s, o->c);
  add_label(s, o->label, o->positive);
  s->add_option("--prob", o->prob, "Predicted probability column")->required();
  s->add_option("--bins", o->bins, "Number of bins of the curve")->check(CLI::Range(1, 1000));
  s->add_option("--strategy", o->strategy, "Bins")->check(CLI::IsMember({"uniform", "quantile"}));
  s->add_flag("--lowess", o->lowess, "Also print the lowess calibration curve");
  s->callback([o, &g] {
    apply_globals(g);
    run_calibration(*o);
  });
}

void run_dca(const ProbOpts& o) {
  Data d(o.c.csv, {o.label, o.prob});
  std::vector<int> y = d.label(o.label, o.positive);
  std::vector<double> p = d.numeric(o.prob);
  std::vector<std::string> parts;
  {
    std::stringstream ss(o.thresholds);
    std::string item;
    while (std::getline(ss, item, ':')) parts.push_back(item);
  }
  if (parts.size() != 3) throw ConfigError("--thresholds: expected FROM:TO:STEP, got '" + o.thresholds + "'");
  std::vector<double> v;
  for (const auto& s : parts) v.push_back(parse_list(s, "--thresholds")[0]);
  auto rows = stats::decision_curve(p, y, stats::decision_curve_grid(v[0], v[1], v[2]));
  json j{{"n", p.size()}, {"n_dropped", d.dropped}, {"rows", json::array()}};
  for (const auto& r : rows)
    j["rows"].push_back({{"threshold", r.threshold},
                         {"net_benefit_model", num(r.net_benefit_model)},
                         {"net_benefit_all", num(r.net_benefit_all)},
                         {"net_benefit_none", 0.0}});
  print(o.c, j);
}

void add_dca(CLI::App* parent, GlobalOptions& g) {
  auto o = std::make_shared<ProbOpts>();
  auto* s = parent->add_subcommand(
      "dca", "Decision curve: net benefit of the model and of treat-all over thresholds");
  add_common(s, o->c);
  add_label(s, o->label, o->positive);
  s->add_option("--prob", o->prob, "Predicted probability column")->required();
  s->add_option("--thresholds", o->thresholds, "Threshold grid FROM:TO:STEP");
  s->callback([o, &g] {
    apply_globals(g);
    run_dca(*o);
  });
}

}  // namespace

void add_stats(CLI::App& app, GlobalOptions& g) {
  auto* stats_cmd = app.add_subcommand("stats",
                                       "Statistics on a CSV, matching R (pROC, survival, maxstat): "
                                       "auc|threshold|km|logrank|cox|cindex|tdauc|calibration|dca|cutpoint");
  stats_cmd->require_subcommand(1);
  add_auc(stats_cmd, g);
  add_threshold(stats_cmd, g);
  add_km(stats_cmd, g);
  add_logrank(stats_cmd, g);
  add_cox(stats_cmd, g);
  add_cindex(stats_cmd, g);
  add_tdauc(stats_cmd, g);
  add_cutpoint(stats_cmd, g);
  add_calibration(stats_cmd, g);
  add_dca(stats_cmd, g);
}

}  // namespace cervirisk::cli
