// safetensors (https://github.com/huggingface/safetensors, format spec in its README):
// 8-byte little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets:[b,e]},
// "__metadata__": {str: str}}, then the byte buffer. Our own weight and cache format too.
// Torch-free: tensors are raw bytes + dtype + shape; models/ converts to torch::Tensor.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace cervirisk::io {

enum class DType { kF64, kF32, kF16, kBF16, kI64, kI32, kI16, kI8, kU8, kBool };
const char* dtype_name(DType d);      // "F32", ...
std::size_t dtype_size(DType d);
DType dtype_from_name(const std::string& name);  // throws FormatError

struct TensorView {
  std::string name;
  DType dtype;
  std::vector<std::int64_t> shape;
  const std::uint8_t* data = nullptr;  // points into the mapped file (valid while the file lives)
  std::size_t nbytes = 0;
  std::int64_t numel() const;
  // Values converted to float32 / int64 (F16/BF16 widened).
  std::vector<float> to_float() const;
  std::vector<std::int64_t> to_int64() const;
};

// A memory-mapped safetensors file. Every tensor's dtype, shape and byte range are checked
// against the file on open: out-of-range, misaligned-for-size, overlapping or wrongly sized
// entries throw FormatError naming the tensor and offset.
class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::filesystem::path& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::vector<TensorView>& tensors() const { return tensors_; }
  const TensorView* find(const std::string& name) const;
  const TensorView& at(const std::string& name) const;  // throws FormatError naming the file
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  void* map_ = nullptr;
  std::size_t map_size_ = 0;
  std::vector<TensorView> tensors_;
  std::map<std::string, std::string> metadata_;
};

// A tensor to write: the bytes are copied in by the caller.
struct TensorData {
  DType dtype = DType::kF32;
  std::vector<std::int64_t> shape;
  std::vector<std::uint8_t> bytes;
  static TensorData from_floats(const std::vector<float>& v, std::vector<std::int64_t> shape);
  static TensorData from_int64(const std::vector<std::int64_t>& v, std::vector<std::int64_t> shape);
};

// Writes atomically; tensors in name order, 8-byte aligned data offsets.
void write_safetensors(const std::filesystem::path& path, const std::map<std::string, TensorData>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace cervirisk::io
