// Steps of the study tested on their own (src/study/steps.h): the choice of the report's example
// patients, the metrics of a hand-made prediction set.
#include <gtest/gtest.h>

#include <cmath>

#include "study/steps.h"

using namespace cervirisk;
using namespace cervirisk::study;

namespace {
runfolder::Prediction row(const char* id, const char* cohort, int label, double prob) {
  runfolder::Prediction r;
  r.id = id;
  r.cohort = cohort;
  r.label = label;
  r.probability = prob;
  return r;
}
}  // namespace

TEST(StudySteps, ChooseExamplesPerCohort) {
  const std::vector<runfolder::Prediction> p = {row("a", "external", 1, 0.9), row("b", "external", 1, 0.7),
                                                row("c", "external", 1, 0.2), row("d", "external", 1, 0.1),
                                                row("e", "external", 0, 0.95), row("f", "internal", 1, 0.3),
                                                row("g", "internal", 0, 0.05)};
  const auto ex = choose_examples(p, 0.5, "msm_tc", {"internal", "external"});
  ASSERT_EQ(ex.size(), 3u);
  EXPECT_EQ(ex[0].id, "f");
  EXPECT_EQ(ex[0].kind, "false negative");
  EXPECT_EQ(ex[1].id, "a");  // the true positive with the highest probability
  EXPECT_EQ(ex[1].kind, "true positive");
  EXPECT_EQ(ex[2].id, "d");  // the false negative with the lowest
  EXPECT_EQ(ex[2].variant, "msm_tc");
}

TEST(StudySteps, MetricsOfAHandMadePredictionSet) {
  // 4 cases, 4 controls on the external cohort; 15 of 16 case-control pairs ordered: AUC 15/16.
  std::vector<runfolder::Prediction> rows;
  const double prob[] = {0.9, 0.8, 0.7, 0.3, 0.6, 0.2, 0.1, 0.05};
  for (int i = 0; i < 8; ++i) {
    auto r = row(("P" + std::to_string(i)).c_str(), "external", i < 4, prob[i]);
    r.time_months = 10.0 + i;
    r.event = i < 4;
    r.risk = std::log(prob[i] / (1 - prob[i]));
    rows.push_back(r);
  }
  std::vector<runfolder::Comparison> cmp;
  const auto m = compute_metrics({"clinical"}, {{"clinical", {rows, 0.5, 0.0}}}, &cmp);
  EXPECT_EQ(m.reference_variant, "clinical");  // msm_tc absent: the last variant
  ASSERT_EQ(m.metrics.size(), 1u);
  const auto& e = m.metrics[0];
  EXPECT_EQ(e.n, 8);
  EXPECT_EQ(e.events, 4);
  EXPECT_DOUBLE_EQ(e.auc, 15.0 / 16);
  ASSERT_TRUE(e.at_threshold.has_value());
  EXPECT_DOUBLE_EQ(e.at_threshold->sensitivity, 0.75);  // 0.9, 0.8, 0.7 >= 0.5
  EXPECT_DOUBLE_EQ(e.at_threshold->specificity, 0.75);  // 0.6 >= 0.5 is a false positive
  EXPECT_FALSE(e.delong_p.has_value());                 // the reference itself
  EXPECT_TRUE(cmp.empty());
  ASSERT_EQ(m.survival.size(), 1u);
  EXPECT_EQ(m.survival[0].groups.size(), 2u);
  EXPECT_EQ(m.survival[0].groups[1].follow_up.size(), 4u);  // risk >= 0: probability >= 0.5
}
