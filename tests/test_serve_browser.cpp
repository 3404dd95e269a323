// The viewer of `cervirisk serve` in Debian's headless Chromium (tests/browser/viewer.mjs,
// puppeteer-core): token, one patient uploaded, the probability read back from the page equal to
// `cervirisk predict`'s to 6 digits, and the NiiVue canvas not blank. Label slow; skipped without
// chromium, node or the npm packages (scripts/install-deps --reference).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>

#include "serve_fixture.h"

using namespace cervirisk::testing::serve;
using cervirisk::testing::run_cli;
using cervirisk::testing::run_command;
using json = nlohmann::json;

TEST(ServeBrowser, ThePageShowsThePredictionAndTheViewerDraws) {
  const std::string web = std::string(CERV_SOURCE_DIR) + "/src/serve/web";
  if (!fs::exists("/usr/bin/chromium")) GTEST_SKIP() << "no /usr/bin/chromium";
  if (!fs::exists(web + "/node_modules/puppeteer-core")) GTEST_SKIP() << "no puppeteer-core (scripts/install-deps --reference)";
  if (run_command("node --version").code != 0) GTEST_SKIP() << "no node";
  const fs::path run = work_dir() / "run", data = work_dir() / "data";
  Server s("--model " + (run / "models" / "msm_tc").string() + " --token-file " + (work_dir() / "btoken").string() +
           " --web-dir " + (fs::path(CERV_BINARY).parent_path().parent_path() / "share" / "cervirisk" / "web").string());
  ASSERT_GT(s.port, 0) << slurp(s.err);
  std::string token = slurp(work_dir() / "btoken");
  token.pop_back();
  const std::string id = "A004";
  const fs::path image = data / "images" / (id + "_t2.nii.gz"), mask = data / "masks" / (id + "_mask.nii.gz"),
                 report = data / "reports" / (id + ".txt");
  const fs::path shot = work_dir() / "viewer.png";
  auto r = run_command("node " + std::string(CERV_SOURCE_DIR) + "/tests/browser/viewer.mjs http://127.0.0.1:" +
                       std::to_string(s.port) + "/ " + token + " " + image.string() + " " + mask.string() + " " +
                       report.string() + " " + shot.string());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const auto page = json::parse(r.out.substr(r.out.rfind('{')));
  auto cli = run_cli("predict --model " + (run / "models" / "msm_tc").string() + " --image " + image.string() +
                     " --mask " + mask.string() + " --report " + report.string());
  ASSERT_EQ(cli.code, 0) << cli.err;
  const double expected = json::parse(cli.out)["probability"].get<double>();
  EXPECT_NEAR(page["probability"].get<double>(), expected, 5e-7) << r.out;
  EXPECT_EQ(page["errors"].size(), 0u) << page["errors"].dump();
  // The canvas shows the MRI: a good share of its pixels are not background.
  ASSERT_GT(page["pixels"].get<int>(), 10000);
  EXPECT_GT(page["lit_pixels"].get<double>() / page["pixels"].get<double>(), 0.05) << r.out;
  EXPECT_GT(fs::file_size(shot), 20000u);
}
