// cervirisk train: one variant of the study (the same pipeline as `study`, one variant).
#include <string>

#include "commands.h"
#include "models/arch.h"
#include "study/study.h"
#include "study_output.h"

namespace cervirisk::cli {

void add_train(CLI::App& app, GlobalOptions& g) {
  auto* sub = app.add_subcommand("train", "Train one variant (fit on train, select on internal), predict, evaluate");
  auto o = std::make_shared<study::StudyOptions>();
  auto cfg = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto variant = std::make_shared<std::string>();
  sub->add_option("--config", *cfg, "study.toml")->required();
  std::string names;
  for (const auto& v : models::variant_names()) names += (names.empty() ? "" : " | ") + v;
  sub->add_option("--variant", *variant, names)->required();
  sub->add_option("--out", *out, "Run folder (default: study.out_dir)");
  sub->add_option("--seeds", o->seeds, "Seeds")->check(CLI::Range(1, 100));
  sub->add_flag("--resume", o->resume, "Continue from the checkpoint of an interrupted run");
  sub->callback([&g, o, cfg, out, variant] {
    apply_globals(g);
    o->config = *cfg;
    o->out = *out;
    o->variants = {*variant};
    o->report = false;
    o->command = "train";
    print_study_table(study::run_study(*o));
  });
}

}  // namespace cervirisk::cli
