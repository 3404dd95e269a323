// The cohort manifest, clinical schema, split and every guard, each made to fire by a crafted
// manifest (asserted by message); reverse Kaplan-Meier follow-up against R's survival package.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include "core/atomic_file.h"
#include "core/config.h"
#include "core/error.h"
#include "data/cohort.h"
#include "data/csv.h"
#include "data/utf8.h"
#include "io/dicom.h"
#include "io/mask.h"
#include "io/nifti.h"
#include "io/table.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace cervirisk;
using cervirisk::testing::error_message;
using cervirisk::testing::TempDir;
using data::Severity;

namespace {

const char* kToml = R"(
[study]
seed = 7
[data]
manifest = "manifest.csv"
[split]
external_centers = ["C"]
[[clinical]]
name = "age"
type = "numeric"
unit = "years"
min = 18.0
max = 95.0
[[clinical]]
name = "stage"
type = "ordinal"
levels = ["IB1", "IB2", "IIA1"]
[[clinical]]
name = "lvsi"
type = "categorical"
levels = ["no", "yes"]
)";

const char* kHeader = "patient_id,center,image,mask,report,event,time_months,age,stage,lvsi\n";

class CohortTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tmp_ = std::make_unique<TempDir>("cohort");
    dir_ = tmp_->path();
    fs::create_directories(dir_ / "reports");
    write("reports/ok.txt", "宫颈见团块状稍长T2信号影。");
  }
  void TearDown() override { tmp_.reset(); }
  void write(const std::string& name, const std::string& content) {
    std::ofstream f(dir_ / name, std::ios::binary);
    f << content;
  }
  data::Cohort load(const std::string& manifest, const std::string& toml = kToml) {
    write("manifest.csv", manifest);
    write("study.toml", toml);
    return data::load_cohort(config::Config::load(dir_ / "study.toml"), false);
  }
  static const data::Finding* find(const data::Cohort& c, const std::string& guard) {
    for (const auto& f : c.findings)
      if (f.guard == guard) return &f;
    return nullptr;
  }
  std::unique_ptr<TempDir> tmp_;
  fs::path dir_;
};

std::string row(const std::string& id, const std::string& center, const std::string& rest = "0,24.0,50,IB1,no",
                const std::string& report = "reports/ok.txt") {
  return id + "," + center + ",img/" + id + ".nii.gz,img/" + id + "_mask.nii.gz," + report + "," + rest + "\n";
}

}  // namespace

TEST(Csv, FixedDecimals) {
  EXPECT_EQ(data::fixed(61.0, 0), "61");
  EXPECT_EQ(data::fixed(1.0 / 3, 4), "0.3333");
  EXPECT_EQ(data::fixed(-7.25, 1), "-7.2");  // printf rounds the exact binary value, half to even
  EXPECT_EQ(data::fixed(1e300, 1).size(), 303u);
}

