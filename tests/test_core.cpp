#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/config.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/random.h"
#include "core/run_lock.h"
#include "core/run_manifest.h"
#include "core/torch/runtime.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace cervirisk;
using cervirisk::testing::error_message;
using cervirisk::testing::TempDir;

TEST(Hash, Sha256KnownVectors) {
  // FIPS 180-2 appendix B test vectors.
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  std::string million(1000000, 'a');
  EXPECT_EQ(sha256_hex(million), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Config, DefaultsAreValidAndRoundTrip) {
  config::Config c;
  EXPECT_EQ(c.get_int("study.seed"), 42);
  EXPECT_DOUBLE_EQ(c.get_double("preprocess.context_margin_mm"), 15.0);
  // the resolved TOML parses back to the same hash
  config::Config back = config::Config::parse(c.to_toml(), "resolved.toml");
  EXPECT_EQ(back.hash(), c.hash());
}

TEST(Config, ParsesValuesAndTableArrays) {
  auto c = config::Config::parse(R"(
[study]
seed = 7
[train]
lr = 1      # an integer is accepted where a number is expected
variants = ["msm", "msm_tc"]
[[clinical]]
name = "age"
unit = "years"
min = 18
max = 95
[[clinical]]
name = "histology"
type = "categorical"
levels = ["SCC", "adeno"]
)",
                                 "x.toml");
  EXPECT_EQ(c.get_int("study.seed"), 7);
  EXPECT_DOUBLE_EQ(c.get_double("train.lr"), 1.0);
  EXPECT_EQ(c.get_strings("train.variants").size(), 2u);
  const auto& recs = c.get_records("clinical");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(std::get<std::string>(recs[0].at("type")), "numeric");  // default filled in
  EXPECT_DOUBLE_EQ(std::get<double>(recs[0].at("max")), 95.0);
  EXPECT_EQ(std::get<std::vector<std::string>>(recs[1].at("levels"))[1], "adeno");
  EXPECT_TRUE(c.is_set("train.lr"));
  EXPECT_FALSE(c.is_set("train.epochs"));
  // resolved TOML keeps the records
  auto back = config::Config::parse(c.to_toml(), "r.toml");
  EXPECT_EQ(back.get_records("clinical").size(), 2u);
  EXPECT_EQ(back.hash(), c.hash());
}

