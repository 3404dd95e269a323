// Loads a report.html built from the fixture run folder in headless Chromium (Debian's
// `chromium`, scripts/install-deps --reference) and checks the screenshot is a real page.
// Label: slow. Skips when chromium is not installed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "core/atomic_file.h"
#include "figure_check.h"
#include "report/html.h"
#include "report/report_data.h"
#include "test_util.h"

using namespace cervirisk;
namespace fs = std::filesystem;
using cervirisk::testing::TempDir;

namespace {
std::string find_chromium() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (fs::exists(p)) return p;
  return {};
}
}  // namespace

TEST(ReportChromium, ScreenshotIsNotBlank) {
  const std::string chromium = find_chromium();
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed";
  TempDir dir("chromium");
  fs::create_directories(dir / "profile");
  auto data = report::load_run_folder(fs::path(CERV_TEST_DATA) / "report" / "run");
  report::write_report_html(data, dir / "report.html");
  const fs::path shot = dir / "screenshot.png";
  std::string cmd =
      "timeout 120 " + chromium +
      " --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update"
      " --disable-sync --no-first-run --hide-scrollbars --user-data-dir=" +
      (dir / "profile").string() + " --window-size=1280,1400 --screenshot=" + shot.string() + " file://" +
      (dir / "report.html").string() + " > " + (dir / "chromium.log").string() + " 2>&1";
  int rc = std::system(cmd.c_str());
  ASSERT_EQ(rc, 0) << read_file(dir / "chromium.log");
  ASSERT_TRUE(fs::exists(shot)) << read_file(dir / "chromium.log");
  auto png = figtest::decode_png(read_file(shot));
  EXPECT_EQ(png.width, 1280);
  EXPECT_EQ(png.height, 1400);
  EXPECT_GT(figtest::distinct_colours(png), 200u);  // text, the table, the figures
  double nw = figtest::non_white_fraction(png);
  EXPECT_GT(nw, 0.05);
  EXPECT_LT(nw, 0.95);
  // the synthetic-data banner (#fff4d6) and the heading rule (#0072b2) are on the first screen
  bool banner = false, rule = false;
  for (auto v : png.px) {
    banner |= (v & 0xffffff) == 0xfff4d6;
    rule |= (v & 0xffffff) == 0x0072b2;
  }
  EXPECT_TRUE(banner);
  EXPECT_TRUE(rule);
  if (const char* keep = std::getenv("CERV_KEEP_SCREENSHOT"))
    fs::copy_file(shot, keep, fs::copy_options::overwrite_existing);
}
