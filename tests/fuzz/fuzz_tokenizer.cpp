// The report tokenizer (BERT basic + WordPiece) on arbitrary bytes: the report text as the study
// and the service hand it over (including invalid UTF-8, which the tokenizer must refuse or
// replace, never read past), every long-report policy; the first byte picks the case, case 3
// reads the input as a vocab.txt instead.
#include "fuzz_util.h"
#include "text/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cervirisk;
  static const text::Tokenizer tok = text::Tokenizer::from_vocab(CERV_TEST_DATA "/text/vocab.txt");
  const auto in = fuzz::split(data, size, 4);
  const std::string_view text(reinterpret_cast<const char*>(in.data), in.size);
  if (in.choice < 3) {
    const auto policy = in.choice == 0   ? text::LongPolicy::kTruncate
                        : in.choice == 1 ? text::LongPolicy::kHeadTail
                                         : text::LongPolicy::kChunks;
    fuzz::expect_clean([&] {
      const auto ids = tok.ids(text);
      tok.decode(ids);
      tok.encode(text, 16, policy);
    });
  } else {
    const auto path = fuzz::write_input("vocab.txt", in.data, in.size);
    fuzz::expect_clean([&] {
      const auto t = text::Tokenizer::from_vocab(path);
      t.encode("宫颈 FIGO IB2期 lvsi [MASK] unaffable", 12, text::LongPolicy::kHeadTail);
    });
  }
  return 0;
}
