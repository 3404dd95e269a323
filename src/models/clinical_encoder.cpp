#include "models/clinical_encoder.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <set>

#include "core/config.h"
#include "core/error.h"
#include "core/log.h"

namespace cervirisk::models {

using nlohmann::json;

const char* clinical_type_name(ClinicalType t) { return choice_name(kClinicalTypeNames, t); }

ClinicalType parse_clinical_type(const std::string& s) {
  return parse_choice<ClinicalType>(kClinicalTypeNames, s, "clinical column type");
}

std::vector<ClinicalColumn> clinical_columns_from_config(const config::Config& cfg) {
  std::vector<ClinicalColumn> cols;
  for (const auto& r : cfg.get_records("clinical")) {
    ClinicalColumn c;
    c.name = std::get<std::string>(r.at("name"));
    if (auto it = r.find("type"); it != r.end()) c.type = parse_clinical_type(std::get<std::string>(it->second));
    if (auto it = r.find("levels"); it != r.end()) c.levels = std::get<std::vector<std::string>>(it->second);
    if (auto it = r.find("log"); it != r.end()) c.log = std::get<bool>(it->second);
    if (c.type == ClinicalType::kOrdinal && c.levels.empty())
      throw ConfigError("[[clinical]] '" + c.name + "': an ordinal column needs its ordered levels");
    cols.push_back(std::move(c));
  }
  return cols;
}

bool is_missing_value(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return true;
  auto e = s.find_last_not_of(" \t\r\n");
  std::string t = s.substr(b, e - b + 1);
  return t == "NA" || t == "NaN" || t == "nan" || t == "null" || t == "." || t == "N/A";
}

namespace {

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

const std::string* cell(const ClinicalRow& row, const std::string& name) {
  auto it = row.find(name);
  if (it == row.end() || is_missing_value(it->second)) return nullptr;
  return &it->second;
}

std::ptrdiff_t level_index(const ClinicalColumn& c, const std::string& v) {
  auto it = std::find(c.levels.begin(), c.levels.end(), trim(v));
  return it == c.levels.end() ? -1 : it - c.levels.begin();
}

}  // namespace

std::optional<double> ClinicalEncoder::numeric_value(std::size_t col, const std::string& raw) const {
  const auto& c = columns_[col];
  std::string t = trim(raw);
  errno = 0;
  char* end = nullptr;
  double x = std::strtod(t.c_str(), &end);
  if (end == t.c_str() || *end != '\0' || errno == ERANGE || !std::isfinite(x))
    throw ValidationError("clinical column '" + c.name + "': expected a number, got '" + raw + "'");
  if (c.log) {
    if (x <= 0)
      throw ValidationError("clinical column '" + c.name + "' is log-transformed: expected a positive value, got '" +
                            raw + "'");
    x = std::log(x);
  }
  return x;
}

ClinicalEncoder ClinicalEncoder::fit(const std::vector<ClinicalColumn>& columns,
                                     const std::vector<ClinicalRow>& rows) {
  ClinicalEncoder enc;
  enc.columns_ = columns;
  std::set<std::string> names;
  for (const auto& c : columns)
    if (!names.insert(c.name).second) throw ConfigError("clinical column '" + c.name + "' is declared twice");
  for (std::size_t k = 0; k < columns.size(); ++k) {
    auto& c = enc.columns_[k];
    Stats st;
    std::vector<double> xs;
    if (c.type == ClinicalType::kCategorical && c.levels.empty()) {
      // No declared levels: the levels seen in training, sorted (stable across runs).
      std::set<std::string> seen;
      for (const auto& r : rows)
        if (const auto* v = cell(r, c.name)) seen.insert(trim(*v));
      c.levels.assign(seen.begin(), seen.end());
    }
    for (const auto& r : rows) {
      const auto* v = cell(r, c.name);
      if (!v) {
        ++st.n_missing;
        continue;
      }
      if (c.type == ClinicalType::kNumeric) {
        xs.push_back(*enc.numeric_value(k, *v));
      } else {
        auto i = level_index(c, *v);
        if (i < 0) {
          if (c.type == ClinicalType::kOrdinal)
            throw ValidationError("clinical column '" + c.name + "': '" + *v + "' is not one of its ordered levels");
          throw ValidationError("clinical column '" + c.name + "': '" + *v + "' is not one of its declared levels");
        }
        xs.push_back(static_cast<double>(i));
      }
    }
    if (c.type != ClinicalType::kCategorical && !xs.empty()) {
      double m = 0;
      for (double x : xs) m += x;
      m /= static_cast<double>(xs.size());
      double ss = 0;
      for (double x : xs) ss += (x - m) * (x - m);
      // Sample SD (n - 1); a constant column keeps sd 1 so it encodes as 0.
      double sd = xs.size() > 1 ? std::sqrt(ss / static_cast<double>(xs.size() - 1)) : 0.0;
      st.mean = m;
      st.sd = sd > 1e-12 ? sd : 1.0;
    }
    if (xs.empty()) log::warn("clinical column '{}' has no value in the training cohort", c.name);
    enc.stats_.push_back(st);
  }
  enc.build_feature_names();
  return enc;
}

void ClinicalEncoder::build_feature_names() {
  feature_names_.clear();
  feature_column_.clear();
  for (std::size_t k = 0; k < columns_.size(); ++k) {
    const auto& c = columns_[k];
    if (c.type == ClinicalType::kCategorical) {
      for (const auto& l : c.levels) {
        feature_names_.push_back(c.name + "=" + l);
        feature_column_.push_back(k);
      }
    } else {
      feature_names_.push_back(c.log ? "log(" + c.name + ")" : c.name);
      feature_column_.push_back(k);
    }
    feature_names_.push_back(c.name + ":missing");
    feature_column_.push_back(k);
  }
}

std::vector<float> ClinicalEncoder::encode(const ClinicalRow& row) const {
  std::vector<float> out;
  out.reserve(feature_names_.size());
  for (std::size_t k = 0; k < columns_.size(); ++k) {
    const auto& c = columns_[k];
    const auto* v = cell(row, c.name);
    if (c.type == ClinicalType::kCategorical) {
      auto i = v ? level_index(c, *v) : -1;
      if (v && i < 0) log::warn("clinical column '{}': unknown level '{}' encoded as missing", c.name, *v);
      for (std::size_t l = 0; l < c.levels.size(); ++l) out.push_back(static_cast<std::ptrdiff_t>(l) == i ? 1.f : 0.f);
      out.push_back(i < 0 ? 1.f : 0.f);
      continue;
    }
    std::optional<double> x;
    if (v) {
      if (c.type == ClinicalType::kNumeric) {
        x = numeric_value(k, *v);
      } else {
        auto i = level_index(c, *v);
        if (i < 0)
          throw ValidationError("clinical column '" + c.name + "': '" + *v + "' is not one of its ordered levels");
        x = static_cast<double>(i);
      }
    }
    out.push_back(x ? static_cast<float>((*x - stats_[k].mean) / stats_[k].sd) : 0.f);
    out.push_back(x ? 0.f : 1.f);
  }
  return out;
}

std::vector<float> ClinicalEncoder::encode_all(const std::vector<ClinicalRow>& rows) const {
  std::vector<float> out;
  out.reserve(rows.size() * feature_count());
  for (const auto& r : rows) {
    auto v = encode(r);
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

json ClinicalEncoder::to_json() const {
  json cols = json::array();
  for (std::size_t k = 0; k < columns_.size(); ++k) {
    const auto& c = columns_[k];
    cols.push_back({{"name", c.name},
                    {"type", clinical_type_name(c.type)},
                    {"levels", c.levels},
                    {"log", c.log},
                    {"mean", stats_[k].mean},
                    {"sd", stats_[k].sd},
                    {"n_missing", stats_[k].n_missing}});
  }
  return {{"format", "cervirisk.clinical_encoder/1"}, {"columns", cols}, {"features", feature_names_}};
}

ClinicalEncoder ClinicalEncoder::from_json(const json& j) {
  ClinicalEncoder enc;
  try {
    if (j.at("format").get<std::string>() != "cervirisk.clinical_encoder/1")
      throw FormatError("clinical encoder: unsupported format '" + j.at("format").get<std::string>() + "'");
    for (const auto& c : j.at("columns")) {
      ClinicalColumn col;
      col.name = c.at("name").get<std::string>();
      col.type = parse_clinical_type(c.at("type").get<std::string>());
      col.levels = c.at("levels").get<std::vector<std::string>>();
      col.log = c.at("log").get<bool>();
      Stats st;
      st.mean = c.at("mean").get<double>();
      st.sd = c.at("sd").get<double>();
      st.n_missing = c.value("n_missing", std::size_t{0});
      enc.columns_.push_back(std::move(col));
      enc.stats_.push_back(st);
    }
  } catch (const json::exception& e) {
    throw FormatError(std::string("clinical encoder JSON: ") + e.what());
  } catch (const ConfigError& e) {
    throw FormatError(std::string("clinical encoder JSON: ") + e.what());
  }
  enc.build_feature_names();
  if (j.contains("features") && j["features"].get<std::vector<std::string>>() != enc.feature_names_)
    throw FormatError("clinical encoder JSON: the feature list does not match its columns");
  return enc;
}

}  // namespace cervirisk::models
