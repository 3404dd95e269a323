// cervirisk weights check|convert: load a checkpoint into an architecture and say what does not
// fit; run one forward pass on a tensor file; convert torchvision ConvNeXt checkpoints to timm's
// layout.
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "commands.h"
#include "core/error.h"
#include "models/bert.h"
#include "models/convnext.h"
#include "models/registry.h"
#include "models/weights.h"

namespace cervirisk::cli {
namespace {

struct WeightsOptions {
  std::string arch;
  std::string preset = "cpu-small";
  std::string weights;
  std::string input;
  std::string output;
  std::string from = "torchvision";
  std::string out;
};

std::string human(double x) {
  char buf[32];
  if (x >= 1e9) std::snprintf(buf, sizeof buf, "%.2f G", x / 1e9);
  else if (x >= 1e6) std::snprintf(buf, sizeof buf, "%.2f M", x / 1e6);
  else if (x >= 1e3) std::snprintf(buf, sizeof buf, "%.2f k", x / 1e3);
  else std::snprintf(buf, sizeof buf, "%.0f ", x);
  return buf;
}

void run_check(const WeightsOptions& o) {
  if (!o.input.empty() && o.output.empty()) throw ConfigError("weights check: --input needs --output");
  models::TensorMap weights;
  std::filesystem::path file = o.weights;
  // An HF folder (config.json + model.safetensors) for --arch bert.
  if (!o.weights.empty() && std::filesystem::is_directory(file)) file = models::bert_weights_file(file);
  if (!o.weights.empty()) weights = models::read_safetensors(file);
  auto a = models::named_architecture(o.arch, o.preset, o.weights.empty() ? nullptr : &weights, o.weights);
  const auto params = models::parameter_count(*a.module);
  std::cout << "architecture: " << a.name << "\n"
            << "parameters:   " << params << " (" << human(static_cast<double>(params)) << ")\n"
            << "FLOPs/input:  " << a.flops << " (" << human(static_cast<double>(a.flops)) << "FLOP, multiply-add = 2)\n"
            << "inputs:       " << a.input_shapes << "\n";
  if (!o.weights.empty()) {
    auto opt = a.load_options(weights);
    opt.strict = false;
    auto r = models::load_weights(*a.module, weights, opt);
    std::cout << "weights:      " << o.weights << "\n" << r.summary(20) << "\n";
    if (!r.ok())
      throw ModelError(o.weights + " does not fit " + a.name + ": " + std::to_string(r.missing.size()) + " missing, " +
                       std::to_string(r.mismatched.size()) + " mis-shaped");
  }
  if (!o.input.empty()) {
    auto in = models::read_safetensors(o.input);
    auto out = a.forward(in);
    models::write_safetensors(o.output, out, {{"architecture", a.name}});
    std::cout << "output:       " << o.output << " (output " << c10::str(out.at("output").sizes()) << ")\n";
  }
}

void run_convert(const WeightsOptions& o) {
  if (o.from != "torchvision") throw ConfigError("weights convert: --from must be torchvision, got '" + o.from + "'");
  const auto ext = std::filesystem::path(o.weights).extension().string();
  auto in = ext == ".pth" || ext == ".pt" ? models::read_torch_state_dict(o.weights) : models::read_safetensors(o.weights);
  if (!models::is_torchvision_convnext(in))
    throw ModelError(o.weights + " is not a torchvision ConvNeXt checkpoint (no features.0.0.weight)");
  auto out = models::convert_torchvision_convnext(in);
  models::write_safetensors(o.out, out, {{"converted_from", "torchvision"}});
  std::cout << "wrote " << out.size() << " tensors in timm's layout to " << o.out << "\n";
}

}  // namespace

void add_weights(CLI::App& app, GlobalOptions& g) {
  auto* sub = app.add_subcommand("weights", "Load a checkpoint into an architecture; report key/shape problems (check|convert)");
  sub->require_subcommand(1);
  auto o = std::make_shared<WeightsOptions>();

  auto* check = sub->add_subcommand(
      "check", "Architecture summary (parameters, FLOPs); with --weights, missing / unexpected / mis-shaped keys");
  check->add_option("--arch", o->arch,
                    "convnext_atto..convnext_large, crossvit_tiny_240.., bert, clinical, convnext, vit, msm, "
                    "msm_t, msm_tc, or an architecture / model.json file")
      ->required();
  check->add_option("--preset", o->preset, "Sizes of our variants")->check(CLI::IsMember({"cpu-small", "paper"}));
  check->add_option("--weights", o->weights,
                    "Checkpoint (.safetensors; timm or torchvision layout; for bert also an HF folder)");
  check->add_option("--input", o->input, "Tensor file (.safetensors) with a tensor named input (or the model's inputs)");
  check->add_option("--output", o->output, "Where the eval-mode output is written (tensor output)");
  check->callback([&g, o] {
    apply_globals(g);
    run_check(*o);
  });

  auto* convert = sub->add_subcommand("convert", "Rename a torchvision ConvNeXt checkpoint to timm's layout");
  convert->add_option("--from", o->from, "Source layout")->check(CLI::IsMember({"torchvision"}));
  convert->add_option("--weights", o->weights, "Input checkpoint (.safetensors, or torchvision's .pth as torch.save wrote it)")->required();
  convert->add_option("--out", o->out, "Output checkpoint (.safetensors)")->required();
  convert->callback([&g, o] {
    apply_globals(g);
    run_convert(*o);
  });
}

}  // namespace cervirisk::cli
