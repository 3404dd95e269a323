// A model bundle (models/<variant>) as `predict` and `serve` load it: the first byte picks which
// file of a real bundle ($CERV_FUZZ_MODELS, first folder) the rest of the input replaces --
// model.json, preprocessing.json, clinical.json, weights.safetensors, explain_background,
// vocab.txt, tokenizer_config.json -- in a scratch copy, then load_bundle.
#include "bundle/bundle.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cervirisk;
  namespace fs = std::filesystem;
  static const char* names[] = {"model.json",          "preprocessing.json", "clinical.json",
                                "weights.safetensors", "explain_background.safetensors",
                                "vocab.txt",           "tokenizer_config.json"};
  static const fs::path copy = [] {
    const char* models = std::getenv("CERV_FUZZ_MODELS");
    if (!models || !*models) {
      std::fprintf(stderr, "fuzz_bundle: set CERV_FUZZ_MODELS to bundle folders (scripts/fuzz makes them)\n");
      std::exit(2);
    }
    std::string first = models;
    first = first.substr(0, first.find(':'));
    const fs::path dst = fuzz::scratch() / "bundle";
    fs::remove_all(dst);
    fs::copy(first, dst, fs::copy_options::recursive);
    return dst;
  }();
  const auto in = fuzz::split(data, size, 7);
  const fs::path file = copy / names[in.choice];
  const bool existed = fs::exists(file);
  const fs::path keep = fuzz::scratch() / "original";
  if (existed) fs::copy_file(file, keep, fs::copy_options::overwrite_existing);
  fuzz::write_input("replacement", in.data, in.size);
  fs::copy_file(fuzz::scratch() / "replacement", file, fs::copy_options::overwrite_existing);
  fuzz::expect_clean([&] { bundle::load_bundle(copy); });
  if (existed)
    fs::copy_file(keep, file, fs::copy_options::overwrite_existing);
  else
    fs::remove(file);
  return 0;
}
