// kill -9 anywhere in a demo-sized study, then `study --resume`: the resumed run folder is the
// uninterrupted run's (docs/study.md "Interrupted runs").
//
// The cohort is the demo's (`synth` with its defaults: 445 patients, seed 16, full-size images) and
// the settings are the demo's (kDemoToml, read from src/study/demo.cpp) with four changes that keep
// every variant and step but shorten them: train.epochs 3 (demo 20), text.pretrain_epochs 1
// (demo 2), eval.bootstrap 200 (default 1000), explain.kernel_samples 256 (default 2048); and
// study.deterministic = true, the switch for bit-identical reruns.
//
// One uninterrupted study is the reference; the test follows it from outside (its log lines and the
// files it writes) to time its steps. Then chains: `study`, SIGKILL at a chosen moment, `study
// --resume`, SIGKILL, ..., and a last `study --resume` that completes. 20 kills in all, each aimed
// at a moment of the reference's timeline (a step, then a delay into it, or the step's end if that
// comes first), two in every step and the rest uniform in time; where a kill lands is read after the
// process died. Every chain must end with the reference's files byte for byte (the timings in
// run.json, in the report's copy of it and in the checkpoints, and the lock file's holder aside), no
// file more, no temporary file.
//
// CERV_KILL_SEED=<n> replays the kill moments of a run (the seed is printed); CERV_KILL_KEEP=1 keeps
// the folders.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli_run.h"

namespace fs = std::filesystem;
using cervirisk::testing::run_cli;
using cervirisk::testing::start_cli;
using Clock = std::chrono::steady_clock;

namespace {

const std::vector<std::string> kVariants{"clinical", "convnext", "vit", "msm", "msm_t", "msm_tc"};
const std::vector<std::string> kPhases{"preprocess", "mlm", "train", "predict", "statistics", "explain", "report"};
constexpr int kKills = 20;
constexpr int kChains = 2;
constexpr int kPerPhase = 2;  // aimed kills per step; the others are uniform in time

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// A step of the study as seen from outside, in the order the study runs them: preprocessing, MLM,
// then training and prediction of every variant, statistics, explanations, report.
struct Segment {
  std::string phase, variant;
  std::string name() const { return variant.empty() ? phase : phase + " " + variant; }
};

std::vector<Segment> segments() {
  std::vector<Segment> s{{"preprocess", ""}, {"mlm", ""}};
  for (const auto& v : kVariants) {
    s.push_back({"train", v});
    s.push_back({"predict", v});
  }
  for (const char* p : {"statistics", "explain", "report"}) s.push_back({p, ""});
  return s;
}

struct Process {
  pid_t pid = -1;
  fs::path log;  // its stderr
  fs::file_time_type started;
  Clock::time_point t0;
  bool ended = false;
  int status = 0;
};

Process start_study(const fs::path& cfg, const fs::path& run, bool resume, const fs::path& log) {
  Process p;
  p.log = log;
  std::vector<std::string> args{"study", "--config", cfg.string(), "--out", run.string()};
  if (resume) args.push_back("--resume");
  p.started = fs::file_time_type::clock::now();
  p.t0 = Clock::now();
  p.pid = start_cli(args, log.string());
  return p;
}

// True once the process has ended (exited or killed); does not block.
bool ended(Process& p) {
  if (!p.ended && ::waitpid(p.pid, &p.status, WNOHANG) == p.pid) p.ended = true;
  return p.ended;
}

bool completed(const Process& p) { return p.ended && WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0; }

bool written_since(const fs::path& f, fs::file_time_type t) {
  std::error_code ec;
  const auto m = fs::last_write_time(f, ec);
  return !ec && m >= t;
}

// The segment `p` is in: the first whose end it has not produced yet -- a line of its log, or a
// file it wrote (modified after its start; a file of an earlier process is older). segments().size()
// once it has completed.
std::size_t segment_of(const Process& p, const fs::path& run) {
  const std::string log = slurp(p.log);
  std::vector<bool> end{log.find("] info preprocessed ") != std::string::npos,
                        log.find("MLM pretraining: held-out loss") != std::string::npos};
  for (const auto& v : kVariants) {
    end.push_back(written_since(run / "models" / v / "model.json", p.started));
    end.push_back(written_since(run / "predictions" / (v + ".csv"), p.started));
  }
  end.push_back(written_since(run / "run.json", p.started));
  end.push_back(log.find("] info explain msm_tc: ") != std::string::npos);
  end.push_back(completed(p) && written_since(run / "report.html", p.started));
  return static_cast<std::size_t>(std::find(end.begin(), end.end(), false) - end.begin());
}

// A kill: `delay` seconds after the process enters `segment`.
struct Target {
  std::size_t segment = 0;
  double delay = 0;
  double at = 0;  // the moment on the reference's timeline
};

struct Kill {
  int chain = 0, process = 0;
  Target target;
  std::size_t landed = 0;
  double after = 0;  // seconds after the process started
};

// report.html without its run manifest section (run.json's timings, shown as they are).
std::string without_manifest(std::string html) {
  const auto a = html.find("<section id=\"manifest\">");
  const auto b = a == std::string::npos ? a : html.find("</section>", a);
  if (b != std::string::npos) html.erase(a, b - a);
  return html;
}

// The relative paths of the files under `dir`.
std::set<std::string> files_under(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (!e.is_directory()) out.insert(fs::relative(e.path(), dir).generic_string());
  return out;
}

class KillAnywhere : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cerv_kill_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (HasFailure() || std::getenv("CERV_KILL_KEEP")) {
      std::printf("run folders kept in %s\n", dir_.string().c_str());
      return;
    }
    fs::remove_all(dir_);
  }
  fs::path dir_;
};