TEST(Csv, FieldQuoting) {
  // Reading trims spaces and tabs and skips a byte order mark at the start of a file: fields that
  // would lose them are quoted (a tab and a leading BOM were found unquoted by fuzzing).
  EXPECT_EQ(io::csv_field("\tx"), "\"\tx\"");
  EXPECT_EQ(io::csv_field("y\t"), "\"y\t\"");
  EXPECT_EQ(io::csv_field("\xEF\xBB\xBFid"), "\"\xEF\xBB\xBFid\"");
  for (const std::string cell : {"\tx", " y ", "\xEF\xBB\xBFid", "a\"b", "two\nlines"}) {
    const io::Table t = io::Table::parse_csv(io::csv_field(cell) + ",b\n1,2\n", "t.csv");
    EXPECT_EQ(t.column_names()[0], cell);
  }
  EXPECT_EQ(io::csv_field("IB2"), "IB2");
  EXPECT_EQ(io::csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(io::csv_field("say \"x\""), "\"say \"\"x\"\"\"");
  EXPECT_EQ(io::csv_field("a;b", ';'), "\"a;b\"");
}

TEST(Csv, TablesThatAreNotUtf8AreRefusedNamingTheLine) {
  // A manifest exported as GB18030 ("宫颈" is B9 AC BE B1): refused with the line, not passed on.
  const std::string msg = error_message(
      [] { io::Table::parse_csv("patient_id,report\nA001,\xB9\xAC\xBE\xB1\n", "manifest.csv"); },
      ExitCode::kCorruptInput);
  EXPECT_NE(msg.find("manifest.csv:2: not valid UTF-8 (byte 0xb9"), std::string::npos) << msg;
  EXPECT_NE(msg.find("save the table as UTF-8"), std::string::npos) << msg;
  EXPECT_EQ(io::Table::parse_csv("\xEF\xBB\xBFid,name\n1,宫颈\n", "ok.csv").cell(0, 1), "宫颈");
}

TEST(Utf8, RejectsOverlongSurrogatesAndTruncation) {
  EXPECT_EQ(data::utf8_invalid_offset("宫颈 FIGO IB2期"), std::string_view::npos);
  EXPECT_EQ(data::utf8_invalid_offset("ab\xC0\xAF"), 2u);          // overlong '/'
  EXPECT_EQ(data::utf8_invalid_offset("\xED\xA0\x80"), 0u);        // UTF-16 surrogate
  EXPECT_EQ(data::utf8_invalid_offset("x\xE5\xAE"), 1u);           // truncated
  EXPECT_EQ(data::utf8_invalid_offset("\xF4\x90\x80\x80"), 0u);    // above U+10FFFF
  EXPECT_EQ(data::utf8_invalid_offset("\xF0\x9F\x98\x80"), std::string_view::npos);
}

TEST_F(CohortTest, LoadsValuesReportsAndConfiguredSplit) {
  std::string m = kHeader;
  m += row("A1", "A", "1,7.5,61,IB2,yes");
  m += row("A2", "A", "0,60,NA,IIA1,", "");
  m += "A3,A,img/A3.nii.gz,img/A3_mask.nii.gz,,0,40,44,IB1,no\n";
  m += row("C1", "C");
  const auto c = load(m);
  EXPECT_FALSE(c.has_errors());
  EXPECT_EQ(c.split_source, "config");
  ASSERT_EQ(c.patients.size(), 4u);
  const auto& a1 = c.patients[0];
  EXPECT_EQ(a1.event, 1);
  EXPECT_DOUBLE_EQ(a1.time_months, 7.5);
  EXPECT_DOUBLE_EQ(a1.clinical[0].number, 61);
  EXPECT_EQ(a1.clinical[1].level, 1);
  EXPECT_EQ(a1.clinical[2].level, 1);
  ASSERT_TRUE(a1.report.has_value());
  EXPECT_EQ(*a1.report, "宫颈见团块状稍长T2信号影。");
  EXPECT_EQ(a1.image, (dir_ / "img/A1.nii.gz").lexically_normal());
  EXPECT_TRUE(c.patients[1].clinical[0].missing);  // NA
  EXPECT_TRUE(c.patients[1].clinical[2].missing);  // empty
  EXPECT_FALSE(c.patients[1].report.has_value());
  EXPECT_EQ(c.patients[3].cohort, data::CohortKind::kExternal);
  for (int i = 0; i < 3; ++i) EXPECT_NE(c.patients[static_cast<std::size_t>(i)].cohort, data::CohortKind::kExternal);
  // report missing is a warning naming the patients, not an error.
  const auto* f = find(c, "report_missing");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::kWarning);
  EXPECT_EQ(f->patient_ids, (std::vector<std::string>{"A2", "A3"}));
}

TEST_F(CohortTest, ClinicalRowHoldsTheRawNonMissingValuesByName) {
  std::string m = kHeader;
  m += row("A1", "A", "1,7.5, 61 ,IB2,yes");
  m += row("A2", "A", "0,60,NA,IIA1,", "");
  m += row("A3", "A", "0,60,NA,,");
  const auto c = load(m);
  ASSERT_EQ(c.patients.size(), 3u);
  using Row = std::map<std::string, std::string>;
  // As written (trimmed), not the parsed number or level index.
  EXPECT_EQ(c.clinical_row(c.patients[0]), (Row{{"age", "61"}, {"lvsi", "yes"}, {"stage", "IB2"}}));
  EXPECT_EQ(c.clinical_row(c.patients[1]), (Row{{"stage", "IIA1"}}));
  EXPECT_TRUE(c.clinical_row(c.patients[2]).empty());
}

