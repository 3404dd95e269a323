// MetaImage with its data in the same file (.mha; ElementDataFile = LOCAL, raw or compressed).
#include "fuzz_util.h"
#include "io/metaimage.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cervirisk;
  const auto path = fuzz::write_input("input.mha", data, size);
  fuzz::expect_clean([&] { io::read_metaimage(path); });
  return 0;
}
