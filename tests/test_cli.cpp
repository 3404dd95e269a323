// Runs the real binary: help lists every subcommand, errors map to documented exit codes; the
// exit-code table, --help and docs/exit-codes.md agree.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <utility>

#include "cli_run.h"
#include "core/error.h"

namespace {
using cervirisk::testing::CliResult;
using cervirisk::testing::Stderr;
CliResult run(const std::string& args) { return cervirisk::testing::run_cli(args, Stderr::kMerged); }
}  // namespace

TEST(Cli, HelpListsEverySubcommand) {
  CliResult r = run("--help");
  EXPECT_EQ(r.code, 0);
  for (const char* c : {"demo", "synth", "validate", "inspect", "study", "train", "evaluate", "explain",
                        "report", "predict", "stats", "tokenize", "pretrain-text", "weights", "convert"})
    EXPECT_NE(r.out.find(c), std::string::npos) << c;
}

TEST(Cli, VersionPrintsTorch) {
  CliResult r = run("--version");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("cervirisk 0."), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("torch"), std::string::npos) << r.out;
}

TEST(Cli, UnknownOptionIsExit2) {
  CliResult r = run("--no-such-flag");
  EXPECT_EQ(r.code, 2) << r.out;
}

// The exit codes: one table (core/error.cpp) printed by --help and mirrored by the documentation.
TEST(ExitCodes, TableListsEveryCodeInNumericOrder) {
  const auto& table = cervirisk::exit_codes();
  ASSERT_EQ(table.size(), static_cast<std::size_t>(cervirisk::ExitCode::kOutputNotWritable) + 1);
  for (std::size_t i = 0; i < table.size(); ++i) {
    EXPECT_EQ(static_cast<std::size_t>(table[i].code), i);
    EXPECT_EQ(&cervirisk::exit_code_info(table[i].code), &table[i]);
  }
}

TEST(ExitCodes, DocsListEveryCodeWithItsNameAndMeaning) {
  std::ifstream in(std::string(CERV_SOURCE_DIR) + "/docs/exit-codes.md");
  ASSERT_TRUE(in) << "docs/exit-codes.md";
  // rows "| 2 | `bad_arguments` | meaning | examples |"
  const std::regex row(R"(^\| (\d+) \| `([a-z_]+)` \| ([^|]*[^| ]) \|)");
  std::map<int, std::pair<std::string, std::string>> doc;
  std::string line;
  std::smatch m;
  while (std::getline(in, line))
    if (std::regex_search(line, m, row)) doc[std::stoi(m[1])] = {m[2], m[3]};
  const auto& table = cervirisk::exit_codes();
  EXPECT_EQ(doc.size(), table.size()) << "docs/exit-codes.md lists another set of codes";
  for (const auto& e : table) {
    const int code = static_cast<int>(e.code);
    ASSERT_TRUE(doc.count(code)) << "docs/exit-codes.md has no row for exit code " << code;
    EXPECT_EQ(doc[code].first, e.name) << "exit code " << code;
    EXPECT_EQ(doc[code].second, e.meaning) << "exit code " << code;
  }
}

TEST(ExitCodes, HelpPrintsTheTable) {
  CliResult r = run("--help");
  EXPECT_EQ(r.code, 0);
  for (const auto& e : cervirisk::exit_codes())
    EXPECT_NE(r.out.find("\n  " + std::to_string(static_cast<int>(e.code)) + "  " + e.meaning),
              std::string::npos)
        << r.out;
}