TEST(CohortNames, RoundTripAndCaseInsensitiveParse) {
  for (auto k : {data::CohortKind::kTrain, data::CohortKind::kInternal, data::CohortKind::kExternal})
    EXPECT_EQ(data::parse_cohort(data::cohort_name(k)), k);
  EXPECT_EQ(data::parse_cohort("External"), data::CohortKind::kExternal);
  EXPECT_EQ(data::parse_cohort("TRAIN"), data::CohortKind::kTrain);
  EXPECT_FALSE(data::parse_cohort("test").has_value());
  EXPECT_FALSE(data::parse_cohort("").has_value());
  EXPECT_STREQ(data::cohort_name(static_cast<data::CohortKind>(7)), "?");
  // The test cohorts by name, as the run folder writes them.
  EXPECT_TRUE(data::is_test_cohort("test_external"));
  EXPECT_TRUE(data::is_test_cohort("test_internal"));
  EXPECT_FALSE(data::is_test_cohort("external"));
  EXPECT_FALSE(data::is_test_cohort("test_other"));  // not a cohort at all
  EXPECT_FALSE(data::is_test_cohort(""));
}

TEST_F(CohortTest, SpreadsheetDialect) {
  // BOM, semicolons, CRLF, a quoted inline report with the delimiter, a quote and a line break.
  std::string m = "\xEF\xBB\xBFpatient_id;center;image;mask;report_text;event;time_months;age;stage;lvsi\r\n";
  m += "A1;A;a.nii;am.nii;\"Mass; 3 \"\"cm\"\"\nIB2\";0;12,5;50;IB1;no\r\n";
  m += "A2;A;b.nii;bm.nii;;1;7;51;IB2;yes\r\n";
  const auto c = load(m);
  ASSERT_EQ(c.patients.size(), 2u);
  ASSERT_TRUE(c.patients[0].report.has_value());
  EXPECT_EQ(*c.patients[0].report, "Mass; 3 \"cm\"\nIB2");
  // A decimal comma is not a number: the error names the row, line and column.
  const auto* f = find(c, "bad_time");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->message, "manifest.csv row 1 (line 2) (patient A1), column time_months: '12,5' is not a number >= 0");
  EXPECT_EQ(c.patients[1].row, 2u);
  EXPECT_EQ(c.patients[1].event, 1);
}

TEST_F(CohortTest, DuplicateIdFires) {
  std::string m = kHeader;
  m += row("A1", "A") + row("A2", "A") + row("A1", "A");
  const auto c = load(m);
  const auto* f = find(c, "duplicate_id");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::kError);
  EXPECT_EQ(f->patient_ids, std::vector<std::string>{"A1"});
  EXPECT_NE(f->message.find("A1 in rows 1 (train), 3 (train)"), std::string::npos) << f->message;
}

TEST_F(CohortTest, PatientInTwoCohortsFires) {
  std::string m = "patient_id,center,cohort,image,mask,report,event,time_months,age,stage,lvsi\n";
  m += "A1,A,train,a.nii,am.nii,,0,12,50,IB1,no\nA2,A,internal,b.nii,bm.nii,,0,12,50,IB1,no\n";
  m += "A1,A,internal,c.nii,cm.nii,,0,12,50,IB1,no\n";
  const auto c = load(m);
  EXPECT_EQ(c.split_source, "manifest");
  const auto* f = find(c, "patient_in_two_cohorts");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->patient_ids, std::vector<std::string>{"A1"});
  EXPECT_NE(f->message.find("A1 in rows 1 (train), 3 (internal)"), std::string::npos) << f->message;
  EXPECT_EQ(find(c, "duplicate_id"), nullptr);
}

TEST_F(CohortTest, ClinicalOutOfRangeNamesRowAndColumn) {
  std::string m = kHeader;
  m += row("A1", "A") + row("A2", "A", "0,24,150,IB1,no");
  const auto c = load(m);
  const auto* f = find(c, "clinical_out_of_range");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->message, "manifest.csv row 2 (line 3) (patient A2), column age: 150 years is outside the plausible range [18, 95]");
  EXPECT_EQ(f->patient_ids, std::vector<std::string>{"A2"});
}

TEST_F(CohortTest, ClinicalUnknownLevelAndNotNumeric) {
  std::string m = kHeader;
  m += row("A1", "A", "0,24,50,IIC,no") + row("A2", "A", "0,24,fifty,IB1,maybe");
  const auto c = load(m);
  const auto* f = find(c, "clinical_unknown_level");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->message, "manifest.csv row 1 (line 2) (patient A1), column stage: unknown level 'IIC' (allowed: IB1, IB2, IIA1)");
  int unknown = 0;
  for (const auto& x : c.findings) unknown += x.guard == "clinical_unknown_level";
  EXPECT_EQ(unknown, 2);  // A1 stage, A2 lvsi
  const auto* g = find(c, "clinical_not_numeric");
  ASSERT_NE(g, nullptr);
  EXPECT_NE(g->message.find("column age: 'fifty' is not a number"), std::string::npos) << g->message;
}

