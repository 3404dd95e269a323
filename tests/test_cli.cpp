// Runs the real binary: help lists every subcommand, errors map to documented exit codes.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace {
struct Result {
  int rc;
  std::string out;
};
Result run(const std::string& args) {
  std::string cmd = std::string(CERV_BINARY) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf;
  while (std::size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}
}  // namespace

TEST(Cli, HelpListsEverySubcommand) {
  Result r = run("--help");
  EXPECT_EQ(r.rc, 0);
  for (const char* c : {"demo", "synth", "validate", "inspect", "study", "train", "evaluate", "explain",
                        "report", "predict", "stats", "tokenize", "pretrain-text", "weights"})
    EXPECT_NE(r.out.find(c), std::string::npos) << c;
}

TEST(Cli, VersionPrintsTorch) {
  Result r = run("--version");
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.out.find("cervirisk 0."), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("torch"), std::string::npos) << r.out;
}

TEST(Cli, UnknownOptionIsExit2) {
  Result r = run("--no-such-flag");
  EXPECT_EQ(r.rc, 2) << r.out;
}
