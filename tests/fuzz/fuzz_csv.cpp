// The CSV reader behind the manifest, clinical tables and run-folder tables: parse, read every
// cell as a number, and check that writing the table back (csv_field) and reading it again gives
// the same header and cells -- the round trip `cervirisk` relies on when it copies tables.
#include <cstdio>

#include "fuzz_util.h"
#include "io/table.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cervirisk;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  fuzz::expect_clean([&] {
    const io::Table t = io::Table::parse_csv(text, "fuzz.csv");
    for (std::size_t r = 0; r < t.rows(); ++r)
      for (std::size_t c = 0; c < t.cols(); ++c) fuzz::expect_clean([&] { t.number(r, c); });
    std::string again;
    const char d = t.delimiter();
    auto line = [&](auto&& get) {
      for (std::size_t c = 0; c < t.cols(); ++c) again += (c ? std::string(1, d) : "") + io::csv_field(get(c), d);
      again += '\n';
    };
    line([&](std::size_t c) { return t.column_names()[c]; });
    for (std::size_t r = 0; r < t.rows(); ++r) line([&](std::size_t c) { return t.cell(r, c); });
    io::CsvOptions same;
    same.delimiter = d;
    const io::Table u = io::Table::parse_csv(again, "fuzz-again.csv", same);
    bool equal = u.column_names() == t.column_names() && u.rows() == t.rows();
    for (std::size_t r = 0; equal && r < t.rows(); ++r)
      for (std::size_t c = 0; equal && c < t.cols(); ++c) equal = u.cell(r, c) == t.cell(r, c);
    if (!equal) {
      std::fprintf(stderr, "CSV round trip changed the table:\n%s\n", again.c_str());
      std::abort();
    }
  });
  return 0;
}
