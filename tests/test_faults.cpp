// Full disks and read-only output folders, through the real binary: `synth`, `study` (at each of
// its steps: the preprocessing cache, a training checkpoint, a model bundle, the evaluation),
// `report` and the service's temporary files, each on its own small tmpfs that fills up mid-way
// (the sizes are measured from an undisturbed run's output) or is remounted read-only. Each must
// exit 7 (docs/exit-codes.md) with one `error:` line naming the path -- the service answers 507 --
// leave no half-written or temporary file, and a rerun with space (`--resume` for the study)
// must give files identical to the undisturbed run's.
//
// Mounting needs root or CAP_SYS_ADMIN; without it every test is skipped, saying so.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli_run.h"
#include "test_util.h"

namespace fs = std::filesystem;
using cervirisk::testing::run_cli;
using cervirisk::testing::TempDir;
using json = nlohmann::json;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::uint64_t pages_kb(std::uint64_t bytes) { return (bytes + 4095) / 4096 * 4; }

// What the files under `p` take on a tmpfs: whole 4 KiB pages per file (folders take none).
std::uint64_t disk_kb(const fs::path& p) {
  if (fs::is_regular_file(p)) return pages_kb(fs::file_size(p));
  std::uint64_t kb = 0;
  for (const auto& e : fs::recursive_directory_iterator(p))
    if (e.is_regular_file()) kb += pages_kb(e.file_size());
  return kb;
}

// Every regular file under `dir` by its path relative to `dir`, with its bytes.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out[fs::relative(e.path(), dir).string()] = slurp(e.path());
  return out;
}

// A tmpfs of a given size on a fresh folder, unmounted (lazily: a process may still hold it) when
// it goes out of scope, on failure too.
class Tmpfs {
 public:
  Tmpfs(fs::path dir, std::uint64_t kb) : dir_(std::move(dir)) {
    fs::create_directories(dir_);
    const std::string opt = "size=" + std::to_string(pages_kb(kb * 1024)) + "k,mode=0755";
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", 0, opt.c_str()) == 0)
      mounted_ = true;
    else
      errno_ = errno;
  }
  ~Tmpfs() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
    std::error_code ec;
    fs::remove(dir_, ec);
  }
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;

  bool mounted() const { return mounted_; }
  int error() const { return errno_; }
  const fs::path& path() const { return dir_; }
  fs::path operator/(const fs::path& p) const { return dir_ / p; }
  // Writable with this size (a size below what is in use is refused by the kernel).
  void resize(std::uint64_t kb) const {
    const std::string opt = "size=" + std::to_string(pages_kb(kb * 1024)) + "k";
    ASSERT_EQ(::mount(nullptr, dir_.c_str(), nullptr, MS_REMOUNT, opt.c_str()), 0)
        << opt << ": " << std::strerror(errno);
  }
  void read_only() const {
    ASSERT_EQ(::mount(nullptr, dir_.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr), 0)
        << std::strerror(errno);
  }
  std::uint64_t used_bytes() const {
    struct statvfs s {};
    if (::statvfs(dir_.c_str(), &s) != 0) return ~std::uint64_t{0};
    return (s.f_blocks - s.f_bfree) * s.f_frsize;
  }

 private:
  fs::path dir_;
  bool mounted_ = false;
  int errno_ = 0;
};

#define MOUNT_OR_SKIP(t)                                                                         \
  do {                                                                                           \
    if (!(t).mounted()) {                                                                        \
      if ((t).error() == EPERM || (t).error() == EACCES)                                         \
        GTEST_SKIP() << "mounting a tmpfs is not permitted here (needs root or CAP_SYS_ADMIN): " \
                     << std::strerror((t).error());                                              \
      FAIL() << "mount tmpfs on " << (t).path() << ": " << std::strerror((t).error());           \
    }                                                                                            \
  } while (0)

