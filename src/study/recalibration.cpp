// The recalibration step: the map from a model's logit to the probability the study reports and
// `predict` returns (docs/study.md "Recalibration").
#include <fmt/format.h>

#include <cmath>

#include "core/error.h"
#include "core/log.h"
#include "stats/calibration.h"
#include "study/steps.h"

namespace cervirisk::study {

runfolder::Recalibration fit_recalibration(Recalibration method, const std::vector<double>& logit,
                                           const std::vector<float>& label, double offset,
                                           const std::string& fitted_on) {
  runfolder::Recalibration r;
  r.method = to_string(method);
  r.fitted_on = fitted_on;
  std::vector<double> p;
  std::vector<int> y;
  for (std::size_t i = 0; i < logit.size(); ++i) {
    if (std::isnan(label[i])) continue;
    // glm's qlogis(p) is the logit itself as long as p is not rounded to 0 or 1.
    p.push_back(std::clamp(1.0 / (1.0 + std::exp(-logit[i])), 1e-15, 1 - 1e-15));
    y.push_back(label[i] > 0.5f);
  }
  r.n = static_cast<std::int64_t>(y.size());
  for (int v : y) r.events += v;
  auto use_offset = [&](const std::string& why) {
    r.intercept = offset;
    r.slope = 1;
    if (!why.empty()) {
      r.note = why + "; the class-weighting offset is used instead";
      log::warn("recalibration ({}): {}", r.method, r.note);
    }
  };
  switch (method) {
    case Recalibration::kNone:
      r.fitted_on = "";
      return r;
    case Recalibration::kOffset:
      r.fitted_on = "class weights";
      use_offset("");
      return r;
    case Recalibration::kLogistic:
    case Recalibration::kIntercept:
      break;
  }
  if (r.events < 2 || r.n - r.events < 2) {
    use_offset(fmt::format("{} held-out patients with {} events: too few to fit", r.n, r.events));
    return r;
  }
  try {
    const auto fit = stats::calibration_logistic(p, y);
    if (method == Recalibration::kIntercept) {
      r.intercept = fit.intercept;
      r.slope = 1;
    } else {
      r.intercept = fit.slope_intercept;
      r.slope = fit.slope;
    }
    if (!std::isfinite(r.intercept) || !std::isfinite(r.slope) || r.slope <= 0)
      use_offset(fmt::format("the fit gave intercept {:.4g}, slope {:.4g} (a slope <= 0 would reverse the ranking)",
                             r.intercept, r.slope));
  } catch (const Error& e) {
    use_offset(std::string("the fit failed: ") + e.what());
  }
  return r;
}

}  // namespace cervirisk::study