TEST_F(CohortTest, EventWithoutTimeFires) {
  std::string m = kHeader;
  m += row("A1", "A", "1,,50,IB1,no") + row("A2", "A", "1,NA,50,IB1,no") + row("A3", "A", "0,,50,IB1,no");
  const auto c = load(m);
  const auto* f = find(c, "event_without_time");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->patient_ids, (std::vector<std::string>{"A1", "A2"}));
  EXPECT_EQ(f->message, "event = 1 with no time_months: A1, A2");
  const auto* w = find(c, "time_missing");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->severity, Severity::kWarning);
  const auto* e = find(c, "bad_event");
  EXPECT_EQ(e, nullptr);
}

TEST_F(CohortTest, BadEventValue) {
  std::string m = kHeader;
  m += row("A1", "A", "yes,12,50,IB1,no");
  const auto c = load(m);
  const auto* f = find(c, "bad_event");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->message.find("column event: 'yes' is not 0 or 1"), std::string::npos);
}

TEST_F(CohortTest, ReportNotUtf8Fires) {
  write("reports/latin1.txt", "Cervical mass, 3\xB4 cm");  // Latin-1 acute accent
  std::string m = kHeader;
  m += row("A1", "A") + row("A2", "A", "0,24.0,50,IB1,no", "reports/latin1.txt");
  const auto c = load(m);
  const auto* f = find(c, "report_not_utf8");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::kError);
  EXPECT_EQ(f->patient_ids, std::vector<std::string>{"A2"});
  EXPECT_NE(f->message.find("latin1.txt, byte 16"), std::string::npos) << f->message;
}

TEST_F(CohortTest, ReportFileMissingIsAnError) {
  std::string m = kHeader;
  m += row("A1", "A", "0,24.0,50,IB1,no", "reports/nope.txt");
  const auto c = load(m);
  const auto* f = find(c, "report_file_missing");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->message.find("file not found"), std::string::npos);
}

TEST_F(CohortTest, ExternalSharingTrainingCentreFires) {
  std::string m = "patient_id,center,cohort,image,mask,report,event,time_months,age,stage,lvsi\n";
  m += "A1,A,train,a.nii,am.nii,,0,12,50,IB1,no\nA2,A,external,b.nii,bm.nii,,1,12,50,IB1,no\n";
  m += "C1,C,external,c.nii,cm.nii,,0,12,50,IB1,no\n";
  const auto c = load(m);
  const auto* f = find(c, "external_shares_center");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->patient_ids, std::vector<std::string>{"A2"});
  EXPECT_NE(f->message.find("centre 'A' has patients in the external cohort and in training"), std::string::npos);
  EXPECT_EQ(std::count_if(c.findings.begin(), c.findings.end(), [](const auto& x) { return x.guard == "external_shares_center"; }), 1);
}

TEST_F(CohortTest, UnknownExternalCentreAndPartialCohortColumn) {
  std::string m = kHeader;
  m += row("A1", "A") + row("B1", "B");
  const auto c = load(m);  // external_centers = ["C"], no patient of C
  const auto* f = find(c, "unknown_external_center");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->message.find("names centre 'C', which has no patient (centres: A, B)"), std::string::npos) << f->message;

  std::string m2 = "patient_id,center,cohort,image,mask,report,event,time_months,age,stage,lvsi\n";
  m2 += "A1,A,train,a.nii,am.nii,,0,12,50,IB1,no\nA2,A,,b.nii,bm.nii,,1,12,50,IB1,no\nC1,C,external,c.nii,cm.nii,,0,1,50,IB1,no\n";
  EXPECT_NE(find(load(m2), "cohort_partial"), nullptr);
}

