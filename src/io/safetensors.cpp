#include "io/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"

namespace cervirisk::io {

const char* dtype_name(DType d) {
  switch (d) {
    case DType::kF64: return "F64";
    case DType::kF32: return "F32";
    case DType::kF16: return "F16";
    case DType::kBF16: return "BF16";
    case DType::kI64: return "I64";
    case DType::kI32: return "I32";
    case DType::kI16: return "I16";
    case DType::kI8: return "I8";
    case DType::kU8: return "U8";
    case DType::kBool: return "BOOL";
  }
  return "?";
}

std::size_t dtype_size(DType d) {
  switch (d) {
    case DType::kF64: case DType::kI64: return 8;
    case DType::kF32: case DType::kI32: return 4;
    case DType::kF16: case DType::kBF16: case DType::kI16: return 2;
    case DType::kI8: case DType::kU8: case DType::kBool: return 1;
  }
  return 0;
}

DType dtype_from_name(const std::string& n) {
  static const std::pair<const char*, DType> table[] = {
      {"F64", DType::kF64}, {"F32", DType::kF32}, {"F16", DType::kF16}, {"BF16", DType::kBF16},
      {"I64", DType::kI64}, {"I32", DType::kI32}, {"I16", DType::kI16}, {"I8", DType::kI8},
      {"U8", DType::kU8},   {"BOOL", DType::kBool}};
  for (auto& [name, d] : table)
    if (n == name) return d;
  throw FormatError("unsupported safetensors dtype '" + n + "'");
}

std::int64_t TensorView::numel() const {
  std::int64_t n = 1;
  for (auto s : shape) n *= s;
  return n;
}

namespace {
float half_to_float(std::uint16_t h) {
  std::uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
  if (exp == 0) {
    if (mant == 0) bits = sign;
    else {  // subnormal
      exp = 127 - 15 + 1;
      while (!(mant & 0x400)) { mant <<= 1; --exp; }
      mant &= 0x3ff;
      bits = sign | (exp << 23) | (mant << 13);
    }
  } else if (exp == 31) bits = sign | 0x7f800000u | (mant << 13);
  else bits = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
template <typename T>
T load(const std::uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
}  // namespace

std::vector<float> TensorView::to_float() const {
  std::size_t n = static_cast<std::size_t>(numel());
  std::vector<float> out(n);
  std::size_t es = dtype_size(dtype);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t* p = data + i * es;
    switch (dtype) {
      case DType::kF64: out[i] = static_cast<float>(load<double>(p)); break;
      case DType::kF32: out[i] = load<float>(p); break;
      case DType::kF16: out[i] = half_to_float(load<std::uint16_t>(p)); break;
      case DType::kBF16: {
        std::uint32_t bits = std::uint32_t(load<std::uint16_t>(p)) << 16;
        std::memcpy(&out[i], &bits, 4);
        break;
      }
      case DType::kI64: out[i] = static_cast<float>(load<std::int64_t>(p)); break;
      case DType::kI32: out[i] = static_cast<float>(load<std::int32_t>(p)); break;
      case DType::kI16: out[i] = load<std::int16_t>(p); break;
      case DType::kI8: out[i] = load<std::int8_t>(p); break;
      case DType::kU8: case DType::kBool: out[i] = *p; break;
    }
  }
  return out;
}

std::vector<std::int64_t> TensorView::to_int64() const {
  std::size_t n = static_cast<std::size_t>(numel());
  std::vector<std::int64_t> out(n);
  std::size_t es = dtype_size(dtype);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t* p = data + i * es;
    switch (dtype) {
      case DType::kI64: out[i] = load<std::int64_t>(p); break;
      case DType::kI32: out[i] = load<std::int32_t>(p); break;
      case DType::kI16: out[i] = load<std::int16_t>(p); break;
      case DType::kI8: out[i] = load<std::int8_t>(p); break;
      case DType::kU8: case DType::kBool: out[i] = *p; break;
      default: throw FormatError("tensor '" + name + "' is " + dtype_name(dtype) + ", expected an integer dtype");
    }
  }
  return out;
}

SafetensorsFile::SafetensorsFile(const std::filesystem::path& path) : path_(path) {
  const std::string where = "safetensors file '" + path.string() + "'";
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw InputError("cannot open " + where + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw InputError("cannot read " + where + ": not a regular file");
  }
  map_size_ = static_cast<std::size_t>(st.st_size);
  if (map_size_ < 8) {
    ::close(fd);
    throw FormatError(where + " is truncated: " + std::to_string(map_size_) + " bytes, expected at least 8");
  }
  map_ = ::mmap(nullptr, map_size_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map_ == MAP_FAILED) {
    map_ = nullptr;
    throw InputError("cannot map " + where + ": " + std::strerror(errno));
  }
  try {
    const auto* bytes = static_cast<const std::uint8_t*>(map_);
    std::uint64_t header_len = load<std::uint64_t>(bytes);
    if (header_len > map_size_ - 8 || header_len > (100u << 20))
      throw FormatError(where + ": header length " + std::to_string(header_len) + " exceeds the file size " +
                        std::to_string(map_size_));
    nlohmann::json header;
    try {
      header = nlohmann::json::parse(bytes + 8, bytes + 8 + header_len);
    } catch (const nlohmann::json::exception& e) {
      throw FormatError(where + ": corrupt JSON header: " + e.what());
    }
    if (!header.is_object()) throw FormatError(where + ": header is not a JSON object");
    const std::uint8_t* base = bytes + 8 + header_len;
    std::size_t buffer_size = map_size_ - 8 - header_len;
    std::vector<std::pair<std::size_t, std::size_t>> ranges;
    for (auto it = header.begin(); it != header.end(); ++it) {
      if (it.key() == "__metadata__") {
        if (!it.value().is_object()) throw FormatError(where + ": __metadata__ is not an object");
        for (auto m = it.value().begin(); m != it.value().end(); ++m)
          metadata_[m.key()] = m.value().is_string() ? m.value().get<std::string>() : m.value().dump();
        continue;
      }
      const auto& e = it.value();
      const std::string tw = where + ", tensor '" + it.key() + "'";
      if (!e.is_object() || !e.contains("dtype") || !e.contains("shape") || !e.contains("data_offsets") ||
          !e["dtype"].is_string() || !e["shape"].is_array() || !e["data_offsets"].is_array() ||
          e["data_offsets"].size() != 2)
        throw FormatError(tw + ": entry needs dtype, shape and data_offsets [begin, end]");
      TensorView v;
      v.name = it.key();
      try {
        v.dtype = dtype_from_name(e["dtype"].get<std::string>());
      } catch (const FormatError& err) {
        throw FormatError(tw + ": " + err.what());
      }
      std::uint64_t numel = 1;
      for (const auto& s : e["shape"]) {
        if (!s.is_number_integer() || s.get<std::int64_t>() < 0)
          throw FormatError(tw + ": shape entries must be non-negative integers");
        v.shape.push_back(s.get<std::int64_t>());
        numel *= static_cast<std::uint64_t>(v.shape.back());
        if (numel > (std::uint64_t(1) << 40)) throw FormatError(tw + ": shape is implausibly large");
      }
      if (!e["data_offsets"][0].is_number_unsigned() || !e["data_offsets"][1].is_number_unsigned())
        throw FormatError(tw + ": data_offsets must be non-negative integers");
      std::uint64_t b = e["data_offsets"][0].get<std::uint64_t>(), en = e["data_offsets"][1].get<std::uint64_t>();
      if (b > en || en > buffer_size)
        throw FormatError(tw + ": data_offsets [" + std::to_string(b) + ", " + std::to_string(en) +
                          "] outside the data buffer of " + std::to_string(buffer_size) + " bytes");
      if (en - b != numel * dtype_size(v.dtype))
        throw FormatError(tw + ": " + std::to_string(en - b) + " bytes at offset " + std::to_string(b) +
                          ", expected " + std::to_string(numel * dtype_size(v.dtype)) + " for its shape and dtype");
      v.data = base + b;
      v.nbytes = static_cast<std::size_t>(en - b);
      ranges.emplace_back(b, en);
      tensors_.push_back(std::move(v));
    }
    std::vector<std::size_t> order(ranges.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](auto a, auto b) { return ranges[a] < ranges[b]; });
    // Compare each range with the furthest end seen so far (not only its sorted neighbour: an
    // empty tensor between two overlapping ones would hide the overlap).
    std::size_t reach = 0, reach_idx = 0;
    for (std::size_t i = 0; i < order.size(); ++i) {
      const auto& cur = ranges[order[i]];
      if (cur.second == cur.first) continue;  // zero-size tensors occupy no bytes
      if (cur.first < reach)
        throw FormatError(where + ": tensor '" + tensors_[order[i]].name + "' at offset " +
                          std::to_string(cur.first) + " overlaps tensor '" + tensors_[reach_idx].name + "'");
      reach = cur.second;
      reach_idx = order[i];
    }
  } catch (...) {
    ::munmap(map_, map_size_);
    map_ = nullptr;
    throw;
  }
}

