// The features step: the feature pipeline fitted on the training cohort, every patient's features.
#include <algorithm>

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
  s.in_chans = 2 * spec.imaging.neighbours + 1;
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

}  // namespace

void fit_features(const config::Config& cfg, const data::Cohort& cohort, const std::vector<float>& labels,
                  const fs::path& run, StudyFeatures& out) {
  fit_spec(cfg, cohort, run, out);
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
