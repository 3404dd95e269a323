// safetensors (weights, explanation backgrounds, pretrained checkpoints): the header check on
// open, then every tensor's values read as the loaders do.
#include "fuzz_util.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cervirisk;
  const auto path = fuzz::write_input("input.safetensors", data, size);
  fuzz::expect_clean([&] {
    io::SafetensorsFile f(path);
    for (const auto& t : f.tensors()) {
      if (t.dtype == io::DType::kI64 || t.dtype == io::DType::kI32)
        t.to_int64();
      else
        t.to_float();
    }
    f.metadata();
  });
  return 0;
}