TEST(Config, MalformedTomlNamesFileAndLine) {
  std::string msg = error_message([] { config::Config::parse("[study]\nseed = = 3\n", "bad.toml"); },
                                  ExitCode::kBadArguments);
  EXPECT_NE(msg.find("bad.toml:2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("malformed TOML"), std::string::npos) << msg;
}

TEST(Config, UnknownKeySuggestsClosest) {
  std::string msg = error_message([] { config::Config::parse("[train]\n\nlrr = 0.1\n", "s.toml"); },
                                  ExitCode::kBadArguments);
  EXPECT_NE(msg.find("s.toml:3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("unknown key 'train.lrr'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean 'train.lr'"), std::string::npos) << msg;
  msg = error_message([] { config::Config::parse("[trian]\nlr = 0.1\n", "s.toml"); }, ExitCode::kBadArguments);
  EXPECT_NE(msg.find("did you mean 'train.lr'"), std::string::npos) << msg;
  msg = error_message([] { config::Config::parse("[[clinical]]\nname='a'\nlevel=['x']\n", "s.toml"); },
                      ExitCode::kBadArguments);
  EXPECT_NE(msg.find("unknown key 'clinical[0].level'"), std::string::npos) << msg;
}

TEST(Config, WrongTypeRangeAndChoice) {
  std::string msg = error_message([] { config::Config::parse("[train]\nepochs = \"ten\"\n", "t.toml"); },
                                  ExitCode::kBadArguments);
  EXPECT_NE(msg.find("t.toml:2: key 'train.epochs' expects integer, got string"), std::string::npos) << msg;
  msg = error_message([] { config::Config::parse("[split]\ninternal_fraction = 1.5\n", "t.toml"); },
                      ExitCode::kBadArguments);
  EXPECT_NE(msg.find("expects a value in [0, 0.9], got 1.5"), std::string::npos) << msg;
  msg = error_message([] { config::Config::parse("[train]\nloss = \"hinge\"\n", "t.toml"); },
                      ExitCode::kBadArguments);
  EXPECT_NE(msg.find("expects one of {bce, focal, cox, bce+cox}, got 'hinge'"), std::string::npos) << msg;
  msg = error_message([] { config::Config::parse("[[clinical]]\nunit='y'\n", "t.toml"); },
                      ExitCode::kBadArguments);
  EXPECT_NE(msg.find("lacks the required key 'name'"), std::string::npos) << msg;
}

TEST(Config, MissingFileIsInputError) {
  std::string msg = error_message([] { config::Config::load("/nonexistent/study.toml"); }, ExitCode::kInputMissing);
  EXPECT_NE(msg.find("/nonexistent/study.toml"), std::string::npos);
}

TEST(Config, PathsResolveAgainstConfigFolder) {
  TempDir d("paths");
  write_file_atomic(d / "study.toml", "[data]\nmanifest = \"cohort/manifest.csv\"\n");
  auto c = config::Config::load(d / "study.toml");
  EXPECT_EQ(c.get_path("data.manifest"), fs::absolute(d) / "cohort/manifest.csv");
}

TEST(AtomicFile, WritesAndReplaces) {
  TempDir d("atomic");
  write_file_atomic(d / "a" / "b.txt", "first");
  EXPECT_EQ(read_file(d / "a" / "b.txt"), "first");
  write_file_atomic(d / "a" / "b.txt", "second");
  EXPECT_EQ(read_file(d / "a" / "b.txt"), "second");
  // no temporary files left behind
  int n = 0;
  for (auto& e : fs::directory_iterator(d / "a")) (void)e, ++n;
  EXPECT_EQ(n, 1);
}

TEST(AtomicFile, InterruptedWriteLeavesOldFileIntact) {
  TempDir d("interrupt");
  write_file_atomic(d / "m.json", "old content");
  try {
    AtomicFile f(d / "m.json");
    f.stream() << "half of the new con";
    throw std::runtime_error("simulated crash before commit");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(read_file(d / "m.json"), "old content");
  int n = 0;
  for (auto& e : fs::directory_iterator(d)) (void)e, ++n;
  EXPECT_EQ(n, 1) << "temporary file left behind";
}

TEST(AtomicFile, UnwritableDirectoryIsOutputError) {
  if (::geteuid() == 0) {
    // root ignores permission bits: use a path below a regular file instead
    TempDir d("unwritable");
    write_file_atomic(d / "file", "x");
    std::string msg = error_message([&] { write_file_atomic(d / "file" / "out.json", "y"); },
                                    ExitCode::kOutputNotWritable);
    EXPECT_NE(msg.find("out.json"), std::string::npos) << msg;
    msg = error_message([&] { ensure_writable_dir(d / "file" / "sub"); }, ExitCode::kOutputNotWritable);
    EXPECT_NE(msg.find("cannot be created"), std::string::npos) << msg;
  } else {
    TempDir d("unwritable");
    ::chmod(d.path().c_str(), 0500);
    std::string msg = error_message([&] { write_file_atomic(d / "out.json", "y"); }, ExitCode::kOutputNotWritable);
    EXPECT_NE(msg.find("out.json"), std::string::npos) << msg;
    ::chmod(d.path().c_str(), 0700);
  }
}

TEST(ReadFile, MissingFileNamesPath) {
  std::string msg = error_message([] { read_file("/no/such/file.csv"); }, ExitCode::kInputMissing);
  EXPECT_NE(msg.find("/no/such/file.csv"), std::string::npos);
}

TEST(Random, SeedFixesStreamsAndDerivedSeedsDiffer) {
  seed_all(123);
  auto a = rng()();
  seed_all(123);
  EXPECT_EQ(rng()(), a);
  EXPECT_NE(derive_seed(1, "split"), derive_seed(1, "augment"));
  EXPECT_EQ(derive_seed(1, "split"), derive_seed(1, "split"));
}

TEST(Runtime, SeedEverythingSeedsTorchAndManifestRecordsIt) {
  seed_everything(5);
  set_threads(1);
  RuntimeInfo r = runtime_info();
  EXPECT_EQ(r.intra_op_threads, 1);
  EXPECT_FALSE(r.torch_version.empty());
  RunManifest m("test", 5);
  m.set_runtime(r);
  m.set_config("abc", "study.toml");
  m.add_timing("x", 0.5);
  m.add_timing("x", 0.25);
  auto j = nlohmann::json::parse(m.to_json());
  EXPECT_EQ(j["seed"], 5);
  EXPECT_EQ(j["runtime"]["torch"], r.torch_version);
  EXPECT_DOUBLE_EQ(j["timings_s"]["x"].get<double>(), 0.75);
  EXPECT_TRUE(j.contains("git_revision"));
}

TEST(Log, SinkCapturesAndLevelFilters) {
  std::vector<std::string> got;
  log::set_sink([&](log::Level, std::string_view m) { got.emplace_back(m); });
  log::configure(false, true);  // quiet
  log::info("hidden {}", 1);
  log::warn("shown {}", 2);
  log::configure(true, false);
  log::debug("debug {}", 3);
  log::set_sink(nullptr);
  log::configure(false, false);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], "shown 2");
  EXPECT_EQ(got[1], "debug 3");
}

TEST(Progress, RendersCountsAndMetric) {
  Progress p("train", 10);
  p.set_metric("loss 0.5");
  std::string line = p.render(0);
  EXPECT_NE(line.find("train 0/10"), std::string::npos) << line;
  EXPECT_NE(line.find("loss 0.5"), std::string::npos) << line;
  EXPECT_EQ(format_duration(65), "1m05s");
  EXPECT_EQ(format_duration(3700), "1h01m");
  p.finish();
}

TEST(Config, DocsListEveryKey) {
  // docs/config.md is generated from the schema; regenerate with `cervirisk --print-config-schema`.
  std::string doc = read_file(fs::path(CERV_SOURCE_DIR) / "docs" / "config.md");
  EXPECT_NE(doc.find(config::schema_markdown()), std::string::npos)
      << "docs/config.md is stale: regenerate it with `cervirisk --print-config-schema`";
}

// One writer per run folder: a second lock on a held folder is refused (exit 7) naming the
// holder's pid and command; released on destruction; a lock file left by a dead process is
// taken over (flock is dropped by the kernel when its holder dies, kill -9 included).
TEST(RunLock, SecondWriterIsRefusedAndStaleLocksAreTakenOver) {
  TempDir d("runlock");
  const fs::path run = d / "run";
  {
    RunFolderLock first(run, "study");
    const std::string text = read_file(RunFolderLock::file_in(run));
    EXPECT_NE(text.find("pid " + std::to_string(::getpid())), std::string::npos) << text;
    EXPECT_NE(text.find("command study"), std::string::npos) << text;
    const std::string msg = error_message([&] { RunFolderLock second(run, "evaluate"); }, ExitCode::kOutputNotWritable);
    EXPECT_NE(msg.find(run.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find("in use by another cervirisk run (pid " + std::to_string(::getpid())), std::string::npos) << msg;
    EXPECT_NE(msg.find("command study"), std::string::npos) << msg;
  }
  { RunFolderLock again(run, "study"); }  // released by the first holder's destructor

  // A child takes the lock and is killed with SIGKILL: its lock file stays, its lock does not.
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    try {
      RunFolderLock held(run, "study");
      (void)!::write(ready[1], "x", 1);
      ::pause();
    } catch (...) {
    }
    ::_exit(1);
  }
  ::close(ready[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  const std::string msg = error_message([&] { RunFolderLock busy(run, "study"); }, ExitCode::kOutputNotWritable);
  EXPECT_NE(msg.find("pid " + std::to_string(child)), std::string::npos) << msg;
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  EXPECT_TRUE(fs::exists(RunFolderLock::file_in(run)));
  RunFolderLock taken(run, "study");  // the dead holder's lock is taken over
  EXPECT_NE(read_file(RunFolderLock::file_in(run)).find("pid " + std::to_string(::getpid())), std::string::npos);
}

// A writer killed between an AtomicFile's first byte and its commit leaves ".<name>.tmp.<pid>.<n>";
// the run folder's next writer removes such files when it takes the lock, in every subfolder, and
// nothing else (names that only resemble one stay).
TEST(RunLock, TakingTheLockRemovesTemporaryFilesOfKilledWriters) {
  TempDir d("runlock_tmp");
  const fs::path run = d / "run";
  const std::vector<fs::path> stale{run / ".metrics.json.tmp.4242.0", run / "models" / "vit" / ".checkpoint.pt.tmp.17.12"};
  const std::vector<fs::path> kept{run / "metrics.json", run / ".tmp.1.2", run / ".a.tmp.x.1", run / ".a.tmp.1.",
                                   run / "a.tmp.1.2", run / "models" / "vit" / "weights.safetensors"};
  for (const auto& f : stale) write_file_atomic(f, "half");
  for (const auto& f : kept) write_file_atomic(f, "whole");
  { RunFolderLock lock(run, "study"); }
  for (const auto& f : stale) EXPECT_FALSE(fs::exists(f)) << f;
  for (const auto& f : kept) EXPECT_TRUE(fs::exists(f)) << f;
}

// Error messages quoting a corrupt file's bytes stay valid UTF-8 (and free of control characters)
// on the terminal: invalid, overlong, surrogate and truncated sequences become \xNN, text in any
// script stays as it is.
TEST(Errors, PrintableMessageEscapesInvalidUtf8AndControls) {
  EXPECT_EQ(printable_message("plain ascii, tab\there\nline"), "plain ascii, tab\there\nline");
  EXPECT_EQ(printable_message("宫颈癌 é ✓ 😀"), "宫颈癌 é ✓ 😀");
  EXPECT_EQ(printable_message("bad \xff\xfe name"), "bad \\xff\\xfe name");
  EXPECT_EQ(printable_message("overlong \xc0\xaf"), "overlong \\xc0\\xaf");
  EXPECT_EQ(printable_message("surrogate \xed\xa0\x80!"), "surrogate \\xed\\xa0\\x80!");
  EXPECT_EQ(printable_message("above U+10FFFF \xf4\x90\x80\x80"), "above U+10FFFF \\xf4\\x90\\x80\\x80");
  EXPECT_EQ(printable_message("truncated \xe4\xb8"), "truncated \\xe4\\xb8");
  EXPECT_EQ(printable_message(std::string("nul \0 bell \a del \x7f", 18)), "nul \\x00 bell \\x07 del \\x7f");
}

// A settings file laid over a generated config: tables merge key by key, values replace.
TEST(Config, MergeTomlOverlaysKeyByKey) {
  const std::string base = "[study]\nseed = 3\nname = \"x\"\n[train]\nepochs = 10\nlr = 0.001\n[[clinical]]\nname = \"age\"\ntype = \"numeric\"\n";
  const std::string merged = config::merge_toml(base, "base", "[train]\nepochs = 20\n[augment]\nrotate_deg = 5.0\n", "over.toml");
  const auto c = config::Config::parse(merged, "merged", ".");
  EXPECT_EQ(c.get_int("train.epochs"), 20);
  EXPECT_DOUBLE_EQ(c.get_double("train.lr"), 0.001);
  EXPECT_EQ(c.get_int("study.seed"), 3);
  EXPECT_DOUBLE_EQ(c.get_double("augment.rotate_deg"), 5.0);
  ASSERT_EQ(c.get_records("clinical").size(), 1u);
  try {
    config::merge_toml(base, "base", "[train\nepochs = 1\n", "over.toml");
    ADD_FAILURE() << "no error for malformed TOML";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("over.toml:1"), std::string::npos) << e.what();
  }
}
