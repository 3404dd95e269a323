#include "train/checkpoint.h"

#include <ATen/Context.h>
#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/random.h"

namespace cervirisk::train {
namespace {

constexpr std::int64_t kFormatVersion = 1;

nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }
double number(const nlohmann::json& j) {
  return j.is_null() ? std::numeric_limits<double>::quiet_NaN() : j.get<double>();
}

std::string state_to_json(const TrainState& s) {
  nlohmann::json j;
  j["epochs_done"] = s.epochs_done;
  j["step"] = s.step;
  j["best_epoch"] = s.best_epoch;
  j["best_metric"] = number(s.best_metric);
  j["epochs_without_improvement"] = s.epochs_without_improvement;
  j["stopped_early"] = s.stopped_early;
  j["fingerprint"] = s.fingerprint;
  auto& h = j["history"] = nlohmann::json::array();
  for (const auto& r : s.history)
    h.push_back({{"epoch", r.epoch}, {"train_loss", number(r.train_loss)}, {"val_loss", number(r.val_loss)},
                 {"val_auc", number(r.val_auc)}, {"lr", r.lr}, {"seconds", r.seconds}});
  return j.dump();
}

TrainState state_from_json(const std::string& text) {
  auto j = nlohmann::json::parse(text);
  TrainState s;
  s.epochs_done = j.at("epochs_done").get<std::int64_t>();
  s.step = j.at("step").get<std::int64_t>();
  s.best_epoch = j.at("best_epoch").get<std::int64_t>();
  s.best_metric = number(j.at("best_metric"));
  s.epochs_without_improvement = j.at("epochs_without_improvement").get<std::int64_t>();
  s.stopped_early = j.at("stopped_early").get<bool>();
  s.fingerprint = j.at("fingerprint").get<std::string>();
  for (const auto& r : j.at("history"))
    s.history.push_back({r.at("epoch").get<std::int64_t>(), number(r.at("train_loss")), number(r.at("val_loss")),
                         number(r.at("val_auc")), r.at("lr").get<double>(), r.at("seconds").get<double>()});
  return s;
}

template <typename F>
auto wrap_torch(const std::filesystem::path& path, const char* what, F&& f) {
  try {
    return f();
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    std::string msg = e.what();
    if (auto nl = msg.find('\n'); nl != std::string::npos) msg.resize(nl);
    throw ModelError(fmt::format("checkpoint {}: {}: {}", path.string(), what, msg));
  }
}

}  // namespace

RngState capture_rng_state() {
  RngState s;
  {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    s.torch_cpu = gen.get_state();
  }
  if (torch::cuda::is_available()) {
    for (std::size_t i = 0; i < torch::cuda::device_count(); ++i) {
      auto gen = at::globalContext().defaultGenerator(at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(i)));
      std::lock_guard<std::mutex> lock(gen.mutex());
      s.torch_cuda.push_back(gen.get_state());
    }
  }
  std::ostringstream os;
  os << rng();
  s.std_engine = os.str();
  return s;
}

void restore_rng_state(const RngState& s) {
  if (s.torch_cpu.defined()) {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(s.torch_cpu);
  }
  if (!s.torch_cuda.empty() && torch::cuda::is_available()) {
    const auto n = std::min<std::size_t>(s.torch_cuda.size(), torch::cuda::device_count());
    for (std::size_t i = 0; i < n; ++i) {
      auto gen = at::globalContext().defaultGenerator(at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(i)));
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_state(s.torch_cuda[i]);
    }
  }
  if (!s.std_engine.empty()) {
    std::istringstream is(s.std_engine);
    is >> rng();
  }
}

namespace {

// Named tensors as an archive; the names are kept in a list (archive keys are attribute names:
// dots would nest them).
torch::serialize::OutputArchive named_archive(const NamedTensors& tensors) {
  torch::serialize::OutputArchive a;
  std::string names;
  std::int64_t k = 0;
  for (const auto& [name, t] : tensors) {
    names += name + "\n";
    a.write("t" + std::to_string(k++), t.detach().cpu().contiguous());
  }
  a.write("names", c10::IValue(names));
  return a;
}

NamedTensors read_named(torch::serialize::InputArchive& a) {
  NamedTensors out;
  c10::IValue v;
  a.read("names", v);
  std::istringstream names(v.toStringRef());
  std::string name;
  std::int64_t k = 0;
  while (std::getline(names, name)) {
    torch::Tensor t;
    a.read("t" + std::to_string(k++), t);
    out[name] = t;
  }
  return out;
}

}  // namespace

