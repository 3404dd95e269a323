// cervirisk: multicentre MRI + report + clinical recurrence-risk study tool.
// Only this file catches: every error becomes "error: ..." on stderr and its documented exit
// code (docs/exit-codes.md).
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>

#include "commands.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "core/torch/runtime.h"
#include "core/version.h"

namespace cervirisk::cli {

void apply_globals(const GlobalOptions& g) {
  log::configure(g.verbose, g.quiet);
  set_threads(g.threads);
  if (!g.device.empty()) {
    parse_device(g.device);  // exit 2 before any work when this LibTorch cannot use it
    set_device_override(g.device);
  }
}

namespace {
// The exit-code table of --help, from the one table in core/error.cpp.
std::string exit_code_help() {
  std::string s = "Exit codes (docs/exit-codes.md):";
  for (const ExitCodeInfo& e : exit_codes())
    s += "\n  " + std::to_string(static_cast<int>(e.code)) + "  " + e.meaning;
  return s;
}
}  // namespace

}  // namespace cervirisk::cli

int main(int argc, char** argv) {
  using namespace cervirisk;
  CLI::App app{"cervirisk: postoperative recurrence risk in operable cervical cancer from MRI, "
               "radiology reports and clinical data -- multicentre study, statistics, explanations, "
               "report and model bundle.\n" +
                   cli::exit_code_help(),
               "cervirisk"};
  app.require_subcommand(0, 1);
  cli::GlobalOptions g;
  bool show_version = false;
  bool print_schema = false;
  app.add_flag("--version", show_version, "Print version, git revision and torch version");
  app.add_flag("--print-config-schema", print_schema, "Print every configuration key with its default (docs/config.md)");
  app.add_flag("-v,--verbose", g.verbose, "Debug logging")->trigger_on_parse(false);
  app.add_flag("-q,--quiet", g.quiet, "Only warnings and errors");
  app.add_option("--threads", g.threads, "Intra-op threads (0 = number of cores)")->check(CLI::NonNegativeNumber);
  app.add_option("--device", g.device,
                 "Torch device of training, prediction and explanations: cpu, cuda or cuda:N (study / train: "
                 "overrides train.device)");
  app.fallthrough();

  cli::add_demo(app, g);
  cli::add_benchmark(app, g);
  cli::add_synth(app, g);
  cli::add_validate(app, g);
  cli::add_inspect(app, g);
  cli::add_convert(app, g);
  cli::add_study(app, g);
  cli::add_train(app, g);
  cli::add_evaluate(app, g);
  cli::add_explain(app, g);
  cli::add_report(app, g);
  cli::add_predict(app, g);
  cli::add_stats(app, g);
  cli::add_tokenize(app, g);
  cli::add_pretrain_text(app, g);
  cli::add_weights(app, g);
  cli::add_serve(app, g);

  try {
    app.parse(argc, argv);
    if (show_version) {
      RuntimeInfo r = runtime_info();
      std::cout << "cervirisk " << version() << " (git " << git_revision() << ", " << compiler()
                << ", torch " << r.torch_version << ", devices: " << r.device << ")\n";
      return 0;
    }
    if (print_schema) {
      std::cout << config::schema_markdown();
      return 0;
    }
    if (app.get_subcommands().empty()) {
      std::cout << app.help();
      return 0;
    }
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : static_cast<int>(ExitCode::kBadArguments);
  } catch (const Error& e) {
    std::fflush(stdout);
    std::cerr << "error: " << printable_message(e.what()) << "\n";
    return e.exit_code();
  } catch (const std::bad_alloc&) {
    std::cerr << "error: out of memory\n";
    return static_cast<int>(ExitCode::kFailure);
  } catch (const std::exception& e) {
    std::cerr << "error: " << printable_message(e.what()) << "\n";
    return static_cast<int>(ExitCode::kFailure);
  }
  return 0;
}