// Why this process cannot mount a tmpfs ("" when it can): tried once, on a 4 KiB one, before a
// test spends time on its reference run.
std::string mount_refusal() {
  static const std::string why = [] {
    TempDir tmp("faults_probe");
    Tmpfs probe(tmp / "probe", 4);
    if (probe.mounted() || (probe.error() != EPERM && probe.error() != EACCES)) return std::string();
    return "mounting a tmpfs is not permitted here (needs root or CAP_SYS_ADMIN): " +
           std::string(std::strerror(probe.error()));
  }();
  return why;
}

#define SKIP_UNLESS_MOUNTING_IS_PERMITTED()  \
  do {                                       \
    const std::string why = mount_refusal(); \
    if (!why.empty()) GTEST_SKIP() << why;   \
  } while (0)

// The one `error: ...` line of a failed command's stderr ("" when there is not exactly one).
std::string error_line(const std::string& err) {
  std::istringstream in(err);
  std::string found;
  int n = 0;
  for (std::string l; std::getline(in, l);)
    if (l.rfind("error: ", 0) == 0) found = l, ++n;
  return n == 1 ? found : "";
}

// The path under `under` that an error line names ("" when it names none).
fs::path named_path(const std::string& line, const fs::path& under) {
  const auto at = line.find(under.string());
  if (at == std::string::npos) return {};
  return line.substr(at, line.find_first_of("' :,\n", at) - at);
}

// Fields per record of a CSV (RFC 4180 quoting), or an empty vector when the file does not end
// with a complete record.
std::vector<int> csv_record_widths(const std::string& s) {
  std::vector<int> widths;
  bool quoted = false;
  int fields = 1;
  for (char c : s) {
    if (c == '"')
      quoted = !quoted;
    else if (!quoted && c == ',')
      ++fields;
    else if (!quoted && c == '\n')
      widths.push_back(fields), fields = 1;
  }
  if (s.empty() || s.back() != '\n' || quoted) return {};
  return widths;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Why `file` is not a complete file of its kind ("" when it is).
std::string incomplete(const fs::path& file) {
  const std::string name = file.filename().string(), s = slurp(file);
  if (name.find(".tmp") != std::string::npos) return "a temporary file left behind";
  if (name == ".lock") return "";  // the run folder's lock (docs/study.md), rewritten by each writer
  auto trimmed = [&] {
    std::string t = s;
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
    return t;
  };
  if (ends_with(name, ".json")) return json::accept(s) ? "" : "JSON does not parse";
  if (ends_with(name, ".safetensors")) {
    if (s.size() < 8) return "shorter than its header length";
    std::uint64_t n = 0;
    std::memcpy(&n, s.data(), 8);
    if (8 + n > s.size()) return "header longer than the file";
    try {
      std::uint64_t end = 0;
      const json header = json::parse(s.substr(8, n));
      for (const auto& [k, v] : header.items())
        if (k != "__metadata__") end = std::max(end, v["data_offsets"][1].get<std::uint64_t>());
      if (8 + n + end != s.size())
        return "tensors end at " + std::to_string(8 + n + end) + ", the file at " + std::to_string(s.size());
      return "";
    } catch (const std::exception& e) {
      return std::string("header does not parse: ") + e.what();
    }
  }
  if (ends_with(name, ".csv")) {
    const auto w = csv_record_widths(s);
    if (w.empty()) return "does not end with a complete record";
    for (std::size_t i = 1; i < w.size(); ++i)
      if (w[i] != w[0])
        return "record " + std::to_string(i) + " has " + std::to_string(w[i]) + " fields, the header " +
               std::to_string(w[0]);
    return "";
  }
  if (ends_with(name, ".pt")) {  // LibTorch's zip archive: the end-of-central-directory record ends it
    const std::size_t from = s.size() > 65557 ? s.size() - 65557 : 0;
    const auto eocd = s.rfind(std::string("PK\x05\x06", 4));
    if (eocd == std::string::npos || eocd < from || eocd + 22 > s.size()) return "no zip end record";
    const auto comment = static_cast<std::size_t>(static_cast<unsigned char>(s[eocd + 20]) |
                                                  (static_cast<unsigned char>(s[eocd + 21]) << 8));
    return eocd + 22 + comment == s.size() ? "" : "bytes after the zip end record";
  }
  if (ends_with(name, ".png"))
    return s.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0 && ends_with(s, std::string("IEND\xae\x42\x60\x82", 8))
               ? ""
               : "no PNG end chunk";
  if (ends_with(name, ".svg")) return ends_with(trimmed(), "</svg>") ? "" : "no </svg> at the end";
  if (ends_with(name, ".html")) return ends_with(trimmed(), "</html>") ? "" : "no </html> at the end";
  if (ends_with(name, ".toml") || ends_with(name, ".txt"))
    return !s.empty() && s.back() == '\n' ? "" : "no final newline";
  return "no completeness check for this kind of file";
}

// Every incomplete file under `dir`, one line each ("" when none).
std::string incomplete_files(const fs::path& dir) {
  std::string out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file())
      if (const auto why = incomplete(e.path()); !why.empty()) out += e.path().string() + ": " + why + "\n";
  return out;
}