void save_checkpoint(const std::filesystem::path& path, const torch::nn::Module& model,
                     const torch::optim::Optimizer& optimizer, const CheckpointContents& c) {
  torch::serialize::OutputArchive root;
  wrap_torch(path, "serialising", [&] {
    root.write("format_version", c10::IValue(kFormatVersion));
    torch::serialize::OutputArchive m, o;
    model.save(m);
    root.write("model", m);
    optimizer.save(o);
    root.write("optimizer", o);
    torch::serialize::OutputArchive best = named_archive(c.best_weights);
    root.write("best", best);
    if (!c.ema.empty()) {
      torch::serialize::OutputArchive ema = named_archive(c.ema);
      root.write("ema", ema);
    }
    root.write("state", c10::IValue(state_to_json(c.state)));
    torch::serialize::OutputArchive r;
    r.write("torch_cpu", c.rng.torch_cpu);
    r.write("cuda_count", c10::IValue(static_cast<std::int64_t>(c.rng.torch_cuda.size())));
    for (std::size_t i = 0; i < c.rng.torch_cuda.size(); ++i) r.write("cuda" + std::to_string(i), c.rng.torch_cuda[i]);
    r.write("std_engine", c10::IValue(c.rng.std_engine));
    root.write("rng", r);
    return 0;
  });
  AtomicFile file(path);
  std::ofstream& out = file.stream();
  try {
    // A writer that never reports a short write: LibTorch's zip writer throws on one from its
    // destructor (std::terminate on a full disk). A failed stream stops the writing here, and
    // commit() reports it, removing the temporary file.
    root.save_to([&out](const void* data, std::size_t n) -> std::size_t {
      if (out) out.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
      return n;
    });
  } catch (const std::exception& e) {
    throw OutputError(fmt::format("checkpoint {}: write failed: {}", path.string(), e.what()));
  }
  file.commit();
}

CheckpointContents load_checkpoint(const std::filesystem::path& path, torch::nn::Module& model,
                                   torch::optim::Optimizer& optimizer, const std::string& expected_fingerprint) {
  if (!std::filesystem::exists(path)) throw InputError(fmt::format("checkpoint {}: no such file", path.string()));
  torch::serialize::InputArchive root;
  try {
    root.load_from(path.string());
  } catch (const std::exception& e) {
    std::string msg = e.what();
    if (auto nl = msg.find('\n'); nl != std::string::npos) msg.resize(nl);
    throw FormatError(fmt::format("checkpoint {}: not a readable checkpoint: {}", path.string(), msg));
  }
  CheckpointContents c;
  c10::IValue v;
  if (!root.try_read("format_version", v) || !v.isInt() || v.toInt() != kFormatVersion)
    throw ModelError(fmt::format("checkpoint {}: format_version expected {}, got {}", path.string(), kFormatVersion,
                                 v.isInt() ? std::to_string(v.toInt()) : std::string("none")));
  try {
    if (!root.try_read("state", v) || !v.isString()) throw FormatError("no training state");
    c.state = state_from_json(v.toStringRef());
  } catch (const std::exception& e) {  // a damaged state: missing, not JSON, a field of the wrong type
    std::string msg = e.what();
    if (auto nl = msg.find('\n'); nl != std::string::npos) msg.resize(nl);
    throw FormatError(fmt::format("checkpoint {}: unreadable training state: {}", path.string(), msg));
  }
  if (!expected_fingerprint.empty() && c.state.fingerprint != expected_fingerprint)
    throw ModelError(fmt::format("checkpoint {}: belongs to run '{}', expected '{}'", path.string(),
                                 c.state.fingerprint, expected_fingerprint));
  wrap_torch(path, "model state does not fit this architecture", [&] {
    torch::serialize::InputArchive m;
    root.read("model", m);
    model.load(m);
    return 0;
  });
  wrap_torch(path, "optimiser state does not fit these parameter groups", [&] {
    torch::serialize::InputArchive o;
    root.read("optimizer", o);
    optimizer.load(o);
    return 0;
  });
  wrap_torch(path, "best weights", [&] {
    torch::serialize::InputArchive best, ema;
    root.read("best", best);
    c.best_weights = read_named(best);
    if (root.try_read("ema", ema)) c.ema = read_named(ema);
    torch::serialize::InputArchive r;
    root.read("rng", r);
    r.read("torch_cpu", c.rng.torch_cpu);
    r.read("cuda_count", v);
    for (std::int64_t i = 0; i < v.toInt(); ++i) {
      torch::Tensor t;
      r.read("cuda" + std::to_string(i), t);
      c.rng.torch_cuda.push_back(t);
    }
    r.read("std_engine", v);
    c.rng.std_engine = v.toStringRef();
    return 0;
  });
  return c;
}

}  // namespace cervirisk::train
