#include "core/config.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <toml++/toml.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/hash.h"

namespace fs = std::filesystem;

namespace cervirisk::config {

const char* type_name(Type t) {
  switch (t) {
    case Type::kBool: return "boolean";
    case Type::kInt: return "integer";
    case Type::kFloat: return "number";
    case Type::kString: return "string";
    case Type::kStringList: return "array of strings";
    case Type::kFloatList: return "array of numbers";
    case Type::kTableArray: return "array of tables";
  }
  return "?";
}

const KeySpec* find_spec(std::string_view key) {
  for (const auto& s : schema())
    if (s.key == key) return &s;
  return nullptr;
}

std::string fmt_range(double lo, double hi, double got);

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string where(const std::string& source, const toml::node& n) {
  const auto& b = n.source().begin;
  if (b.line == 0) return source;
  return source + ":" + std::to_string(b.line);
}

std::string type_of(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table: return "table";
    case toml::node_type::array: return "array";
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "number";
    case toml::node_type::boolean: return "boolean";
    default: return "date/time";
  }
}

[[noreturn]] void type_error(const std::string& src, const toml::node& n, const std::string& key,
                             Type expected) {
  throw ConfigError(where(src, n) + ": key '" + key + "' expects " + type_name(expected) + ", got " +
                    type_of(n));
}

void check_range_and_choice(const std::string& src, const toml::node& n, const KeySpec& spec,
                            const Value& v) {
  auto bad = [&](const std::string& what) {
    throw ConfigError(where(src, n) + ": key '" + spec.key + "' " + what);
  };
  if (auto* d = std::get_if<double>(&v)) {
    if (std::isnan(*d) || *d < spec.min || *d > spec.max)
      bad(fmt_range(spec.min, spec.max, *d));
  } else if (auto* i = std::get_if<std::int64_t>(&v)) {
    if (double(*i) < spec.min || double(*i) > spec.max) bad(fmt_range(spec.min, spec.max, double(*i)));
  } else if (auto* s = std::get_if<std::string>(&v)) {
    if (!spec.choices.empty() &&
        std::find(spec.choices.begin(), spec.choices.end(), *s) == spec.choices.end()) {
      std::string list;
      for (auto& c : spec.choices) list += (list.empty() ? "" : ", ") + c;
      bad("expects one of {" + list + "}, got '" + *s + "'");
    }
  }
}

// The value of `n` as T when `fits` (its TOML type suits the key), else a type error naming the key.
template <typename T>
T value_as(const std::string& src, const toml::node& n, const KeySpec& spec, bool fits) {
  if (!fits) type_error(src, n, spec.key, spec.type);
  return *n.value<T>();
}

// An array whose every element `fits` (a TOML type test), as a vector of T.
template <typename T>
std::vector<T> list_as(const std::string& src, const toml::node& n, const KeySpec& spec,
                       bool (*fits)(const toml::node&)) {
  if (!n.is_array()) type_error(src, n, spec.key, spec.type);
  std::vector<T> out;
  for (auto& e : *n.as_array()) out.push_back(value_as<T>(src, e, spec, fits(e)));
  return out;
}

bool is_string(const toml::node& n) { return n.is_string(); }
bool is_number(const toml::node& n) { return n.is_number(); }

Value convert(const std::string& src, const toml::node& n, const KeySpec& spec) {
  Value v;
  switch (spec.type) {
    case Type::kBool: v = value_as<bool>(src, n, spec, n.is_boolean()); break;
    case Type::kInt: v = value_as<std::int64_t>(src, n, spec, n.is_integer()); break;
    case Type::kFloat: v = value_as<double>(src, n, spec, n.is_number()); break;
    case Type::kString: v = value_as<std::string>(src, n, spec, n.is_string()); break;
    case Type::kStringList: v = list_as<std::string>(src, n, spec, is_string); break;
    case Type::kFloatList: v = list_as<double>(src, n, spec, is_number); break;
    case Type::kTableArray: type_error(src, n, spec.key, spec.type);
  }
  check_range_and_choice(src, n, spec, v);
  return v;
}

[[noreturn]] void unknown_key(const std::string& src, const toml::node& n, const std::string& key) {
  std::string s = suggest_key(key);
  throw ConfigError(where(src, n) + ": unknown key '" + key + "'" +
                    (s.empty() ? std::string() : " (did you mean '" + s + "'?)"));
}

std::string toml_value(const Value& v) {
  std::ostringstream o;
  o.precision(17);
  std::visit(
      [&](auto&& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) o << (x ? "true" : "false");
        else if constexpr (std::is_same_v<T, std::int64_t>) o << x;
        else if constexpr (std::is_same_v<T, double>) {
          if (std::isinf(x)) o << (x > 0 ? "inf" : "-inf");
          else if (x == std::floor(x) && std::fabs(x) < 1e15) o << x << ".0";
          else o << x;
        } else if constexpr (std::is_same_v<T, std::string>) {
          o << '"';
          for (char c : x) {
            if (c == '"' || c == '\\') o << '\\' << c;
            else if (c == '\n') o << "\\n";
            else o << c;
          }
          o << '"';
        } else {
          o << '[';
          for (std::size_t i = 0; i < x.size(); ++i) {
            if (i) o << ", ";
            o << toml_value(Value(x[i]));
          }
          o << ']';
        }
      },
      v);
  return o.str();
}

}  // namespace

