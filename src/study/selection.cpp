// The parts of the training cohort that choose the epoch (train.selection) and fit the
// recalibration: a stratified validation split, or k stratified folds. Only the training cohort's
// ids, labels and centres enter, so nothing about the internal or external cohort can move them.
#include <algorithm>
#include <cmath>
#include <tuple>

#include "core/random.h"
#include "study/steps.h"

namespace cervirisk::study {

namespace {
// The stratum of a patient: binary label (0, 1, or none) x centre.
std::tuple<int, std::string> stratum(const bundle::PatientFeatures& f) {
  return {std::isnan(f.label) ? 2 : f.label > 0.5f ? 1 : 0, f.center};
}
}  // namespace

SelectionPlan selection_plan(const StudySettings& settings, const std::vector<const bundle::PatientFeatures*>& train,
                             std::uint64_t seed) {
  SelectionPlan plan;
  plan.mode = settings.selection;
  plan.fold.assign(train.size(), 0);
  if (settings.selection == Selection::kInternal) return plan;
  plan.parts = settings.selection == Selection::kCv ? settings.folds : 2;
  // Patients ordered by stratum, then by a key drawn from (seed, id) alone: the order, and so
  // the parts, do not depend on the manifest order or on any other patient.
  std::vector<std::size_t> order(train.size());
  std::vector<std::uint64_t> key(train.size());
  for (std::size_t i = 0; i < train.size(); ++i) {
    order[i] = i;
    key[i] = derive_seed(seed, "selection/" + train[i]->id);
  }
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return std::make_tuple(stratum(*train[a]), key[a], train[a]->id) <
           std::make_tuple(stratum(*train[b]), key[b], train[b]->id);
  });
  // Systematic assignment along that order: every stratum gets its share (split: the fraction
  // rounded, carried over between strata; cv: round-robin, so fold sizes differ by at most one
  // within a stratum).
  const double f = settings.validation_fraction;
  for (std::size_t j = 0; j < order.size(); ++j) {
    int part;
    if (plan.mode == Selection::kCv)
      part = static_cast<int>(j % static_cast<std::size_t>(plan.parts));
    else
      part = std::floor((static_cast<double>(j) + 1) * f + 0.5) > std::floor(static_cast<double>(j) * f + 0.5) ? 1 : 0;
    plan.fold[order[j]] = part;
  }
  return plan;
}

std::vector<const bundle::PatientFeatures*> SelectionPlan::select(const std::vector<const bundle::PatientFeatures*>& train,
                                                                  int part, bool in) const {
  std::vector<const bundle::PatientFeatures*> out;
  for (std::size_t i = 0; i < train.size(); ++i)
    if ((fold[i] == part) == in) out.push_back(train[i]);
  return out;
}

}  // namespace cervirisk::study