// The checker is not blind: every complete file under `dir` (the lock aside), cut in half (past a
// line end, where a shorter CSV would still be well formed), is reported.
void expect_truncation_is_seen(const fs::path& dir) {
  TempDir tmp("faults_cut");
  int checked = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().filename() == ".lock") continue;
    ASSERT_EQ(incomplete(e.path()), "") << e.path();
    const std::string s = slurp(e.path());
    std::size_t cut = s.size() / 2;
    while (cut > 0 && cut < s.size() && s[cut - 1] == '\n') ++cut;
    const fs::path half = tmp / e.path().filename();
    std::ofstream(half, std::ios::binary) << s.substr(0, cut);
    EXPECT_NE(incomplete(half), "") << "a half " << e.path() << " passes the check";
    ++checked;
  }
  EXPECT_GT(checked, 10);
}

// A small synthetic cohort and a fast deterministic configuration (as in test_study.cpp), once per
// process; `epochs` written as `tiny<epochs>.toml`.
const fs::path& work() {
  static const TempDir dir("faults");  // removed at exit
  return dir.path();
}

const fs::path& cohort() {
  static fs::path data = [] {
    const fs::path d = work() / "data";
    auto r = run_cli("synth --out " + d.string() + " --size small --patients 40 --recurrence-rate 0.3");
    EXPECT_EQ(r.code, 0) << r.err;
    return d;
  }();
  return data;
}

std::string config(int epochs) {
  const fs::path file = cohort() / ("tiny" + std::to_string(epochs) + ".toml");
  if (!fs::exists(file)) {
    std::string t = slurp(cohort() / "study.toml");
    const std::string key = "synthetic = true\n";
    t.replace(t.find(key), key.size(), key + "deterministic = true\n");
    std::ofstream(file) << t << "\n[preprocess]\ntumour_size_px = 32\ncontext_size_px = 32\nworkers = 2\n"
                        << "[text]\nvocab_size = 300\nmax_length = 48\npretrain_epochs = 1\n"
                        << "[train]\nepochs = " << epochs
                        << "\nbatch_size = 16\nwarmup_epochs = 0.5\nloader_workers = 1\n";
  }
  return file.string();
}

std::string study_args(int epochs, const std::string& variants, const fs::path& out) {
  return "study --no-report --variants " + variants + " --config " + config(epochs) + " --out " +
         out.string();
}

// An undisturbed study, the reference of the faulty ones.
fs::path reference_study(int epochs, const std::string& variants) {
  std::string tag = "ref_" + std::to_string(epochs) + "_" + variants;
  for (auto& c : tag)
    if (c == ' ') c = '_';
  const fs::path run = work() / tag;
  if (!fs::exists(run / "metrics.json")) {
    auto r = run_cli(study_args(epochs, variants, run));
    EXPECT_EQ(r.code, 0) << r.err;
  }
  return run;
}