std::string suggest_key(std::string_view key) {
  std::string best;
  std::size_t best_d = std::max<std::size_t>(3, key.size() / 3) + 1;
  for (const auto& s : schema()) {
    std::size_t d = edit_distance(key, s.key);
    // also compare the last component alone ("lrr" -> "train.lr")
    auto dot = s.key.rfind('.');
    if (dot != std::string::npos && key.find('.') == std::string_view::npos)
      d = std::min(d, edit_distance(key, std::string_view(s.key).substr(dot + 1)));
    if (d < best_d) {
      best_d = d;
      best = s.key;
    }
  }
  return best;
}

std::string fmt_range(double lo, double hi, double got) {
  std::ostringstream o;
  o << "expects a value in [" << lo << ", " << hi << "], got " << got;
  return o.str();
}

Config::Config() {
  for (const auto& s : schema()) {
    if (s.type == Type::kTableArray) records_[s.key] = {};
    else if (s.key.find("[]") == std::string::npos) values_[s.key] = s.default_value;
  }
}

Config Config::load(const fs::path& file) {
  if (!fs::exists(file)) throw InputError("config file '" + file.string() + "' does not exist");
  std::string text = read_file(file);
  return parse(text, file.string(), fs::absolute(file).parent_path());
}

Config Config::parse(std::string_view text, const std::string& source, const fs::path& base_dir) {
  Config c;
  c.source_ = source;
  c.base_dir_ = base_dir;
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    std::ostringstream o;
    o << source << ":" << e.source().begin.line << ":" << e.source().begin.column
      << ": malformed TOML: " << e.description();
    throw ConfigError(o.str());
  }
  for (auto&& [sec_key, sec_node] : root) {
    std::string sec(sec_key.str());
    if (const KeySpec* arr = find_spec(sec); arr && arr->type == Type::kTableArray) {
      if (!sec_node.is_array_of_tables()) type_error(source, sec_node, sec, Type::kTableArray);
      std::vector<Record> recs;
      std::size_t idx = 0;
      for (auto& elem : *sec_node.as_array()) {
        Record r;
        for (auto&& [fk, fv] : *elem.as_table()) {
          std::string field_key = sec + "[]." + std::string(fk.str());
          const KeySpec* fs_ = find_spec(field_key);
          if (!fs_) unknown_key(source, fv, sec + "[" + std::to_string(idx) + "]." + std::string(fk.str()));
          r[std::string(fk.str())] = convert(source, fv, *fs_);
        }
        for (const auto& s : schema()) {
          if (s.key.rfind(sec + "[].", 0) != 0) continue;
          std::string field = s.key.substr(sec.size() + 3);
          if (!r.count(field)) {
            if (s.required)
              throw ConfigError(where(source, elem) + ": table [[" + sec + "]] number " +
                                std::to_string(idx + 1) + " lacks the required key '" + field + "'");
            r[field] = s.default_value;
          }
        }
        recs.push_back(std::move(r));
        ++idx;
      }
      c.records_[sec] = std::move(recs);
      c.set_[sec] = true;
      continue;
    }
    if (!sec_node.is_table()) unknown_key(source, sec_node, sec);
    for (auto&& [k, v] : *sec_node.as_table()) {
      std::string key = sec + "." + std::string(k.str());
      const KeySpec* spec = find_spec(key);
      if (!spec) unknown_key(source, v, key);
      c.values_[key] = convert(source, v, *spec);
      c.set_[key] = true;
    }
  }
  c.apply_preset_defaults();
  return c;
}

void Config::apply_preset_defaults() {
  const bool paper = std::get<std::string>(values_.find("model.preset")->second) == "paper";
  for (const auto& d : preset_defaults()) {
    if (is_set(d.key)) continue;
    values_[d.key] = paper ? d.paper : find_spec(d.key)->default_value;
  }
}

const Value& Config::value(std::string_view key, Type expected) const {
  const KeySpec* spec = find_spec(key);
  if (!spec) throw ConfigError("internal: configuration key '" + std::string(key) + "' is not in the schema");
  if (spec->type != expected)
    throw ConfigError("internal: configuration key '" + std::string(key) + "' is a " +
                      type_name(spec->type) + ", read as " + type_name(expected));
  return values_.find(key)->second;
}

