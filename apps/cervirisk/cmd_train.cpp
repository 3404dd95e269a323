// cervirisk train: one variant of the study (the same pipeline as `study`, one variant).
#include "commands.h"
#include "train/study.h"

namespace cervirisk::cli {

void print_study_table(const train::StudyResult& r);

void add_train(CLI::App& app, GlobalOptions& g) {
  auto* sub = app.add_subcommand("train", "Train one variant (fit on train, select on internal), predict, evaluate");
  auto o = std::make_shared<train::StudyOptions>();
  auto cfg = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto variant = std::make_shared<std::string>();
  sub->add_option("--config", *cfg, "study.toml")->required();
  sub->add_option("--variant", *variant, "clinical | convnext | vit | msm | msm_t | msm_tc")->required();
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
    print_study_table(train::run_study(*o));
  });
}

}  // namespace cervirisk::cli
