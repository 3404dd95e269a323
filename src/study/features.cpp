// The features step: the feature pipeline fitted on the training cohort, every patient's features.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"

#include "core/config.h"
#include "core/log.h"
#include "imaging/cache.h"
#include "study/steps.h"
#include "text/vocab_builder.h"

namespace cervirisk::study {

namespace fs = std::filesystem;

std::vector<float> StudyFeatures::train_labels() const {
  std::vector<float> l;
  for (const auto* f : by_cohort[0]) l.push_back(f->label);  // NaN: no binary label
  return l;
}

models::DataSizes StudyFeatures::sizes() const {
  models::DataSizes s;
  s.clinical_features = static_cast<std::int64_t>(spec.clinical.feature_count());
  s.vocab_size = spec.tokenizer ? static_cast<std::int64_t>(spec.tokenizer->vocab().size()) : 0;
  s.in_chans = (2 * spec.imaging.neighbours + 1) * (spec.imaging.mask_channel ? 2 : 1);
  s.tumour_size = spec.imaging.tumour_size_px;
  s.context_size = spec.imaging.context_size_px;
  return s;
}

namespace {

// The tokenizer: a pretrained vocabulary, or one built from the TRAINING reports (saved to
// run/text and reloaded, so the bundle's tokenizer is exactly the one the study used).
std::shared_ptr<text::Tokenizer> fit_tokenizer(const config::Config& cfg, const std::vector<std::string>& train_reports,
                                               const fs::path& text_dir) {
  if (!cfg.get_string("text.pretrained").empty())
    return std::make_shared<text::Tokenizer>(text::Tokenizer::from_pretrained(cfg.get_path("text.pretrained")));
  if (train_reports.empty()) return nullptr;
  text::VocabBuilderOptions vo;
  vo.normalizer.lowercase = cfg.get_bool("text.lowercase");
  auto vocab = text::build_vocab(train_reports, static_cast<std::size_t>(cfg.get_int("text.vocab_size")), vo);
  text::TokenizerOptions to;
  to.normalizer = vo.normalizer;
  text::Tokenizer(vocab, to).save(text_dir);
  return std::make_shared<text::Tokenizer>(text::Tokenizer::from_pretrained(text_dir));
}

// The spec, fitted on the training cohort only.
void fit_spec(const config::Config& cfg, const data::Cohort& cohort, const fs::path& run, StudyFeatures& out) {
  bundle::FeatureSpec& spec = out.spec;
  spec.imaging = imaging::PreprocessParams::from_config(cfg);
  spec.augment = imaging::AugmentParams::from_config(cfg);
  spec.max_tokens = cfg.get_int("text.max_length");
  spec.policy = text::long_policy_from_name(cfg.get_string("text.long_policy"));
  const auto train_patients = cohort.in(data::CohortKind::kTrain);
  for (auto* p : train_patients)
    if (p->report) {
      out.train_reports.push_back(*p->report);
      out.train_report_of[p->id] = *p->report;
    }
  for (auto* p : cohort.in(data::CohortKind::kInternal))
    if (p->report) out.internal_reports.push_back(*p->report);
  spec.tokenizer = fit_tokenizer(cfg, out.train_reports, run / "text");
  std::vector<models::ClinicalRow> rows;
  for (auto* p : train_patients) rows.push_back(cohort.clinical_row(*p));
  spec.clinical = models::ClinicalEncoder::fit(models::clinical_columns_from_config(cfg), rows);
}

// train.aux_targets: checked against the schema, scaled on the training cohort.
void fit_aux_targets(const config::Config& cfg, const data::Cohort& cohort, StudyFeatures& out) {
  const auto& names = cfg.get_strings("train.aux_targets");
  for (const auto& name : names) {
    const auto it = std::find_if(cohort.schema.begin(), cohort.schema.end(),
                                 [&](const data::ClinicalColumn& c) { return c.name == name; });
    if (it == cohort.schema.end()) {
      std::string cols;
      for (const auto& c : cohort.schema) cols += (cols.empty() ? "" : ", ") + c.name;
      throw ConfigError(cfg.source() + ": train.aux_targets names '" + name + "', which is not a [[clinical]] column (" +
                        cols + ")");
    }
    const auto j = static_cast<std::size_t>(it - cohort.schema.begin());
    const auto& col = *it;
    if (col.type == data::ColumnType::kCategorical && col.levels.size() != 2)
      throw ConfigError(cfg.source() + ": train.aux_targets '" + name + "' is categorical with " +
                        std::to_string(col.levels.size()) + " levels; an auxiliary target needs 2 levels, an ordinal or a numeric column");
    const bool binary = col.type != data::ColumnType::kNumeric;
    double mean = 0, sd = 1;
    if (!binary) {
      std::vector<double> v;
      for (const auto* p : cohort.in(data::CohortKind::kTrain))
        if (!p->clinical[j].missing) v.push_back(col.log ? std::log1p(p->clinical[j].number) : p->clinical[j].number);
      if (v.size() < 2) throw ConfigError(cfg.source() + ": train.aux_targets '" + name + "' has fewer than 2 training values");
      mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
      double ss = 0;
      for (double x : v) ss += (x - mean) * (x - mean);
      sd = std::sqrt(ss / static_cast<double>(v.size() - 1));
      if (!(sd > 0)) sd = 1;
    }
    out.aux_names.push_back(name);
    out.aux_binary.push_back(binary);
    for (const auto& p : cohort.patients) {
      const auto& cv = p.clinical[j];
      float t = NAN;
      if (!cv.missing) {
        if (binary) t = static_cast<float>(cv.level) / static_cast<float>(col.levels.size() - 1);
        else t = static_cast<float>(((col.log ? std::log1p(cv.number) : cv.number) - mean) / sd);
      }
      out.aux_of[p.id].push_back(t);
    }
  }
}

}  // namespace

void fit_features(const config::Config& cfg, const data::Cohort& cohort, const std::vector<float>& labels,
                  const fs::path& run, StudyFeatures& out) {
  fit_spec(cfg, cohort, run, out);
  fit_aux_targets(cfg, cohort, out);
  std::vector<imaging::PatientInput> in;
  for (const auto& p : cohort.patients) {
    imaging::PatientInput pi;
    pi.id = p.id, pi.image = p.image, pi.mask = p.mask, pi.mask_segment = p.mask_segment;
    pi.read_options.series_pattern = cfg.get_string("data.dicom_series");  // as validate reads it
    in.push_back(std::move(pi));
  }
  const fs::path cache = cfg.is_set("preprocess.cache_dir") ? cfg.get_path("preprocess.cache_dir") : run / "cache";
  imaging::CohortStats cs;
  auto samples = imaging::preprocess_cohort(in, out.spec.imaging, static_cast<int>(cfg.get_int("preprocess.workers")),
                                            cache, &cs);
  log::info("preprocessed {} patients ({} from the cache)", samples.size(), cs.cache_hits);
  out.patients.resize(cohort.patients.size());
  for (std::size_t i = 0; i < cohort.patients.size(); ++i) {
    const auto& p = cohort.patients[i];
    auto& f = out.patients[i];
    f.id = p.id;
    f.cohort = data::cohort_name(p.cohort);
    f.center = p.center;
    f.label = labels[i];
    f.time = p.time_months < 0 ? -1.f : static_cast<float>(p.time_months);  // -1: not recorded (no risk set)
    f.time_months = p.time_months < 0 ? -1.0 : p.time_months;
    f.event = static_cast<float>(p.event);
    f.image = std::move(samples[i]);
    bundle::fill_text_clinical(out.spec, p.report, cohort.clinical_row(p), f);
  }
  for (const auto& f : out.patients) out.by_cohort[static_cast<int>(data::parse_cohort(f.cohort).value())].push_back(&f);
}

}  // namespace cervirisk::study
