// Synthetic radiology-report-like sentences (Chinese, English, mixed) for the text tests and
// benchmarks: templated findings with varying sizes, sides, signals and stages, so that a
// masked-language model has regularities to learn (e.g. "T2WI呈稍高信号" follows a lesion).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace cervirisk::testing {

inline std::vector<std::string> synth_reports(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 g(seed);
  auto pick = [&](const std::vector<std::string>& v) -> const std::string& {
    return v[std::uniform_int_distribution<std::size_t>(0, v.size() - 1)(g)];
  };
  auto num = [&](double lo, double hi) {
    double x = std::uniform_real_distribution<double>(lo, hi)(g);
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.1f", x);
    return std::string(buf);
  };
  const std::vector<std::string> zh_side = {"左侧", "右侧", "双侧"}, zh_site = {"前唇", "后唇", "管内", "体部"},
                                 zh_sig = {"稍高", "高", "等", "稍低"}, zh_stage = {"IB1", "IB2", "IIA", "IIB"},
                                 zh_inv = {"未见明确侵犯", "可疑受侵", "受侵"}, zh_node = {"未见肿大淋巴结", "见数个肿大淋巴结"};
  const std::vector<std::string> en_side = {"left", "right", "bilateral"},
                                 en_site = {"anterior lip", "posterior lip", "endocervical canal", "cervical stroma"},
                                 en_sig = {"slightly high", "high", "intermediate", "low"},
                                 en_inv = {"no parametrial invasion", "suspicious parametrial invasion", "parametrial invasion"},
                                 en_node = {"no enlarged lymph nodes", "several enlarged pelvic lymph nodes"};
  std::vector<std::string> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::string r;
    int lang = static_cast<int>(g() % 3);  // 0 zh, 1 en, 2 mixed
    int sentences = 2 + static_cast<int>(g() % 4);
    for (int s = 0; s < sentences; ++s) {
      int kind = static_cast<int>(g() % 4);
      if (lang == 0 || (lang == 2 && s % 2 == 0)) {
        if (kind == 0) r += "宫颈" + pick(zh_site) + "见一大小约" + num(0.5, 6) + "cm×" + num(0.5, 5) + "cm的异常信号影，T2WI呈" + pick(zh_sig) + "信号，DWI呈高信号。";
        else if (kind == 1) r += pick(zh_side) + "宫旁" + pick(zh_inv) + "，阴道上段" + pick(zh_inv) + "。";
        else if (kind == 2) r += "盆腔" + pick(zh_node) + "，" + pick(zh_side) + "附件未见异常。";
        else r += "考虑宫颈癌（FIGO " + pick(zh_stage) + "期），建议结合临床。";
      } else {
        if (kind == 0) r += "A " + num(0.5, 6) + " x " + num(0.5, 5) + " cm mass in the " + pick(en_site) + " with " + pick(en_sig) + " signal on T2WI and restricted diffusion. ";
        else if (kind == 1) r += pick(en_side) + " " + pick(en_inv) + ", the upper vagina is " + (g() % 2 ? "involved" : "spared") + ". ";
        else if (kind == 2) r += "There are " + pick(en_node) + "; the " + pick(en_side) + " adnexa are normal. ";
        else r += "Findings consistent with cervical carcinoma, FIGO stage " + pick(zh_stage) + ". ";
      }
    }
    out.push_back(r);
  }
  return out;
}

}  // namespace cervirisk::testing
