// Runs the real cervirisk binary (CERV_BINARY) for CLI tests: stdout, stderr, exit code. The one
// way the tests start the binary.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace cervirisk::testing {

struct CliResult {
  int code = -1;  // exit status; -1 when the process did not exit normally
  std::string out, err;
};

// kMerged: stderr goes into `out` as well (the shell's 2>&1, in the order written), `err` stays
// empty; for tests that look for a message wherever it is printed.
enum class Stderr { kSeparate, kMerged };

// run_command: any shell command (a reference tool); run_cli: `args` appended to the binary's
// path. Both run by the shell (quoting applies). The output files
// are named by pid and a counter: ctest runs the tests of one binary in parallel processes.
inline CliResult run_command(const std::string& command, Stderr stderr_to = Stderr::kSeparate) {
  static int counter = 0;
  std::string base = (std::filesystem::temp_directory_path() /
                      ("cerv_cli_" + std::to_string(::getpid()) + "_" + std::to_string(counter++)))
                         .string();
  std::string cmd = command + " >" + base + ".out " +
                    (stderr_to == Stderr::kMerged ? "2>&1" : "2>" + base + ".err");
  int st = std::system(cmd.c_str());
  CliResult r;
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  auto slurp = [](const std::string& p) {
    std::ifstream f(p);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  };
  r.out = slurp(base + ".out");
  if (stderr_to == Stderr::kSeparate) r.err = slurp(base + ".err");
  std::filesystem::remove(base + ".out");
  std::filesystem::remove(base + ".err");
  return r;
}

inline CliResult run_cli(const std::string& args, Stderr stderr_to = Stderr::kSeparate) {
  return run_command(std::string(CERV_BINARY) + " " + args, stderr_to);
}

// Starts the binary in the background with stdout and stderr discarded (stderr into `stderr_file`
// when given, for a test that follows the progress lines), for a test that signals it; returns its
// pid (negative when fork failed). The caller waits for it (waitpid).
inline pid_t start_cli(const std::vector<std::string>& args, const std::string& stderr_file = "") {
  std::vector<std::string> argv_s{CERV_BINARY};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(nullptr);  // or the child's freopen writes the test's buffered output a second time
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (!std::freopen("/dev/null", "w", stdout) ||
        !std::freopen(stderr_file.empty() ? "/dev/null" : stderr_file.c_str(), "w", stderr))
      ::_exit(126);
    ::execv(CERV_BINARY, argv.data());
    ::_exit(127);
  }
  return pid;
}

}  // namespace cervirisk::testing