// The failed command's contract: exit 7, one error line naming a path under `under` that does not
// exist (nothing half-written under the final name); returns that path.
fs::path expect_output_error(const cervirisk::testing::CliResult& r, const fs::path& under) {
  EXPECT_EQ(r.code, 7) << r.err;
  const std::string line = error_line(r.err);
  EXPECT_FALSE(line.empty()) << "expected one error line:\n" << r.err;
  const fs::path named = named_path(line, under);
  EXPECT_FALSE(named.empty()) << "the error does not name a path under " << under << ": " << line;
  return named;
}

}  // namespace

// synth fills a tmpfs half its output's size: exit 7 naming the file, the files written are
// those of an undisturbed synth, no temporary file; with space, the same command writes the
// undisturbed synth's files byte for byte. Read-only: exit 7 naming the folder, nothing written.
TEST(Faults, SynthOnAFullDiskAndAReadOnlyFolder) {
  SKIP_UNLESS_MOUNTING_IS_PERMITTED();
  TempDir tmp("faults_synth");
  const std::string args = " --size small --patients 40 --recurrence-rate 0.3";
  auto ref = run_cli("synth --out " + (tmp / "ref").string() + args);
  ASSERT_EQ(ref.code, 0) << ref.err;
  const auto want = snapshot(tmp / "ref");
  const std::uint64_t total = disk_kb(tmp / "ref");
  Tmpfs disk(tmp / "disk", total / 2);
  MOUNT_OR_SKIP(disk);

  const fs::path out = disk / "data";
  auto full = run_cli("synth --out " + out.string() + args);
  const fs::path named = expect_output_error(full, out);
  EXPECT_FALSE(fs::exists(named)) << named;
  const auto part = snapshot(out);
  EXPECT_GT(part.size(), 10u) << "the disk should fill mid-way, not at the start";
  EXPECT_LT(part.size(), want.size());
  EXPECT_FALSE(part.count("manifest.csv"));  // the tables come after the images
  for (const auto& [f, bytes] : part) {
    EXPECT_EQ(f.find(".tmp"), std::string::npos) << "temporary file left: " << f;
    ASSERT_TRUE(want.count(f)) << f;
    EXPECT_TRUE(bytes == want.at(f)) << f << " differs from the undisturbed synth's (half-written?)";
  }

  disk.resize(2 * total);
  auto again = run_cli("synth --out " + out.string() + args);
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_TRUE(snapshot(out) == want) << "the rerun's files differ from the undisturbed synth's";

  disk.read_only();
  const auto before = snapshot(disk.path());
  for (const fs::path& target : {disk / "data2", out}) {
    auto ro = run_cli("synth --out " + target.string() + args);
    EXPECT_EQ(ro.code, 7) << ro.err;
    EXPECT_EQ(named_path(error_line(ro.err), disk.path()), target) << ro.err;
  }
  EXPECT_FALSE(fs::exists(disk / "data2"));
  EXPECT_TRUE(snapshot(disk.path()) == before);
}