SafetensorsFile::~SafetensorsFile() {
  if (map_) ::munmap(map_, map_size_);
}

const TensorView* SafetensorsFile::find(const std::string& name) const {
  for (const auto& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

const TensorView& SafetensorsFile::at(const std::string& name) const {
  if (const TensorView* t = find(name)) return *t;
  throw FormatError("safetensors file '" + path_.string() + "' has no tensor '" + name + "'");
}

namespace {

// A tensor whose bytes are the values as they lie in memory (host byte order).
template <typename T>
TensorData tensor_of(DType dtype, const std::vector<T>& v, std::vector<std::int64_t> shape) {
  TensorData t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.bytes.resize(v.size() * sizeof(T));
  std::memcpy(t.bytes.data(), v.data(), t.bytes.size());
  return t;
}

}  // namespace

TensorData TensorData::from_floats(const std::vector<float>& v, std::vector<std::int64_t> shape) {
  return tensor_of(DType::kF32, v, std::move(shape));
}

TensorData TensorData::from_int64(const std::vector<std::int64_t>& v, std::vector<std::int64_t> shape) {
  return tensor_of(DType::kI64, v, std::move(shape));
}

void write_safetensors(const std::filesystem::path& path, const std::map<std::string, TensorData>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header;
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::size_t offset = 0;
  for (const auto& [name, t] : tensors) {
    std::uint64_t numel = 1;
    for (auto s : t.shape) numel *= static_cast<std::uint64_t>(s);
    if (numel * dtype_size(t.dtype) != t.bytes.size())
      throw Error(ExitCode::kFailure, "internal: tensor '" + name + "' has " + std::to_string(t.bytes.size()) +
                                          " bytes for its shape");
    header[name] = {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  std::string h = header.dump();
  while ((8 + h.size()) % 8 != 0) h.push_back(' ');  // data starts 8-byte aligned
  AtomicFile f(path);
  std::uint64_t n = h.size();
  f.stream().write(reinterpret_cast<const char*>(&n), 8);
  f.stream().write(h.data(), static_cast<std::streamsize>(h.size()));
  for (const auto& [name, t] : tensors)
    f.stream().write(reinterpret_cast<const char*>(t.bytes.data()), static_cast<std::streamsize>(t.bytes.size()));
  f.commit();
}

}  // namespace cervirisk::io