bool Config::get_bool(std::string_view k) const { return std::get<bool>(value(k, Type::kBool)); }
std::int64_t Config::get_int(std::string_view k) const { return std::get<std::int64_t>(value(k, Type::kInt)); }
double Config::get_double(std::string_view k) const { return std::get<double>(value(k, Type::kFloat)); }
const std::string& Config::get_string(std::string_view k) const {
  return std::get<std::string>(value(k, Type::kString));
}
const std::vector<std::string>& Config::get_strings(std::string_view k) const {
  return std::get<std::vector<std::string>>(value(k, Type::kStringList));
}
const std::vector<double>& Config::get_doubles(std::string_view k) const {
  return std::get<std::vector<double>>(value(k, Type::kFloatList));
}
const std::vector<Record>& Config::get_records(std::string_view k) const {
  auto it = records_.find(k);
  if (it == records_.end())
    throw ConfigError("internal: configuration key '" + std::string(k) + "' is not a table array");
  return it->second;
}

fs::path Config::get_path(std::string_view key) const {
  const std::string& s = get_string(key);
  if (s.empty()) return {};
  fs::path p(s);
  if (p.is_absolute() || base_dir_.empty()) return p;
  return base_dir_ / p;
}

bool Config::is_set(std::string_view key) const {
  auto it = set_.find(key);
  return it != set_.end() && it->second;
}

void Config::set(std::string_view key, Value v) {
  const KeySpec* spec = find_spec(key);
  if (!spec || spec->type == Type::kTableArray || key.find("[]") != std::string_view::npos) {
    std::string s = suggest_key(key);
    throw ConfigError("unknown configuration key '" + std::string(key) + "'" +
                      (s.empty() ? std::string() : " (did you mean '" + s + "'?)"));
  }
  if (spec->type == Type::kFloat)
    if (auto* i = std::get_if<std::int64_t>(&v)) v = double(*i);
  if (v.index() != spec->default_value.index())
    throw ConfigError("configuration key '" + spec->key + "' expects " + type_name(spec->type));
  values_[spec->key] = std::move(v);
  set_[spec->key] = true;
  if (spec->key == "model.preset") apply_preset_defaults();
}

void Config::set_records(std::string_view key, std::vector<Record> records) {
  records_[std::string(key)] = std::move(records);
  set_[std::string(key)] = true;
}

std::string Config::to_toml() const {
  std::ostringstream o;
  std::string section;
  for (const auto& s : schema()) {
    if (s.type == Type::kTableArray || s.key.find("[]") != std::string::npos) continue;
    auto dot = s.key.find('.');
    std::string sec = s.key.substr(0, dot);
    if (sec != section) {
      o << (section.empty() ? "" : "\n") << "[" << sec << "]\n";
      section = sec;
    }
    const Value& v = values_.find(s.key)->second;
    if (auto* d = std::get_if<double>(&v); d && std::isinf(*d)) continue;
    o << s.key.substr(dot + 1) << " = " << toml_value(v) << "\n";
  }
  for (const auto& [name, recs] : records_) {
    for (const auto& r : recs) {
      o << "\n[[" << name << "]]\n";
      for (const auto& [f, v] : r) {
        if (auto* d = std::get_if<double>(&v); d && std::isinf(*d)) continue;
        o << f << " = " << toml_value(v) << "\n";
      }
    }
  }
  return o.str();
}

std::string Config::hash() const { return sha256_hex(to_toml()); }

std::optional<Value> record_get(const Record& r, const std::string& field) {
  auto it = r.find(field);
  if (it == r.end()) return std::nullopt;
  return it->second;
}

std::string schema_markdown() {
  std::ostringstream o;
  o << "| key | type | default | meaning |\n|---|---|---|---|\n";
  for (const auto& s : schema()) {
    std::string def = s.type == Type::kTableArray ? "" : "`" + toml_value(s.default_value) + "`";
    if (s.required) def = "(required)";
    for (const auto& d : preset_defaults())
      if (d.key == s.key) def += " (paper: `" + toml_value(d.paper) + "`)";
    std::string doc = s.doc;
    if (!s.choices.empty()) {
      doc += " One of:";
      for (auto& c : s.choices) doc += " `" + c + "`";
      doc += ".";
    }
    o << "| `" << s.key << "` | " << type_name(s.type) << " | " << def << " | " << doc << " |\n";
  }
  return o.str();
}

namespace {

toml::table parse_toml_text(std::string_view text, const std::string& source) {
  try {
    return toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    std::ostringstream o;
    o << source << ":" << e.source().begin.line << ":" << e.source().begin.column << ": malformed TOML: " << e.description();
    throw ConfigError(o.str());
  }
}

void merge_into(toml::table& base, const toml::table& over) {
  for (auto&& [k, v] : over) {
    toml::node* b = base.get(k);
    if (b && b->is_table() && v.is_table()) merge_into(*b->as_table(), *v.as_table());
    else base.insert_or_assign(k, v);
  }
}

}  // namespace

std::string merge_toml(std::string_view base, const std::string& base_source, std::string_view overlay,
                       const std::string& overlay_source) {
  toml::table b = parse_toml_text(base, base_source);
  merge_into(b, parse_toml_text(overlay, overlay_source));
  std::ostringstream o;
  o << b << "\n";
  return o.str();
}

}  // namespace cervirisk::config