// One run folder whose disk fills at each step in turn -- the preprocessing cache, then (resumed
// on a bigger disk) vit's bundle, then the evaluation's metrics.json -- and finally resumed with
// space: metrics.json, predictions and every bundle file equal the undisturbed run's. After each
// failure: exit 7 naming the file, and every file in the run folder complete. Read-only at the
// end: --resume exits 7 and changes nothing.
TEST(Faults, StudyFillingUpAtEachStepResumesToTheUndisturbedRun) {
  SKIP_UNLESS_MOUNTING_IS_PERMITTED();
  const std::string variants = "clinical vit";
  const fs::path ref = reference_study(1, variants);
  ASSERT_TRUE(fs::exists(ref / "metrics.json"));
  const std::uint64_t total = disk_kb(ref);
  const std::uint64_t cache = disk_kb(ref / "cache"),
                      weights = disk_kb(ref / "models" / "vit" / "weights.safetensors");
  const std::uint64_t tail = disk_kb(ref / "comparisons.csv") + disk_kb(ref / "run.json");
  expect_truncation_is_seen(ref);
  TempDir tmp("faults_study");
  Tmpfs disk(tmp / "disk", cache / 2);
  MOUNT_OR_SKIP(disk);
  const fs::path run = disk / "run";
  const std::string resume = study_args(1, variants, run) + " --resume";

  struct Step {
    const char* what;
    std::uint64_t size_kb;
    std::string file;  // the file being written when the disk fills
  };
  const std::vector<Step> steps = {
      {"preprocessing cache", cache / 2, "/cache/"},
      {"vit's bundle", total - weights / 2, "models/vit/weights.safetensors"},
      {"evaluation", total - disk_kb(ref / "metrics.json") / 2 - tail, "metrics.json"},
  };
  for (std::size_t k = 0; k < steps.size(); ++k) {
    SCOPED_TRACE(steps[k].what);
    if (k > 0) disk.resize(steps[k].size_kb);
    auto r = run_cli(k == 0 ? study_args(1, variants, run) : resume);
    const fs::path named = expect_output_error(r, run);
    EXPECT_NE(named.string().find(steps[k].file), std::string::npos)
        << "the disk filled elsewhere: " << named;
    EXPECT_FALSE(fs::exists(named)) << named;
    EXPECT_EQ(incomplete_files(run), "");
    EXPECT_FALSE(fs::exists(run / "metrics.json"));
  }
  // The failures came mid-way: after the cache the clinical bundle and vit's checkpoint were
  // written, after vit's bundle the predictions.
  EXPECT_TRUE(fs::exists(run / "models" / "clinical" / "model.json"));
  EXPECT_TRUE(fs::exists(run / "models" / "vit" / "model.json"));
  EXPECT_TRUE(fs::exists(run / "predictions" / "vit.csv"));

  disk.resize(2 * total);
  auto r = run_cli(resume);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(incomplete_files(run), "");
  EXPECT_TRUE(slurp(run / "metrics.json") == slurp(ref / "metrics.json"));
  for (const char* v : {"clinical", "vit"}) {
    EXPECT_TRUE(slurp(run / "predictions" / (std::string(v) + ".csv")) ==
                slurp(ref / "predictions" / (std::string(v) + ".csv")))
        << v;
    int files = 0;
    for (const auto& e : fs::directory_iterator(ref / "models" / v)) {
      if (e.path().filename() == "checkpoint.pt") continue;
      EXPECT_TRUE(slurp(e.path()) == slurp(run / "models" / v / e.path().filename()))
          << v << "/" << e.path().filename();
      ++files;
    }
    EXPECT_GE(files, 4) << v;
  }

  disk.read_only();
  const auto before = snapshot(run);
  auto ro = run_cli(resume);
  EXPECT_EQ(ro.code, 7) << ro.err;
  EXPECT_EQ(named_path(error_line(ro.err), disk.path()), run) << ro.err;
  EXPECT_TRUE(snapshot(run) == before);
}

