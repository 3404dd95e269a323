// Radiology reports of the synthetic cohort: the reading channel's findings (SynthPatient::read_*)
// written in each centre's house style -- by default all three in Chinese, each its own style
// (影像所见 / 所见 / 【检查所见】); English on request (synth --report-language C=en) -- with the
// variation of real reports: units (cm / mm), "约" / "大约", × / x / *, full-width or ASCII
// punctuation, sentence order, optional sentences.
#include <cmath>

#include "core/random.h"
#include "data/csv.h"
#include "io/table.h"
#include "data/rng.h"
#include "data/synth.h"

namespace cervirisk::data {
namespace {

struct Style {
  std::string times, approx, comma, semi, stop, unit;
  bool mm = false;
};

const char* pick(Rng& r, std::initializer_list<const char*> xs) {
  return xs.begin()[r.below(xs.size())];
}

std::string size_zh(const SynthPatient& p, const Style& s) {
  if (s.mm) return s.approx + fixed(std::round(p.read_long_mm), 0) + "mm" + s.times + fixed(std::round(p.read_short_mm), 0) + "mm";
  return s.approx + fixed(p.read_long_mm / 10, 1) + "cm" + s.times + fixed(p.read_short_mm / 10, 1) + "cm";
}

std::string side_zh(int side) { return side > 0 ? "左侧" : "右侧"; }
std::string side_en(int side) { return side > 0 ? "left" : "right"; }

std::string stage_text(const SynthPatient& p) {
  std::string s = kStages[static_cast<std::size_t>(p.read_stage)];
  if (p.read_stage == 6) s += "r";
  return s;
}

// House styles 0 (影像所见 / 影像诊断, full-width punctuation, cm) and 1 (所见 / 诊断意见, mixed
// punctuation, mostly mm) in their original form; style 2 (the third centre) is a structured
// report with bracketed headings (【检查所见】 / 【影像学诊断】), numbered impressions and its own
// wording. Every style draws the same number of values in the same order for the shared parts.
std::string report_zh(const SynthPatient& p, const CenterProfile& c, Rng& r) {
  const int st = c.report_style % 3;
  Style s;
  const bool fullwidth = st == 0 ? r.bernoulli(0.85) : st == 1 ? r.bernoulli(0.4) : r.bernoulli(0.95);
  s.comma = fullwidth ? "，" : ",";
  s.semi = fullwidth ? "；" : ";";
  s.stop = fullwidth ? "。" : ".";
  s.times = st == 0 ? pick(r, {"×", "×", "x"}) : st == 1 ? pick(r, {"*", "×", "x"}) : pick(r, {"×", "X", "×"});
  s.approx = st == 0 ? pick(r, {"约", "约", "大约"}) : st == 1 ? pick(r, {"约为", "约", ""}) : pick(r, {"约", "约", "约"});
  s.mm = st == 1 ? r.bernoulli(0.7) : st == 0 ? r.bernoulli(0.15) : r.bernoulli(0.5);
  const std::string& C = s.comma;
  std::vector<std::string> findings;
  // The mass.
  std::string mass;
  if (st == 0)
    mass = std::string("宫颈见") + pick(r, {"不规则团块状", "团块状", "不规则"}) + "稍长T2信号影" + C + "大小" + size_zh(p, s);
  else if (st == 1)
    mass = std::string("宫颈") + pick(r, {"前唇", "后唇", ""}) + "可见软组织肿块影" + C + "T2WI呈稍高信号" + C + "范围" + size_zh(p, s);
  else
    mass = std::string("宫颈区") + pick(r, {"见一肿块", "见软组织肿物", "见占位性病变"}) + C + "T2WI呈中等偏高信号" + C +
           "最大截面" + size_zh(p, s);
  mass += C + (st == 2 ? pick(r, {"DWI弥散受限", "DWI呈高信号、ADC值减低", "增强后不均匀强化"})
                       : pick(r, {"DWI呈明显高信号", "DWI呈高信号", "增强扫描呈不均匀强化"})) + s.stop;
  findings.push_back(mass);
  // Stromal ring and depth.
  std::string depth;
  if (st == 2) {
    if (p.read_depth >= 0.95) depth = "宫颈间质环完全消失" + C + "病变累及宫颈全层";
    else if (p.read_depth >= 0.5) depth = std::string("宫颈间质环") + pick(r, {"中断", "局部不连续"}) + C + "侵犯深度>1/2";
    else depth = std::string("宫颈间质环") + pick(r, {"连续", "显示完整"}) + C + "侵犯深度<1/2";
  } else if (p.read_depth >= 0.95) {
    depth = "宫颈基质低信号环全层中断" + C + "考虑全层浸润";
  } else if (p.read_depth >= 0.5) {
    depth = std::string("宫颈基质低信号环") + pick(r, {"部分中断", "局部中断"}) + C + "浸润深度超过1/2";
  } else {
    depth = std::string("宫颈基质低信号环") + pick(r, {"尚完整", "完整"}) + C + "浸润深度未超过1/2";
  }
  findings.push_back(depth + s.stop);
  // Parametrium.
  if (p.read_pm) {
    if (st == 2)
      findings.push_back(side_zh(p.tumour_side) + "宫旁组织" + pick(r, {"受累", "可见结节及条索", "信号异常"}) + C +
                         "提示宫旁浸润" + s.stop);
    else
      findings.push_back(side_zh(p.tumour_side) + "宫旁脂肪间隙模糊" + C + pick(r, {"可见条索影", "见索条状影", ""}) +
                         (st == 0 ? "" : C) + "考虑宫旁受侵" + s.stop);
  } else {
    findings.push_back(std::string(st == 2 ? pick(r, {"双侧宫旁组织未见异常", "宫旁脂肪信号正常", "宫旁未见受累"})
                                           : pick(r, {"双侧宫旁脂肪间隙清晰", "宫旁未见明确侵犯", "双侧宫旁结构清晰"})) +
                       s.stop);
  }
  // Vagina.
  if (p.read_vagina) findings.push_back(std::string(st == 2 ? pick(r, {"阴道上1/3", "阴道前穹窿"}) : pick(r, {"阴道上段", "阴道穹窿"})) + "受累" + s.stop);
  else if (r.bernoulli(0.6)) findings.push_back(std::string("阴道") + pick(r, {"未见明确受累", "壁未见增厚"}) + s.stop);
  // Nodes.
  if (p.read_nodes) {
    const std::string where = pick(r, {"闭孔区", "髂外血管旁", "髂内血管旁"});
    const std::string sz = s.mm ? fixed(std::round(p.read_node_mm), 0) + "mm" : fixed(p.read_node_mm / 10, 1) + "cm";
    findings.push_back(side_zh(p.node_side) + where + (st == 2 ? "淋巴结增大" : "见肿大淋巴结") + C + "短径" + s.approx + sz + s.stop);
  } else {
    findings.push_back(std::string(st == 2 ? pick(r, {"盆腔及腹股沟区未见增大淋巴结", "盆壁未见肿大淋巴结", "双侧髂血管走行区未见异常淋巴结"})
                                           : pick(r, {"盆腔内未见明显肿大淋巴结", "盆腔未见肿大淋巴结", "双侧髂血管旁未见肿大淋巴结"})) +
                       s.stop);
  }
  if (r.bernoulli(0.7)) findings.push_back(std::string(pick(r, {"膀胱充盈可", "膀胱壁光整"})) + C + "直肠未见异常" + s.stop);
  if (r.bernoulli(0.3)) findings.push_back("盆腔少量积液" + s.stop);
  std::string out = st == 0 ? "影像所见：\n" : st == 1 ? "所见:\n" : "【检查所见】\n";
  for (const auto& f : findings) out += f;
  if (st == 2) {
    // Numbered impressions.
    out += "\n【影像学诊断】\n1. 宫颈" + std::string(pick(r, {"癌", "恶性肿瘤", "Ca"})) + C + "FIGO 2018 " + stage_text(p) + "期" + s.stop;
    int k = 2;
    if (p.read_pm) out += "\n" + std::to_string(k++) + ". 宫旁浸润" + s.stop;
    if (p.read_nodes) out += "\n" + std::to_string(k++) + ". " + side_zh(p.node_side) + "盆腔淋巴结转移待排" + s.stop;
    return out + "\n";
  }
  out += st == 0 ? "\n影像诊断：\n" : "\n诊断意见:\n";
  out += std::string("宫颈") + pick(r, {"癌", "恶性肿瘤", "Ca"});
  if (p.read_pm) out += C + "考虑宫旁受侵";
  if (p.read_nodes) out += C + side_zh(p.node_side) + "盆腔淋巴结转移可能";
  out += C + (st == 0 ? "FIGO(2018) " : "FIGO 2018分期：") + stage_text(p) + "期" + s.stop + "\n";
  return out;
}

std::string report_en(const SynthPatient& p, const CenterProfile&, Rng& r) {
  const std::string times = pick(r, {" × ", " × ", " x "});
  const bool mm = r.bernoulli(0.25);
  std::string size = mm ? fixed(std::round(p.read_long_mm), 0) + times + fixed(std::round(p.read_short_mm), 0) + " mm"
                        : fixed(p.read_long_mm / 10, 1) + times + fixed(p.read_short_mm / 10, 1) + " cm";
  std::string f = "FINDINGS:\n";
  f += std::string(pick(r, {"A ", "There is a "})) + size + " " +
       pick(r, {"intermediate-to-high T2 signal mass", "intermediate T2 signal mass", "T2 hyperintense mass"}) +
       " centred on the " + pick(r, {"cervix", "cervix", "ectocervix"}) + ", " +
       pick(r, {"with restricted diffusion.", "showing restricted diffusion on DWI.", "heterogeneously enhancing."}) + " ";
  if (p.read_depth >= 0.95) f += "Full-thickness disruption of the hypointense stromal ring. ";
  else if (p.read_depth >= 0.5) f += std::string(pick(r, {"Disruption of the hypointense stromal ring", "Partial disruption of the low-signal stromal ring"})) + " with deep (>50%) stromal invasion. ";
  else f += std::string(pick(r, {"The hypointense stromal ring is preserved", "Intact low-signal stromal ring"})) + "; stromal invasion less than 50%. ";
  if (p.read_pm) f += "Spiculated stranding into the " + side_en(p.tumour_side) + " parametrial fat, " + pick(r, {"in keeping with", "suspicious for"}) + " parametrial invasion. ";
  else f += std::string(pick(r, {"The parametria are clear.", "No parametrial invasion.", "Parametrial fat planes preserved."})) + " ";
  if (p.read_vagina) f += std::string(pick(r, {"The upper vagina is involved.", "Extension into the upper third of the vagina."})) + " ";
  else if (r.bernoulli(0.5)) f += "No vaginal involvement. ";
  if (p.read_nodes)
    f += "Suspicious " + side_en(p.node_side) + " " + pick(r, {"obturator", "external iliac", "internal iliac"}) + " node, " +
         fixed(std::round(p.read_node_mm), 0) + " mm short axis. ";
  else f += std::string(pick(r, {"No pathologically enlarged pelvic lymph nodes.", "No pelvic lymphadenopathy."})) + " ";
  if (r.bernoulli(0.4)) f += "Bladder and rectum are unremarkable. ";
  if (r.bernoulli(0.2)) f += "Small volume of free pelvic fluid. ";
  while (!f.empty() && f.back() == ' ') f.pop_back();
  f += "\n\nIMPRESSION:\n";
  f += std::string(pick(r, {"Cervical carcinoma", "Cervical cancer", "Carcinoma of the cervix"}));
  if (p.read_pm) f += " with parametrial invasion";
  if (p.read_nodes) f += std::string(p.read_pm ? " and " : " with ") + "suspicious nodal disease";
  f += ", FIGO 2018 stage " + stage_text(p) + ".\n";
  return f;
}

}  // namespace

std::string synth_report(const SynthPatient& p, const CenterProfile& c) {
  if (!p.has_report) return {};
  Rng r(derive_seed(p.seed, "report"));
  return c.lang == "en" ? report_en(p, c, r) : report_zh(p, c, r);
}

}  // namespace cervirisk::data
