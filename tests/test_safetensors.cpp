// safetensors reader robustness and dtype decoding. Fixtures: tests/data/safetensors, written
// byte by byte by scripts/make_safetensors_fixtures.py (struct + json, Python 3.11; independent
// of src/io). Every corrupt input must throw FormatError (exit code 4) naming the problem,
// never crash or read out of bounds.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "core/atomic_file.h"
#include "core/error.h"
#include "io/safetensors.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace cervirisk;
using cervirisk::io::DType;
using cervirisk::io::SafetensorsFile;
using cervirisk::testing::TempDir;

namespace {
const fs::path kDir = fs::path(CERV_TEST_DATA) / "safetensors";

// One directory for every test of the process, removed at exit.
fs::path temp_file(const std::string& name) {
  static const TempDir d("safetensors");
  return d / name;
}

// Plain write (no fsync): hundreds of variants are written.
void write_raw(const fs::path& p, std::string_view bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Opens the file; returns "" when it loads, else the message of the cervirisk::Error.
std::string open_error(const fs::path& p, ExitCode* code = nullptr) {
  try {
    SafetensorsFile f(p);
    for (const auto& t : f.tensors()) {
      // Touch every byte the reader vouched for (ASan/valgrind would flag a bad range).
      volatile std::uint8_t sink = 0;
      for (std::size_t i = 0; i < t.nbytes; ++i) sink ^= t.data[i];
      (void)sink;
      (void)t.to_float();
    }
    return "";
  } catch (const Error& e) {
    if (code) *code = e.code();
    return e.what();
  }
}
}  // namespace

TEST(Safetensors, DecodesEveryDtype) {
  SafetensorsFile f(kDir / "dtypes.safetensors");
  auto expected = nlohmann::json::parse(read_file(kDir / "dtypes.json"));
  EXPECT_EQ(f.metadata().at("format"), "pt");
  EXPECT_EQ(f.metadata().at("note"), "fixture");
  ASSERT_EQ(f.tensors().size(), expected["tensors"].size());
  for (auto it = expected["tensors"].begin(); it != expected["tensors"].end(); ++it) {
    const io::TensorView& t = f.at(it.key());
    EXPECT_EQ(io::dtype_name(t.dtype), it.value()["dtype"].get<std::string>()) << it.key();
    EXPECT_EQ(t.shape, it.value()["shape"].get<std::vector<std::int64_t>>()) << it.key();
    const auto& vals = it.value()["values"];
    ASSERT_EQ(t.numel(), static_cast<std::int64_t>(vals.size())) << it.key();
    bool integer = t.dtype == DType::kI64 || t.dtype == DType::kI32 || t.dtype == DType::kI16 ||
                   t.dtype == DType::kI8 || t.dtype == DType::kU8 || t.dtype == DType::kBool;
    if (integer) {
      auto got = t.to_int64();
      for (std::size_t i = 0; i < vals.size(); ++i) EXPECT_EQ(got[i], vals[i].get<std::int64_t>()) << it.key() << i;
    } else {
      auto got = t.to_float();
      for (std::size_t i = 0; i < vals.size(); ++i) {
        if (vals[i].is_string()) {
          EXPECT_TRUE(std::isinf(got[i]) && got[i] > 0) << it.key() << i;
        } else {
          double want = vals[i].get<double>();
          EXPECT_EQ(got[i], static_cast<float>(want)) << it.key() << "[" << i << "]";
        }
      }
    }
  }
  EXPECT_EQ(f.at("scalar").numel(), 1);
  EXPECT_EQ(f.at("empty").nbytes, 0u);
  EXPECT_THROW(f.at("f16").to_int64(), FormatError);
  try {
    f.at("nope");
    ADD_FAILURE();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("has no tensor 'nope'"), std::string::npos);
  }
}

TEST(Safetensors, CorruptFilesThrowFormatErrorWithTheReason) {
  auto cases = nlohmann::json::parse(read_file(kDir / "bad_cases.json"));
  ASSERT_GE(cases.size(), 15u);
  for (auto it = cases.begin(); it != cases.end(); ++it) {
    ExitCode code = ExitCode::kOk;
    fs::path p = kDir / (it.key() + ".safetensors");
    std::string msg = open_error(p, &code);
    EXPECT_EQ(static_cast<int>(code), 4) << it.key() << ": " << msg;
    EXPECT_NE(msg.find(it.value().get<std::string>()), std::string::npos) << it.key() << ": " << msg;
    EXPECT_NE(msg.find(p.filename().string()), std::string::npos) << it.key() << ": " << msg;
  }
}

TEST(Safetensors, EveryTruncationIsRejected) {
  std::string full = read_file(kDir / "dtypes.safetensors");
  fs::path p = temp_file("trunc.safetensors");
  // Every prefix shorter than the file: in the length field, the header, and the data.
  for (std::size_t n = 0; n < full.size(); ++n) {
    write_raw(p, std::string_view(full).substr(0, n));
    ExitCode code = ExitCode::kOk;
    std::string msg = open_error(p, &code);
    ASSERT_FALSE(msg.empty()) << "a file truncated to " << n << " bytes loaded";
    EXPECT_EQ(static_cast<int>(code), 4) << n << ": " << msg;
  }
  fs::remove(p);
}

TEST(Safetensors, RandomHeaderCorruptionNeverCrashes) {
  std::string full = read_file(kDir / "dtypes.safetensors");
  std::uint64_t header_len = 0;
  std::memcpy(&header_len, full.data(), 8);
  fs::path p = temp_file("fuzz.safetensors");
  std::mt19937_64 rng(1234);
  int rejected = 0;
  for (int i = 0; i < 400; ++i) {
    std::string s = full;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) {
      std::size_t pos = rng() % (8 + header_len);
      s[pos] = static_cast<char>(rng() % 256);
    }
    write_raw(p, s);
    ExitCode code = ExitCode::kOk;
    std::string msg = open_error(p, &code);
    if (!msg.empty()) {
      ++rejected;
      EXPECT_EQ(static_cast<int>(code), 4) << msg;
    }
  }
  EXPECT_GT(rejected, 100);
  fs::remove(p);
}

TEST(Safetensors, WriterRoundTripsAndAligns) {
  fs::path p = temp_file("rt.safetensors");
  std::map<std::string, io::TensorData> t;
  t["w"] = io::TensorData::from_floats({1.f, 2.f, 3.f}, {3});
  t["ids"] = io::TensorData::from_int64({-5, 7}, {2, 1});
  io::write_safetensors(p, t, {{"k", "v"}});
  SafetensorsFile f(p);
  EXPECT_EQ(f.at("w").to_float(), (std::vector<float>{1.f, 2.f, 3.f}));
  EXPECT_EQ(f.at("ids").to_int64(), (std::vector<std::int64_t>{-5, 7}));
  EXPECT_EQ(f.metadata().at("k"), "v");
  std::string raw = read_file(p);
  std::uint64_t n = 0;
  std::memcpy(&n, raw.data(), 8);
  EXPECT_EQ((8 + n) % 8, 0u);
  EXPECT_EQ(open_error("/nonexistent/x.safetensors").find("cannot open"), 0u);
  fs::remove(p);
}