// The disk fills while vit writes its second epoch's checkpoint (the first one on disk): exit 7
// naming the checkpoint -- before the fix LibTorch's writer aborted the process (std::terminate)
// and left its temporary file -- the first checkpoint intact, and --resume continues after
// epoch 1 to the undisturbed run's metrics and weights.
TEST(Faults, StudyFullWhileCheckpointingResumesFromTheLastCheckpoint) {
  SKIP_UNLESS_MOUNTING_IS_PERMITTED();
  const fs::path ref = reference_study(2, "vit");
  ASSERT_TRUE(fs::exists(ref / "metrics.json"));
  const fs::path ckpt = ref / "models" / "vit" / "checkpoint.pt";
  // Everything before the second checkpoint, the first one, and half of the second.
  const std::uint64_t size =
      disk_kb(ref) - disk_kb(ref / "models" / "vit" / "weights.safetensors") + disk_kb(ckpt) / 2;
  TempDir tmp("faults_ckpt");
  Tmpfs disk(tmp / "disk", size);
  MOUNT_OR_SKIP(disk);
  const fs::path run = disk / "run";
  auto r = run_cli(study_args(2, "vit", run));
  const fs::path named = expect_output_error(r, run);
  EXPECT_EQ(named, run / "models" / "vit" / "checkpoint.pt");
  ASSERT_TRUE(fs::exists(run / "models" / "vit" / "checkpoint.pt")) << "the first epoch's checkpoint";
  EXPECT_EQ(incomplete_files(run), "");
  EXPECT_FALSE(fs::exists(run / "models" / "vit" / "weights.safetensors"));

  disk.resize(2 * disk_kb(ref) + disk_kb(ckpt));
  auto res = run_cli(study_args(2, "vit", run) + " --resume", cervirisk::testing::Stderr::kMerged);
  ASSERT_EQ(res.code, 0) << res.out;
  EXPECT_NE(
      res.out.find("resumed from " + (run / "models" / "vit" / "checkpoint.pt").string() + " after epoch 1"),
      std::string::npos)
      << res.out;
  EXPECT_EQ(incomplete_files(run), "");
  EXPECT_TRUE(slurp(run / "metrics.json") == slurp(ref / "metrics.json"));
  EXPECT_TRUE(slurp(run / "models" / "vit" / "weights.safetensors") ==
              slurp(ref / "models" / "vit" / "weights.safetensors"));
}

// A study into a read-only folder: exit 7 naming it, nothing written.
TEST(Faults, StudyIntoAReadOnlyFolder) {
  SKIP_UNLESS_MOUNTING_IS_PERMITTED();
  TempDir tmp("faults_study_ro");
  Tmpfs disk(tmp / "disk", 1024);
  MOUNT_OR_SKIP(disk);
  disk.read_only();
  auto r = run_cli(study_args(1, "clinical", disk / "run"));
  EXPECT_EQ(r.code, 7) << r.err;
  EXPECT_EQ(named_path(error_line(r.err), disk.path()), disk / "run") << r.err;
  EXPECT_TRUE(fs::is_empty(disk.path()));
}