TEST_F(CohortTest, ThrowingLoadIsExit5WithEveryError) {
  std::string m = kHeader;
  m += row("A1", "A", "1,,50,IB1,no") + row("A1", "A", "0,24,50,IB9,no");
  write("manifest.csv", m);
  write("study.toml", kToml);
  try {
    data::load_cohort(config::Config::load(dir_ / "study.toml"));
    FAIL() << "expected ValidationError";
  } catch (const ValidationError& e) {
    EXPECT_EQ(e.exit_code(), 5);
    const std::string w = e.what();
    EXPECT_NE(w.find("[duplicate_id]"), std::string::npos) << w;
    EXPECT_NE(w.find("[event_without_time]"), std::string::npos) << w;
    EXPECT_NE(w.find("[clinical_unknown_level]"), std::string::npos) << w;
  }
}

TEST_F(CohortTest, MissingColumnsAndManifest) {
  write("study.toml", kToml);
  EXPECT_THROW(data::load_cohort(config::Config::load(dir_ / "study.toml")), InputError);
  write("manifest.csv", "patient_id,center,image,mask,event,time_months,age,stage\nA1,A,a,b,0,1,50,IB1\n");
  try {
    data::load_cohort(config::Config::load(dir_ / "study.toml"));
    FAIL();
  } catch (const ValidationError& e) {
    EXPECT_NE(std::string(e.what()).find("clinical column 'lvsi' declared in"), std::string::npos) << e.what();
  }
}

TEST(Split, StratifiedSeededAndOrderIndependent) {
  std::vector<data::SplitRow> rows;
  for (int i = 0; i < 300; ++i) rows.push_back({"P" + std::to_string(1000 + i), i < 200 ? "A" : (i < 260 ? "B" : "C"), i % 5 == 0});
  const auto k1 = data::assign_split(rows, {"C"}, 0.3, true, 11);
  int internal = 0, internal_events = 0, events = 0, external = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (k1[i] == data::CohortKind::kExternal) {
      ++external;
      EXPECT_EQ(rows[i].center, "C");
      continue;
    }
    events += rows[i].event;
    if (k1[i] == data::CohortKind::kInternal) ++internal, internal_events += rows[i].event;
  }
  EXPECT_EQ(external, 40);
  EXPECT_EQ(internal, 78);         // round(0.3 * 52) + round(0.3 * 208) = 16 + 62
  EXPECT_EQ(internal_events, 16);  // stratified: 30 % of the 52 events
  EXPECT_EQ(events, 52);
  // Same seed -> same split, whatever the row order; another seed -> another split.
  auto rev = rows;
  std::reverse(rev.begin(), rev.end());
  const auto k2 = data::assign_split(rev, {"C"}, 0.3, true, 11);
  for (std::size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(k1[i], k2[rows.size() - 1 - i]);
  EXPECT_NE(k1, data::assign_split(rows, {"C"}, 0.3, true, 12));
}

// Golden from R survival (tests/data/data/reverse_km.csv; scripts/make-data-goldens.R).
TEST(ReverseKm, MatchesRSurvival) {
  std::string text = read_file(fs::path(CERV_TEST_DATA) / "data" / "reverse_km.csv");
  text.erase(0, text.find('\n') + 1);  // the provenance comment
  const auto t = io::Table::parse_csv(text, "reverse_km.csv");
  std::map<std::string, std::pair<std::vector<double>, std::vector<int>>> sets;
  std::map<std::string, double> want;
  for (std::size_t r = 0; r < t.rows(); ++r) {
    const std::string kind = t.cell(r, 0), name = t.cell(r, 1), time = t.cell(r, 2), event = t.cell(r, 3);
    if (kind == "median") {
      want[name] = time == "NA" ? std::nan("") : std::stod(time);
      continue;
    }
    sets[name].first.push_back(std::stod(time));
    sets[name].second.push_back(std::stoi(event));
  }
  ASSERT_GE(want.size(), 3u);
  for (const auto& [name, s] : sets) {
    const double got = data::reverse_km_median(s.first, s.second);
    if (std::isnan(want[name])) EXPECT_TRUE(std::isnan(got)) << name;
    else EXPECT_NEAR(got, want[name], 1e-9) << name;
  }
}

// --- image guards (need NIfTI files) ------------------------------------------------------------

namespace {
io::Volume cube(double fill, const io::Vec3& origin = {0, 0, 0}) {
  io::Volume v;
  v.geometry.shape = {8, 8, 4};
  v.geometry.spacing_mm = {1, 1, 3};
  v.geometry.origin_lps_mm = origin;
  v.voxels.assign(256, 0.0f);
  for (std::size_t i = 0; i < v.voxels.size(); ++i) v.voxels[i] = static_cast<float>(fill == 0 ? 0 : (i % 7) + fill);
  return v;
}
}  // namespace

