// Fast failure paths of the study commands (no training): messages name what is missing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli_run.h"

using cervirisk::testing::run_cli;
namespace fs = std::filesystem;

TEST(StudyCli, PredictWithoutBundleIsExit3NamingModelJson) {
  const fs::path d = fs::temp_directory_path() / ("cerv_study_cli_" + std::to_string(::getpid()));
  fs::create_directories(d / "bundle");
  std::ofstream(d / "image.nii.gz") << "x";
  std::ofstream(d / "mask.nii.gz") << "x";
  auto r = run_cli("predict --model " + (d / "bundle").string() + " --image " + (d / "image.nii.gz").string() +
                   " --mask " + (d / "mask.nii.gz").string());
  EXPECT_EQ(r.code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("model.json missing"), std::string::npos) << r.err;
  fs::remove_all(d);
}

TEST(StudyCli, PredictNeedsImageAndMask) {
  auto r = run_cli("predict --model /nonexistent");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("--image and --mask"), std::string::npos) << r.err;
}

TEST(StudyCli, EvaluateWithoutPredictionsNamesTheFolder) {
  const fs::path d = fs::temp_directory_path() / ("cerv_study_eval_" + std::to_string(::getpid()));
  fs::create_directories(d);
  auto r = run_cli("evaluate --run " + d.string());
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find("no predictions"), std::string::npos) << r.err;
  fs::remove_all(d);
}

TEST(StudyCli, StudyWithMissingConfigFails) {
  auto r = run_cli("study --config /nonexistent/study.toml --out /tmp/never");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("/nonexistent/study.toml"), std::string::npos) << r.err;
}

// train.fusion_init = "ladder" needs the rungs trained first: checked before any data is read.
TEST(StudyCli, LadderWithoutItsRungsIsExit2NamingThem) {
  const fs::path d = fs::temp_directory_path() / ("cerv_study_ladder_" + std::to_string(::getpid()));
  fs::create_directories(d);
  std::ofstream(d / "study.toml") << "[data]\nmanifest = \"manifest.csv\"\n[train]\nfusion_init = \"ladder\"\n";
  auto r = run_cli("study --no-report --variants clinical msm_tc --config " + (d / "study.toml").string() + " --out " +
                   (d / "run").string());
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("msm_tc starts from msm_t"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("fusion_init"), std::string::npos) << r.err;
  fs::remove_all(d);
}