// `cervirisk report` on a finished run whose disk fills while the figures are written, then
// while report.html is: exit 7 naming the file, every figure written complete and equal to the
// undisturbed report's, no report.html; with space the report and figures are the undisturbed
// ones byte for byte. Read-only: exit 7 naming the run folder, nothing changed.
TEST(Faults, ReportOnAFullDiskAndAReadOnlyRunFolder) {
  SKIP_UNLESS_MOUNTING_IS_PERMITTED();
  const fs::path ref_run = reference_study(1, "vit");
  ASSERT_TRUE(fs::exists(ref_run / "metrics.json"));
  TempDir tmp("faults_report");
  // The run folder without what the report does not read (the cache, checkpoints, the lock).
  const fs::path base = tmp / "base";
  fs::create_directories(base);
  for (const auto& e : fs::recursive_directory_iterator(ref_run)) {
    const fs::path rel = fs::relative(e.path(), ref_run);
    if (rel.begin()->string() == "cache" || e.path().filename() == "checkpoint.pt" ||
        e.path().filename() == ".lock")
      continue;
    if (e.is_directory())
      fs::create_directories(base / rel);
    else
      fs::copy_file(e.path(), base / rel);
  }
  fs::copy(base, tmp / "undisturbed", fs::copy_options::recursive);
  auto ok = run_cli("report --run " + (tmp / "undisturbed").string());
  ASSERT_EQ(ok.code, 0) << ok.err;
  const auto figures = snapshot(tmp / "undisturbed" / "figures");
  const std::string html = slurp(tmp / "undisturbed" / "report.html");
  ASSERT_GT(figures.size(), 4u);
  expect_truncation_is_seen(tmp / "undisturbed");
  const std::uint64_t base_kb = disk_kb(base) + 4;  // + the lock
  const std::uint64_t figures_kb = disk_kb(tmp / "undisturbed" / "figures");

  Tmpfs disk(tmp / "disk", base_kb + figures_kb / 2);
  MOUNT_OR_SKIP(disk);
  const fs::path run = disk / "run";
  fs::copy(base, run, fs::copy_options::recursive);
  const std::string cmd = "report --run " + run.string();
  {
    SCOPED_TRACE("figures");
    auto r = run_cli(cmd);
    const fs::path named = expect_output_error(r, run);
    EXPECT_EQ(named.parent_path(), run / "figures");
    EXPECT_FALSE(fs::exists(named));
    const auto part = snapshot(run / "figures");
    EXPECT_GT(part.size(), 0u);
    EXPECT_LT(part.size(), figures.size());
    for (const auto& [f, bytes] : part) EXPECT_TRUE(figures.count(f) && bytes == figures.at(f)) << f;
    EXPECT_FALSE(fs::exists(run / "report.html"));
    EXPECT_EQ(incomplete_files(run), "");
  }
  {
    SCOPED_TRACE("report.html");
    disk.resize(base_kb + figures_kb + pages_kb(html.size()) / 2);
    auto r = run_cli(cmd);
    EXPECT_EQ(expect_output_error(r, run), run / "report.html");
    EXPECT_FALSE(fs::exists(run / "report.html"));
    EXPECT_TRUE(snapshot(run / "figures") == figures);
    EXPECT_EQ(incomplete_files(run), "");
  }
  disk.resize(2 * (base_kb + figures_kb) + pages_kb(html.size()));
  auto r = run_cli(cmd);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(snapshot(run / "figures") == figures);
  EXPECT_TRUE(slurp(run / "report.html") == html);

  disk.read_only();
  const auto before = snapshot(run);
  auto ro = run_cli(cmd);
  EXPECT_EQ(ro.code, 7) << ro.err;
  EXPECT_EQ(named_path(error_line(ro.err), disk.path()), run) << ro.err;
  EXPECT_TRUE(snapshot(run) == before);
}