TEST_F(CohortTest, ImageGuardsFire) {
  fs::create_directories(dir_ / "img");
  auto img = [&](const std::string& id, double fill) { io::write_nifti(cube(fill), dir_ / "img" / (id + ".nii.gz"), io::NiftiDtype::kInt16); };
  auto mask = [&](const std::string& id, bool empty, const io::Vec3& origin = {0, 0, 0}) {
    io::Volume m = cube(0, origin);
    if (!empty) m.at(3, 3, 1) = 1;
    io::write_nifti(m, dir_ / "img" / (id + "_mask.nii.gz"), io::NiftiDtype::kUInt8);
  };
  img("A1", 10), mask("A1", false);
  img("A2", 20), mask("A2", true);                      // empty mask
  img("A3", 30), mask("A3", false, {500, 0, 0});        // mask far outside its image
  fs::copy_file(dir_ / "img/A1.nii.gz", dir_ / "img/A4.nii.gz");  // the same scan twice
  mask("A4", false);
  img("C1", 40), mask("C1", false);
  std::string m = kHeader;
  m += row("A1", "A") + row("A2", "A") + row("A3", "A") + row("A4", "A") + row("C1", "C") + row("C2", "C");
  auto c = load(m);
  const auto geo = data::check_images(c, 2);
  ASSERT_EQ(geo.size(), 6u);
  EXPECT_EQ(geo[0].shape[2], 4);
  const auto* same = find(c, "identical_images");
  ASSERT_NE(same, nullptr);
  EXPECT_EQ(same->patient_ids, (std::vector<std::string>{"A1", "A4"}));
  EXPECT_NE(same->message.find("A1 = A4"), std::string::npos) << same->message;
  const auto* empty = find(c, "mask_empty");
  ASSERT_NE(empty, nullptr);
  EXPECT_EQ(empty->patient_ids, std::vector<std::string>{"A2"});
  const auto* outside = find(c, "mask_outside_image");
  ASSERT_NE(outside, nullptr);
  EXPECT_EQ(outside->patient_ids, std::vector<std::string>{"A3"});
  EXPECT_NE(outside->message.find("mask does not overlap its image"), std::string::npos);
  const auto* missing = find(c, "image_not_found");
  ASSERT_NE(missing, nullptr);
  EXPECT_EQ(missing->patient_ids, std::vector<std::string>{"C2"});
  // The table knows each centre's geometry.
  const auto table = data::cohort_table(c, &geo);
  ASSERT_EQ(table.geometry.size(), 2u);
  EXPECT_EQ(table.geometry[0].shape, "8x8x4");
  EXPECT_EQ(table.geometry[0].orientation, "LPS");
  EXPECT_NE(table.json().find("\"identical_images\""), std::string::npos);
}

TEST_F(CohortTest, CohortTableCountsEventsAndMissing) {
  std::string m = kHeader;
  m += row("A1", "A", "1,6,,IB1,no") + row("A2", "A", "0,30,50,IB1,") + row("A3", "A", "0,40,50,IB1,no");
  m += row("C1", "C", "1,10,NA,IB1,no") + row("C2", "C", "0,20,60,IB2,yes");
  const auto c = load(m);
  const auto t = data::cohort_table(c);
  const auto& total = t.rows.back();
  EXPECT_EQ(total.cohort, "all");
  EXPECT_EQ(total.patients, 5);
  EXPECT_EQ(total.events, 2);
  EXPECT_EQ(total.missing, (std::vector<int>{2, 0, 1}));
  const std::string csv = t.csv();
  EXPECT_NE(csv.find("cohort,center,patients,events,event_percent,reports,followup_median_months,missing_age,missing_stage,missing_lvsi"),
            std::string::npos);
  EXPECT_NE(csv.find("external,C,2,1,50.0,2,20.0,1,0,0"), std::string::npos) << csv;
}