TEST_F(KillAnywhere, EveryResumedRunEndsWithTheUninterruptedRunFolder) {
  const auto t_all = Clock::now();
  // As under ctest (cmake/CervTests.cmake): OpenMP threads that sleep rather than spin while they
  // wait, so that the studies do not crawl on a busy machine.
  ::setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
  const fs::path data = dir_ / "data";
  auto synth = run_cli("synth --out " + data.string());
  ASSERT_EQ(synth.code, 0) << synth.err;

  // The demo's settings, shortened (see the head of this file).
  const std::string src = slurp(fs::path(CERV_SOURCE_DIR) / "src" / "study" / "demo.cpp");
  const std::string open = "kDemoToml = R\"(";
  const auto a = src.find(open), b = a == std::string::npos ? a : src.find(")\";", a);
  ASSERT_NE(b, std::string::npos) << "no kDemoToml in src/study/demo.cpp";
  std::string settings = src.substr(a + open.size(), b - a - open.size());
  std::string study = slurp(data / "study.toml");
  for (auto [text, from, to] : {std::tuple{&settings, "\nepochs = 20\n", "\nepochs = 3\n"},
                                {&settings, "\npretrain_epochs = 2\n", "\npretrain_epochs = 1\n"},
                                {&study, "\nsynthetic = true\n", "\nsynthetic = true\ndeterministic = true\n"}}) {
    const auto at = text->find(from);
    ASSERT_NE(at, std::string::npos) << from << " not in the demo's settings";
    text->replace(at, std::string(from).size(), to);
  }
  const fs::path cfg = data / "kill.toml";
  std::ofstream(cfg) << study << settings << "\n[eval]\nbootstrap = 200\n\n[explain]\nkernel_samples = 256\n";

  // The reference, timed segment by segment.
  const auto seg = segments();
  const fs::path ref_run = dir_ / "reference";
  Process ref = start_study(cfg, ref_run, false, dir_ / "reference.log");
  ASSERT_GE(ref.pid, 0);
  std::vector<double> began(seg.size() + 1, 0);
  std::size_t cur = 0;
  while (!ended(ref)) {
    const std::size_t s = segment_of(ref, ref_run);
    while (cur < s) began[++cur] = seconds_since(ref.t0);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(completed(ref)) << slurp(ref.log);
  ASSERT_EQ(segment_of(ref, ref_run), seg.size()) << slurp(ref.log);
  while (cur < seg.size()) began[++cur] = seconds_since(ref.t0);
  const double total = began.back();
  std::printf("reference: %.1f s;", total);
  for (std::size_t i = 0; i < seg.size(); ++i) std::printf(" %s %.1f", seg[i].name().c_str(), began[i + 1] - began[i]);
  std::printf("\n");

  // The kill moments.
  const char* env = std::getenv("CERV_KILL_SEED");
  const unsigned seed = env ? static_cast<unsigned>(std::strtoul(env, nullptr, 10)) : std::random_device{}();
  std::printf("kill moments: seed %u (CERV_KILL_SEED=%u replays them)\n", seed, seed);
  std::mt19937 rng(seed);
  auto target_at = [&](double t) {
    Target k;
    k.at = t;
    while (k.segment + 1 < seg.size() && began[k.segment + 1] <= t) ++k.segment;
    k.delay = t - began[k.segment];
    return k;
  };
  std::vector<Target> targets;
  for (const auto& phase : kPhases) {
    // Uniform over the time the reference spent in this step (all variants' segments together).
    std::vector<std::size_t> in;
    double length = 0;
    for (std::size_t i = 0; i < seg.size(); ++i)
      if (seg[i].phase == phase) {
        in.push_back(i);
        length += began[i + 1] - began[i];
      }
    for (int n = 0; n < kPerPhase; ++n) {
      double u = std::uniform_real_distribution<double>(0, length)(rng);
      std::size_t i = in.front();
      for (std::size_t j : in) {
        i = j;
        if (u < began[j + 1] - began[j]) break;
        u -= began[j + 1] - began[j];
      }
      Target k = target_at(began[i] + std::min(u, began[i + 1] - began[i]));
      k.segment = i;  // a zero-length step is still aimed at
      targets.push_back(k);
    }
  }
  while (static_cast<int>(targets.size()) < kKills) targets.push_back(target_at(std::uniform_real_distribution<double>(0, total)(rng)));
  // The chains: every chain starts in a fresh run folder with an aimed preprocessing kill (the
  // cache is written then), the others are dealt at random; each chain kills in timeline order, so
  // that every process gets further than the one before.
  std::vector<std::vector<Target>> chains(kChains);
  std::vector<Target> rest;
  std::size_t first = 0;
  for (const auto& k : targets)
    (seg[k.segment].phase == "preprocess" && first < chains.size() ? chains[first++] : rest).push_back(k);
  std::shuffle(rest.begin(), rest.end(), rng);
  for (std::size_t i = 0; i < rest.size(); ++i) chains[i % kChains].push_back(rest[i]);
  for (auto& c : chains) std::sort(c.begin(), c.end(), [](const Target& x, const Target& y) { return x.at < y.at; });

  std::vector<Kill> kills;
  const auto ref_files = files_under(ref_run);
  for (int c = 0; c < kChains; ++c) {
    const fs::path run = dir_ / ("chain" + std::to_string(c));
    int process = 0;
    for (Target k : chains[static_cast<std::size_t>(c)]) {
      for (bool killed = false; !killed;) {
        const fs::path log = dir_ / ("chain" + std::to_string(c) + "_" + std::to_string(process) + ".log");
        Process p = start_study(cfg, run, process > 0, log);
        ASSERT_GE(p.pid, 0);
        ++process;
        Clock::time_point entered{};
        bool in = false;
        // The delay is the reference's, and a busy machine can make a step many times slower or
        // faster: a step that ends before the delay is killed as it ends, so that no kill skips
        // the rest of the run.
        while (!ended(p)) {
          const std::size_t s = segment_of(p, run);
          if (!in && s >= k.segment) {
            in = true;
            entered = Clock::now();
          }
          if (in && (s > k.segment || seconds_since(entered) >= k.delay)) break;
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        if (ended(p)) {
          // It completed before the moment came: the run is whole, and the next process resumes a
          // complete run folder; aim earlier into the step.
          ASSERT_TRUE(completed(p)) << slurp(p.log);
          std::printf("chain %d process %d: completed before the kill at %s + %.2f s; aiming at half the delay\n", c,
                      process, seg[k.segment].name().c_str(), k.delay);
          k.delay /= 2;
          continue;
        }
        ::kill(p.pid, SIGKILL);
        ASSERT_EQ(::waitpid(p.pid, &p.status, 0), p.pid);
        p.ended = true;
        ASSERT_TRUE(WIFSIGNALED(p.status) && WTERMSIG(p.status) == SIGKILL) << slurp(p.log);
        Kill r{c, process, k, segment_of(p, run), seconds_since(p.t0)};
        ASSERT_LT(r.landed, seg.size());
        kills.push_back(r);
        killed = true;
      }
    }
    auto res = run_cli("study --resume --config " + cfg.string() + " --out " + run.string());
    ASSERT_EQ(res.code, 0) << res.err;

    // The uninterrupted run's folder, byte for byte: the same files, the same bytes.
    EXPECT_EQ(slurp(run / "metrics.json"), slurp(ref_run / "metrics.json")) << "chain " << c;
    const auto files = files_under(run);
    for (const auto& f : files) {
      EXPECT_EQ(f.find(".tmp."), std::string::npos) << "chain " << c << ": a temporary file is left: " << f;
      EXPECT_TRUE(ref_files.count(f)) << "chain " << c << ": " << f << " is not in the uninterrupted run";
    }
    for (const auto& f : ref_files) {
      EXPECT_TRUE(files.count(f)) << "chain " << c << ": " << f << " is missing";
      // run.json: timings; checkpoint.pt: each epoch's wall time; .lock: the holder's pid.
      if (f == "run.json" || fs::path(f).filename() == "checkpoint.pt" || f == ".lock" || !files.count(f)) continue;
      EXPECT_TRUE(without_manifest(slurp(run / f)) == without_manifest(slurp(ref_run / f)))
          << "chain " << c << ": " << f << " differs";
    }
  }

  std::printf("%-5s %-5s %-7s %-26s %-24s %s\n", "kill", "chain", "process", "aimed at", "landed in", "s after start");
  std::map<std::string, int> per_phase;
  for (std::size_t i = 0; i < kills.size(); ++i) {
    const auto& r = kills[i];
    char aimed[64];
    std::snprintf(aimed, sizeof aimed, "%s +%.1fs", seg[r.target.segment].name().c_str(), r.target.delay);
    std::printf("%-5zu %-5d %-7d %-26s %-24s %.1f\n", i + 1, r.chain, r.process, aimed, seg[r.landed].name().c_str(),
                r.after);
    ++per_phase[seg[r.landed].phase];
  }
  EXPECT_EQ(static_cast<int>(kills.size()), kKills);
  for (const auto& phase : kPhases) EXPECT_GE(per_phase[phase], 1) << "no kill landed in " << phase;
  std::printf("whole test: %.1f s\n", seconds_since(t_all));
}

}  // namespace
