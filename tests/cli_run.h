// Runs the real cervirisk binary (CERV_BINARY) for CLI smoke tests: stdout, stderr, exit code.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace cervirisk::testing {

struct CliResult {
  int code = -1;
  std::string out, err;
};

inline CliResult run_cli(const std::string& args) {
  static int counter = 0;
  std::string base = (std::filesystem::temp_directory_path() /
                      ("cerv_cli_" + std::to_string(::getpid()) + "_" + std::to_string(counter++)))
                         .string();
  std::string cmd = std::string(CERV_BINARY) + " " + args + " >" + base + ".out 2>" + base + ".err";
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
  r.err = slurp(base + ".err");
  std::filesystem::remove(base + ".out");
  std::filesystem::remove(base + ".err");
  return r;
}

}  // namespace cervirisk::testing