// An image given as a DICOM folder is read as a series; copies are caught by content.
TEST_F(CohortTest, DicomFolderImages) {
  const fs::path src = fs::path(CERV_TEST_DATA) / "io" / "dicom" / "MR_small.dcm";
  for (const char* id : {"A1", "A2"}) {
    fs::create_directories(dir_ / "img" / id);
    fs::copy_file(src, dir_ / "img" / id / (std::string(id) == "A1" ? "slice1.dcm" : "renamed.dcm"));
  }
  const io::Volume image = io::read_dicom(dir_ / "img" / "A1");
  io::Volume m;
  m.geometry = image.geometry;
  m.voxels.assign(image.voxels.size(), 0.0f);
  m.voxels[m.voxels.size() / 2] = 1;
  io::write_nifti(m, dir_ / "img" / "A1_mask.nii.gz", io::NiftiDtype::kUInt8);
  io::write_nifti(m, dir_ / "img" / "A2_mask.nii.gz", io::NiftiDtype::kUInt8);
  std::string man = "patient_id,center,image,mask,report,event,time_months,age,stage,lvsi\n";
  man += "A1,A,img/A1,img/A1_mask.nii.gz,reports/ok.txt,0,12,50,IB1,no\n";
  man += "A2,A,img/A2,img/A2_mask.nii.gz,reports/ok.txt,0,12,50,IB1,no\n";
  auto c = load(man, std::string(kToml).replace(std::string(kToml).find("external_centers = [\"C\"]"), 24, "external_centers = []"));
  const auto geo = data::check_images(c, 1);
  EXPECT_EQ(geo[0].shape, image.geometry.shape);
  const auto* same = find(c, "identical_images");
  ASSERT_NE(same, nullptr);
  EXPECT_EQ(same->patient_ids, (std::vector<std::string>{"A1", "A2"}));
  EXPECT_EQ(find(c, "image_unreadable"), nullptr);
  EXPECT_EQ(find(c, "mask_outside_image"), nullptr);
}

// Hospital files in the manifest: an RTSTRUCT (on a plastimatch-written DICOM series) and a
// 3D Slicer .seg.nrrd, each chosen by the mask_segment column (or data.mask_segment); every
// guard and the preprocessing read them like NIfTI masks.
TEST_F(CohortTest, RtstructAndSegNrrdMasksWithMaskSegment) {
  const fs::path dob = fs::path(CERV_TEST_DATA) / "dicom_objects", fmt = fs::path(CERV_TEST_DATA) / "formats";
  auto row2 = [](const std::string& id, const std::string& center, const fs::path& image, const fs::path& mask,
                 const std::string& segment) {
    return id + "," + center + "," + image.string() + "," + mask.string() + "," + segment + ",0,24,50,IB1,no\n";
  };
  const std::string header = "patient_id,center,image,mask,mask_segment,event,time_months,age,stage,lvsi\n";
  std::string m = header + row2("R1", "A", dob / "image", dob / "rtstruct.dcm", "gtv") +
                  row2("R2", "A", dob / "image", dob / "rtstruct.dcm", "Bladder") +
                  row2("S1", "C", fmt / "oblique_t2.nii.gz", fmt / "three_segments.seg.nrrd", "GTV") +
                  row2("S2", "C", fmt / "oblique_t2.nii.gz", fmt / "three_segments.seg.nrrd", "3");
  auto c = load(m);
  EXPECT_EQ(c.patients.at(0).mask_segment, "gtv");
  data::check_images(c, 2);
  for (const auto& f : c.findings)
    EXPECT_TRUE(f.guard == "identical_images" || f.severity == data::Severity::kWarning) << f.guard << ": " << f.message;
  // The RTSTRUCT's GTV on the series' grid is the mask plastimatch was given (Dice >= 0.95).
  const io::Volume image = io::read_image(dob / "image");
  const io::Volume gtv = io::read_mask(dob / "rtstruct.dcm", image.geometry, {"GTV"});
  const io::Volume truth = io::read_mask(dob / "gtv.nii.gz", image.geometry);
  double both = 0, a = 0, b = 0;
  for (std::size_t i = 0; i < gtv.voxels.size(); ++i)
    both += gtv.voxels[i] * truth.voxels[i], a += gtv.voxels[i], b += truth.voxels[i];
  EXPECT_GE(2 * both / (a + b), 0.95);
  // The .seg.nrrd's GTV [1] equals the NIfTI mask it was made from.
  const io::Volume t2 = io::read_image(fmt / "oblique_t2.nii.gz");
  const io::Volume seg = io::read_mask(fmt / "three_segments.seg.nrrd", t2.geometry, {"gtv"});
  EXPECT_EQ(seg.voxels, io::read_mask(fmt / "oblique_mask.nii.gz", t2.geometry).voxels);

  // Without a name the file is ambiguous: the guard lists the structures.
  m = header + row2("R1", "A", dob / "image", dob / "rtstruct.dcm", "") +
      row2("S1", "C", fmt / "oblique_t2.nii.gz", fmt / "three_segments.seg.nrrd", "tumour");
  auto bad = load(m);
  data::check_images(bad, 2);
  const auto* f = find(bad, "mask_segment");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->message.find("GTV [0], Bladder [1]"), std::string::npos) << f->message;
  bool listed = false;
  for (const auto& x : bad.findings)
    listed = listed || (x.guard == "mask_segment" && x.message.find("no segment named \"tumour\"") != std::string::npos &&
                        x.message.find("CTV ring [2]") != std::string::npos);
  EXPECT_TRUE(listed);
  // data.mask_segment fills empty cells.
  std::string toml = kToml;
  toml.replace(toml.find("[data]\n"), 7, "[data]\nmask_segment = \"GTV\"\n");
  auto dflt = load(header + row2("R1", "A", dob / "image", dob / "rtstruct.dcm", ""), toml);
  EXPECT_EQ(dflt.patients.at(0).mask_segment, "GTV");
}

