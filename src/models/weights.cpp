#include "models/weights.h"

#include <algorithm>
#include <cstring>
#include <sstream>

#include "core/error.h"

namespace cervirisk::models {
namespace {

std::string shape_str(const std::vector<std::int64_t>& s) {
  std::ostringstream o;
  o << "[";
  for (std::size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  o << "]";
  return o.str();
}

std::map<std::string, torch::Tensor> module_tensors(const torch::nn::Module& m) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : m.named_parameters(true)) out[p.key()] = p.value();
  for (const auto& b : m.named_buffers(true)) out[b.key()] = b.value();
  return out;
}

WeightReport match(const torch::nn::Module& module, const TensorMap& tensors, const LoadOptions& opt,
                   bool copy) {
  WeightReport r;
  r.parameter_count = parameter_count(module);
  // checkpoint keys after renaming
  std::map<std::string, std::string> renamed;  // new name -> original
  for (const auto& [k, v] : tensors) {
    std::string n = opt.rename ? opt.rename(k) : k;
    if (!n.empty()) renamed[n] = k;
  }
  std::map<std::string, bool> used;
  auto targets = module_tensors(module);
  torch::NoGradGuard no_grad;
  for (auto& [name, target] : targets) {
    const torch::Tensor* src = nullptr;
    std::string src_key;
    if (auto it = renamed.find(name); it != renamed.end()) {
      src_key = it->first;
    } else {
      for (const auto& pre : opt.checkpoint_prefixes)
        if (auto it2 = renamed.find(pre + name); it2 != renamed.end()) {
          src_key = it2->first;
          break;
        }
    }
    if (src_key.empty()) {
      bool allowed = std::any_of(opt.allowed_missing_prefixes.begin(), opt.allowed_missing_prefixes.end(),
                                 [&](const std::string& p) { return name.rfind(p, 0) == 0; });
      if (!allowed) r.missing.push_back(name);
      continue;
    }
    used[src_key] = true;
    src = &tensors.at(renamed[src_key]);
    torch::Tensor value = *src;
    if (value.sizes() != target.sizes()) {
      torch::Tensor adapted = opt.adapt ? opt.adapt(name, value, target) : torch::Tensor();
      if (!adapted.defined() || adapted.sizes() != target.sizes()) {
        r.mismatched.push_back({name, target.sizes().vec(), value.sizes().vec()});
        continue;
      }
      value = adapted;
    }
    if (copy) {
      torch::Tensor t = target;  // shares storage with the module's tensor
      t.copy_(value.to(t.dtype()).to(t.device()));
    }
    r.loaded.push_back(name);
  }
  for (const auto& [n, orig] : renamed)
    if (!used.count(n)) r.unexpected.push_back(orig);
  return r;
}

}  // namespace

std::string WeightReport::summary(std::size_t max_names) const {
  std::ostringstream o;
  o << loaded.size() << " loaded, " << missing.size() << " missing, " << unexpected.size()
    << " unexpected, " << mismatched.size() << " mis-shaped; " << parameter_count << " parameters";
  auto list = [&](const char* what, const std::vector<std::string>& v) {
    if (v.empty()) return;
    o << "\n  " << what << ":";
    for (std::size_t i = 0; i < v.size() && i < max_names; ++i) o << " " << v[i];
    if (v.size() > max_names) o << " ... (+" << v.size() - max_names << ")";
  };
  list("missing", missing);
  list("unexpected", unexpected);
  for (std::size_t i = 0; i < mismatched.size() && i < max_names; ++i)
    o << "\n  mis-shaped: " << mismatched[i].name << " expected " << shape_str(mismatched[i].expected)
      << " got " << shape_str(mismatched[i].actual);
  return o.str();
}

WeightReport load_weights(torch::nn::Module& module, const TensorMap& tensors, const LoadOptions& opt) {
  WeightReport r = match(module, tensors, opt, /*copy=*/true);
  if (opt.strict && !r.ok()) throw ModelError("weights do not fit the architecture: " + r.summary());
  return r;
}

WeightReport check_weights(const torch::nn::Module& module, const TensorMap& tensors, const LoadOptions& opt) {
  return match(module, tensors, opt, /*copy=*/false);
}

TensorMap state_dict(const torch::nn::Module& module) {
  TensorMap out;
  for (auto& [k, v] : module_tensors(module)) out[k] = v.detach().to(torch::kCPU).contiguous().clone();
  return out;
}

std::int64_t parameter_count(const torch::nn::Module& module) {
  std::int64_t n = 0;
  for (const auto& p : module.parameters(true)) n += p.numel();
  return n;
}

}  // namespace cervirisk::models

#include "io/safetensors.h"

namespace cervirisk::models {

TensorMap read_safetensors(const std::filesystem::path& path) {
  io::SafetensorsFile f(path);
  TensorMap out;
  for (const auto& t : f.tensors()) {
    // Copied into a fresh (aligned) tensor: a safetensors data offset need not be aligned to
    // the element size, and from_blob on a misaligned pointer is undefined behaviour.
    torch::Tensor x;
    auto copy_as = [&](torch::ScalarType st) {
      torch::Tensor y = torch::empty(t.shape, torch::TensorOptions().dtype(st));
      if (t.nbytes) std::memcpy(y.data_ptr(), t.data, t.nbytes);
      return y;
    };
    switch (t.dtype) {
      case io::DType::kF64: x = copy_as(torch::kFloat64); break;
      case io::DType::kF32: x = copy_as(torch::kFloat32); break;
      case io::DType::kF16: case io::DType::kBF16: {
        auto v = t.to_float();
        x = torch::from_blob(v.data(), t.shape, torch::kFloat32).clone();
        break;
      }
      case io::DType::kI64: x = copy_as(torch::kInt64); break;
      case io::DType::kI32: x = copy_as(torch::kInt32); break;
      case io::DType::kI16: x = copy_as(torch::kInt16); break;
      case io::DType::kI8: x = copy_as(torch::kInt8); break;
      case io::DType::kU8: x = copy_as(torch::kUInt8); break;
      case io::DType::kBool: x = copy_as(torch::kBool); break;
    }
    out[t.name] = x;
  }
  return out;
}

void write_safetensors(const std::filesystem::path& path, const TensorMap& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::map<std::string, io::TensorData> out;
  for (const auto& [name, t0] : tensors) {
    torch::Tensor t = t0.detach().to(torch::kCPU).contiguous();
    io::TensorData d;
    switch (t.scalar_type()) {
      case torch::kFloat32: d.dtype = io::DType::kF32; break;
      case torch::kFloat64: d.dtype = io::DType::kF64; break;
      case torch::kInt64: d.dtype = io::DType::kI64; break;
      case torch::kInt32: d.dtype = io::DType::kI32; break;
      case torch::kUInt8: d.dtype = io::DType::kU8; break;
      case torch::kBool: d.dtype = io::DType::kBool; break;
      default:
        t = t.to(torch::kFloat32);
        d.dtype = io::DType::kF32;
    }
    d.shape = t.sizes().vec();
    d.bytes.resize(static_cast<std::size_t>(t.numel()) * t.element_size());
    if (!d.bytes.empty()) std::memcpy(d.bytes.data(), t.data_ptr(), d.bytes.size());
    out[name] = std::move(d);
  }
  io::write_safetensors(path, out, metadata);
}

}  // namespace cervirisk::models
