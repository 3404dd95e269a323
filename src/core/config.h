// Study configuration (TOML). Every key, its type, default and meaning is declared once, in
// config_schema.cpp; docs/config.md lists them. Loading validates against that schema:
// errors name the file, line, key and the expected type; unknown keys are errors with a
// did-you-mean suggestion.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace cervirisk::config {

enum class Type { kBool, kInt, kFloat, kString, kStringList, kFloatList, kTableArray };
const char* type_name(Type t);

using Value = std::variant<bool, std::int64_t, double, std::string, std::vector<std::string>,
                           std::vector<double>>;

struct KeySpec {
  std::string key;         // dotted path, e.g. "train.lr"; fields of a table array: "clinical[].name"
  Type type;
  Value default_value;     // unused for kTableArray and for required keys
  std::string doc;
  std::vector<std::string> choices;  // allowed strings (empty = any)
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool required = false;   // only for fields of table arrays
};

// The whole schema, in documentation order.
const std::vector<KeySpec>& schema();
const KeySpec* find_spec(std::string_view key);
// Closest schema key by edit distance (for did-you-mean), or "" if none is close.
std::string suggest_key(std::string_view key);

// Keys whose default depends on model.preset: the preset's value unless the file or set() gives
// one (cpu-small: the schema default). Applied when a config is parsed and when model.preset is
// set, so every reader sees one consistent set of crop sizes, widths and schedule.
struct PresetDefault {
  std::string key;
  Value paper;
};
const std::vector<PresetDefault>& preset_defaults();

// One element of a table array such as [[clinical]]: its fields by name.
using Record = std::map<std::string, Value>;

class Config {
 public:
  // All defaults, no file.
  Config();
  // Parse and validate. `source` names the file in messages. Throws ConfigError (exit 2);
  // a missing file throws InputError (exit 3).
  static Config load(const std::filesystem::path& file);
  static Config parse(std::string_view toml, const std::string& source,
                      const std::filesystem::path& base_dir = {});

  bool get_bool(std::string_view key) const;
  std::int64_t get_int(std::string_view key) const;
  double get_double(std::string_view key) const;
  const std::string& get_string(std::string_view key) const;
  const std::vector<std::string>& get_strings(std::string_view key) const;
  const std::vector<double>& get_doubles(std::string_view key) const;
  const std::vector<Record>& get_records(std::string_view key) const;
  // A path-valued string key, resolved relative to the config file's folder ("" stays "").
  std::filesystem::path get_path(std::string_view key) const;
  // True when the file (or set()) gave the key a value.
  bool is_set(std::string_view key) const;

  // Override a value (command-line options); validated against the schema.
  void set(std::string_view key, Value value);
  void set_records(std::string_view key, std::vector<Record> records);

  // The resolved configuration as TOML (every key, defaults filled in): config.toml of a run.
  std::string to_toml() const;
  // SHA-256 of to_toml().
  std::string hash() const;

  const std::string& source() const { return source_; }
  const std::filesystem::path& base_dir() const { return base_dir_; }

 private:
  const Value& value(std::string_view key, Type expected) const;
  void apply_preset_defaults();
  std::map<std::string, Value, std::less<>> values_;
  std::map<std::string, std::vector<Record>, std::less<>> records_;
  std::map<std::string, bool, std::less<>> set_;
  std::string source_ = "<defaults>";
  std::filesystem::path base_dir_;
};

// Field accessors for Record (throw ConfigError naming the field when absent or mistyped).
std::optional<Value> record_get(const Record& r, const std::string& field);

// The documentation table of every key (Markdown), for docs/config.md.
std::string schema_markdown();

// `overlay` laid over `base` (both TOML text): a table merges key by key, any other value (an
// array of tables included) replaces the base's. For settings files that refine a generated
// config (benchmark --settings). ConfigError naming the source when either is malformed.
std::string merge_toml(std::string_view base, const std::string& base_source, std::string_view overlay,
                       const std::string& overlay_source);

}  // namespace cervirisk::config