// A held-out test set named in the cohort column (test_internal / test_external, the rest of the
// column empty): those rows keep their kind, and the config splits the other rows exactly as it
// does without them -- the test set changes nobody's cohort.
TEST_F(CohortTest, TestSetRowsKeepTheirKindAndLeaveTheSplitUnchanged) {
  const char* toml = kToml;  // split.external_centers = ["C"], the default internal_fraction 0.3
  const std::string header = "patient_id,center,cohort,image,mask,report,event,time_months,age,stage,lvsi\n";
  auto line = [](const std::string& id, const std::string& center, const std::string& cohort, int event) {
    return id + "," + center + "," + cohort + ",i.nii,m.nii,," + std::to_string(event) + ",24,50,IB1,no\n";
  };
  std::string study, with_test;
  for (int i = 0; i < 20; ++i) {
    const std::string id = (i < 14 ? "A" : "C") + std::to_string(i);
    study += line(id, i < 14 ? "A" : "C", "", i % 4 == 0);
  }
  with_test = study;
  for (int i = 0; i < 6; ++i) with_test += line("TC" + std::to_string(i), "C", "test_external", i % 2);
  with_test += line("TA1", "A", "Test_Internal", 0);  // case-insensitive, as the other kinds
  const auto a = load(header + study, toml), b = load(header + with_test, toml);
  EXPECT_FALSE(a.has_errors());
  EXPECT_FALSE(b.has_errors());
  EXPECT_EQ(b.split_source, "config");
  ASSERT_EQ(b.patients.size(), a.patients.size() + 7);
  int internal = 0;
  for (std::size_t i = 0; i < a.patients.size(); ++i) {
    EXPECT_EQ(a.patients[i].id, b.patients[i].id);
    EXPECT_EQ(a.patients[i].cohort, b.patients[i].cohort) << a.patients[i].id;
    internal += a.patients[i].cohort == data::CohortKind::kInternal;
  }
  EXPECT_EQ(internal, 4);  // round(0.3 x 14 non-external patients), stratified by event: 0.3x4 + 0.3x10
  EXPECT_EQ(b.in(data::CohortKind::kTestExternal).size(), 6u);
  ASSERT_EQ(b.in(data::CohortKind::kTestInternal).size(), 1u);
  EXPECT_EQ(b.in(data::CohortKind::kTestInternal)[0]->id, "TA1");
  EXPECT_STREQ(data::cohort_name(data::CohortKind::kTestExternal), "test_external");
  EXPECT_TRUE(data::is_test(data::CohortKind::kTestInternal));
  EXPECT_FALSE(data::is_test(data::CohortKind::kExternal));
  // A split kind given for some rows only is still the partial-column error, test rows or not.
  std::string partial = with_test + line("A99", "A", "train", 0);
  // (the loaded reports are kept alive: find() returns a pointer into them)
  const auto partial_report = load(header + partial, toml);
  const auto* f = find(partial_report, "cohort_partial");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->message.find("test_internal / test_external alone may be given"), std::string::npos) << f->message;
  const auto unknown_report = load(header + line("A1", "A", "holdout", 0) + line("C1", "C", "", 1), toml);
  const auto* u = find(unknown_report, "unknown_cohort");
  ASSERT_NE(u, nullptr);
  EXPECT_NE(u->message.find("'holdout' is not one of train, internal, external, test_internal, test_external"),
            std::string::npos)
      << u->message;
}
