// `cervirisk demo` (study.h run_demo): a synthetic cohort and the whole study on it.
#include "core/atomic_file.h"
#include "core/progress.h"
#include "study/steps.h"

namespace cervirisk::study {

namespace fs = std::filesystem;

// The demo's training settings: sized so the study part runs in minutes on 2 cores (measured in
// docs/training.md). Appended to the synthetic cohort's study.toml (which has no such tables).
const char* const kDemoToml = R"(
[preprocess]
tumour_size_px = 48
context_size_px = 64
workers = 2
# The annotated outline reaches the image models as input planes (docs/images.md).
mask_channel = true

[augment]
rotate_deg = 10.0

[text]
vocab_size = 1500
max_length = 96
pretrain_epochs = 2
pretrain_batch_size = 32

[model]
preset = "cpu-small"

[train]
epochs = 20
batch_size = 32
lr = 1e-3
backbone_lr = 5e-4
warmup_epochs = 1.0
early_stop_patience = 8
# The held-out loss chooses the epoch of the averaged weights; fusion variants start from the
# rungs below (docs/benchmark.md measures each).
select_on = "loss"
ema_decay = 0.9
fusion_init = "ladder"
loader_workers = 1
# The image branches also learn the pathology the MRI shows (docs/study.md "Auxiliary targets").
aux_targets = ["deep_stromal_invasion", "figo_stage", "parametrium", "lvsi", "lymph_nodes"]
)";

DemoResult run_demo(const DemoOptions& options) {
  DemoResult r;
  const fs::path data = options.out / "data";
  data::SynthOptions so;
  so.patients = options.patients;
  so.threads = options.threads;
  so.test_external = options.test_patients;
  Progress bar("synth", so.patients + so.test_external);
  r.synth = data::write_synthetic_cohort(so, data, [&](int, int) { bar.tick(); });
  bar.finish();
  write_file_atomic(data / "demo.toml", read_file(data / "study.toml") + kDemoToml);
  StudyOptions o;
  o.config = data / "demo.toml";
  o.out = options.out / "run";
  o.variants = options.variants;
  o.command = "demo";
  const auto t0 = std::chrono::steady_clock::now();
  r.study = run_study(o);
  r.seconds = StepTimer::since(t0);
  return r;
}

}  // namespace cervirisk::study