namespace {

// `cervirisk serve` in a child process, its stderr in a file from which the port is read.
struct Server {
  pid_t pid = -1;
  int port = 0;
  fs::path err;
  Server(const std::string& args, const fs::path& err_file) : err(err_file) {
    const std::string cmd =
        "exec " + std::string(CERV_BINARY) + " serve " + args + " --port 0 2> " + err.string();
    pid = ::fork();
    if (pid == 0) {
      ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 600 && port == 0; ++i) {
      const std::string e = slurp(err);
      const auto at = e.find("listening on http://127.0.0.1:");
      if (at != std::string::npos && e.find('\n', at) != std::string::npos)
        port = std::stoi(e.substr(at + 30));
      else if (int st = 0; ::waitpid(pid, &st, WNOHANG) == pid)
        pid = -1;  // it exited
      if (pid < 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  // SIGTERM and the exit status (-1: not a normal exit).
  int stop() {
    if (pid <= 0) return -1;
    ::kill(pid, SIGTERM);
    int st = 0;
    ::waitpid(pid, &st, 0);
    pid = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }
  ~Server() { stop(); }
};

// Regular files anywhere under `dir`, one per line.
std::string files_under(const fs::path& dir) {
  std::string out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (!e.is_directory()) out += e.path().string() + "\n";
  return out;
}

}  // namespace

// The service's temporary folder (--tmp-dir) on a tmpfs: too small for the uploaded image, then
// big enough for the uploads but not the maps, then read-only: each predict is answered 507 with
// a JSON error, the log names the file (the client never sees the path), the server keeps
// answering and nothing stays in the folder (not a byte used). With space the prediction equals
// `cervirisk predict`'s; SIGTERM leaves the folder empty. A read-only --tmp-dir at start: exit 7
// naming it.
TEST(Faults, ServeTemporaryFilesOnAFullOrReadOnlyDisk) {
  SKIP_UNLESS_MOUNTING_IS_PERMITTED();
  const fs::path ref_run = reference_study(1, "vit");
  ASSERT_TRUE(fs::exists(ref_run / "metrics.json"));
  const fs::path model = ref_run / "models" / "vit";
  const fs::path image = cohort() / "images" / "A002_t2.nii.gz",
                 mask = cohort() / "masks" / "A002_mask.nii.gz";
  TempDir tmp("faults_serve");
  auto cli = run_cli("predict --model " + model.string() + " --image " + image.string() + " --mask " +
                     mask.string() + " --explain " + (tmp / "maps").string());
  ASSERT_EQ(cli.code, 0) << cli.err;
  const double probability = json::parse(cli.out)["probability"].get<double>();
  const std::uint64_t uploads_kb = disk_kb(image) + disk_kb(mask), maps_kb = disk_kb(tmp / "maps");
  ASSERT_GT(maps_kb, 16u);

  Tmpfs disk(tmp / "disk", disk_kb(image) / 2);
  MOUNT_OR_SKIP(disk);
  std::ofstream(tmp / "token") << "0123456789abcdef0123456789abcdef\n";
  Server s("--model " + model.string() + " --tmp-dir " + disk.path().string() + " --token-file " +
               (tmp / "token").string(),
           tmp / "serve.err");
  ASSERT_GT(s.port, 0) << slurp(tmp / "serve.err");
  httplib::Client c("127.0.0.1", s.port);
  c.set_read_timeout(60, 0);
  const httplib::Headers auth = {{"Authorization", "Bearer 0123456789abcdef0123456789abcdef"}};
  auto predict = [&](bool explain) {
    httplib::MultipartFormDataItems items{{"image", slurp(image), "i.nii.gz", "application/gzip"},
                                          {"mask", slurp(mask), "m.nii.gz", "application/gzip"}};
    if (explain) items.push_back({"explain", "1", "", ""});
    return c.Post("/v1/models/vit/predict", auth, items);
  };
  auto refused = [&](const char* what, bool explain) {
    SCOPED_TRACE(what);
    auto r = predict(explain);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 507) << r->body;
    const auto body = json::parse(r->body);
    EXPECT_EQ(body["field"], "");
    EXPECT_EQ(body["error"].get<std::string>().find(disk.path().string()), std::string::npos)
        << "a service path reached the client";
    EXPECT_EQ(files_under(disk.path()), "");
    EXPECT_EQ(disk.used_bytes(), 0u);
    auto h = c.Get("/healthz");
    ASSERT_TRUE(h);
    EXPECT_EQ(h->status, 200);
  };
  refused("the image upload", false);
  EXPECT_NE(slurp(tmp / "serve.err").find(disk.path().string() + "/cervirisk-serve-"), std::string::npos)
      << "the log names the file: " << slurp(tmp / "serve.err");
  disk.resize(uploads_kb + maps_kb / 2);
  refused("the maps", true);
  EXPECT_NE(slurp(tmp / "serve.err").find(".nii.gz"), std::string::npos);
  disk.read_only();
  refused("read-only", false);

  disk.resize(2 * (uploads_kb + maps_kb));
  auto ok = predict(true);
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->status, 200) << ok->body;
  const auto body = json::parse(ok->body);
  EXPECT_NEAR(body["probability"].get<double>(), probability, 1e-6);
  EXPECT_EQ(body["maps"].size(), 8u);
  EXPECT_EQ(s.stop(), 0);
  EXPECT_TRUE(fs::is_empty(disk.path())) << files_under(disk.path());

  disk.read_only();
  auto ro = run_cli("serve --model " + model.string() + " --tmp-dir " + disk.path().string() + " --port 0");
  EXPECT_EQ(ro.code, 7) << ro.err;
  EXPECT_NE(error_line(ro.err).find(disk.path().string()), std::string::npos) << ro.err;
}
