// cervirisk evaluate: recompute metrics.json and comparisons.csv from a run's predictions.
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>

#include "commands.h"
#include "core/run_lock.h"
#include "study/study.h"

namespace cervirisk::cli {

void add_evaluate(CLI::App& app, GlobalOptions& g) {
  auto* sub = app.add_subcommand("evaluate", "Recompute the statistics of a run folder from predictions/*.csv");
  auto run = std::make_shared<std::string>();
  sub->add_option("--run", *run, "Run folder")->required();
  sub->callback([&g, run] {
    apply_globals(g);
    // The run folder's writer lock (core/run_lock.h), when the folder exists.
    std::optional<RunFolderLock> lock;
    if (std::filesystem::is_directory(*run)) lock.emplace(*run, "evaluate");
    study::evaluate_run(*run);
    std::printf("wrote %s/metrics.json and comparisons.csv\n", run->c_str());
  });
}

}  // namespace cervirisk::cli
