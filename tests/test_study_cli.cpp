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

// --device cuda on a LibTorch without CUDA (Debian's): exit 2 with the reason, before any data is
// read; the same for train.device in the config. Skipped where the LibTorch has CUDA.
TEST(StudyCli, CudaOnThisBuildIsExit2WithTheReason) {
  auto v = run_cli("--version");
  if (v.out.find("without CUDA") == std::string::npos) GTEST_SKIP() << "this build has CUDA: " << v.out;
  const fs::path d = fs::temp_directory_path() / ("cerv_study_cuda_" + std::to_string(::getpid()));
  fs::create_directories(d);
  std::ofstream(d / "study.toml") << "[data]\nmanifest = \"manifest.csv\"\n";
  auto r = run_cli("--device cuda study --no-report --config " + (d / "study.toml").string() + " --out " +
                   (d / "run").string());
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("device 'cuda': this cervirisk runs on a LibTorch"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("without CUDA"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("docs/install.md"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(d / "run")) << "work started before the device was checked";
  std::ofstream(d / "gpu.toml") << "[data]\nmanifest = \"manifest.csv\"\n[train]\ndevice = \"cuda:1\"\n";
  r = run_cli("study --no-report --config " + (d / "gpu.toml").string() + " --out " + (d / "run2").string());
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("device 'cuda:1'"), std::string::npos) << r.err;
  r = run_cli("--device tpu predict --model /nonexistent");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("expected cpu, cuda or cuda:N"), std::string::npos) << r.err;
  fs::remove_all(d);
}
