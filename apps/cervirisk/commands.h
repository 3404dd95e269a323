// The subcommands of the cervirisk CLI: one file each (cmd_<name>.cpp), registered by main.
// Callbacks throw cervirisk::Error; main() maps it to the documented exit code.
#pragma once

#include <CLI/CLI.hpp>

namespace cervirisk::cli {

struct GlobalOptions {
  bool verbose = false;
  bool quiet = false;
  int threads = 0;  // 0 = number of cores
  std::string device;  // --device: "" = train.device (study, train) / cpu (predict, explain)
};

// Applies --verbose/--quiet (the log level) and --threads (torch intra-op threads); every
// subcommand calls it first. It seeds nothing: a command that draws random numbers seeds from its
// own --seed / study.seed.
void apply_globals(const GlobalOptions& g);

void add_demo(CLI::App& app, GlobalOptions& g);
void add_benchmark(CLI::App& app, GlobalOptions& g);
void add_synth(CLI::App& app, GlobalOptions& g);
void add_validate(CLI::App& app, GlobalOptions& g);
void add_inspect(CLI::App& app, GlobalOptions& g);
void add_convert(CLI::App& app, GlobalOptions& g);
void add_study(CLI::App& app, GlobalOptions& g);
void add_train(CLI::App& app, GlobalOptions& g);
void add_evaluate(CLI::App& app, GlobalOptions& g);
void add_explain(CLI::App& app, GlobalOptions& g);
void add_report(CLI::App& app, GlobalOptions& g);
void add_predict(CLI::App& app, GlobalOptions& g);
void add_stats(CLI::App& app, GlobalOptions& g);
void add_tokenize(CLI::App& app, GlobalOptions& g);
void add_pretrain_text(CLI::App& app, GlobalOptions& g);
void add_weights(CLI::App& app, GlobalOptions& g);
void add_serve(CLI::App& app, GlobalOptions& g);

}  // namespace cervirisk::cli
