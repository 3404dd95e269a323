// What the JSON files of a run folder share: parsing with the file named in the error, typed
// field access whose errors name the file and the field's path ("metrics[3].auc_ci"), and the
// "format" version tag.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace cervirisk::runfolder {

// The place of a value: the file and the path inside it.
struct JsonPath {
  std::string file, path;
  JsonPath at(const std::string& key) const;
  JsonPath at(std::size_t index) const;
  [[noreturn]] void fail(const std::string& what) const;  // FormatError "<file>: <path> <what>"
};

// Reads and parses a JSON file: InputError when missing or unreadable, FormatError when not JSON.
nlohmann::json read_json_file(const std::filesystem::path& file);
// FormatError unless j["format"] is `format`.
void check_format(const nlohmann::json& j, const std::string& format, const JsonPath& where);
// read_json_file + check_format: the file's JSON object, its version tag checked.
nlohmann::json read_json_format(const std::filesystem::path& file, const std::string& format);

// Required fields (FormatError when absent or of another type); a number may be null (NaN).
const nlohmann::json& field(const nlohmann::json& obj, const std::string& key, const JsonPath& where);
double number_field(const nlohmann::json& obj, const std::string& key, const JsonPath& where);
std::int64_t integer_field(const nlohmann::json& obj, const std::string& key, const JsonPath& where);
bool bool_field(const nlohmann::json& obj, const std::string& key, const JsonPath& where);
std::string string_field(const nlohmann::json& obj, const std::string& key, const JsonPath& where);
std::vector<double> numbers_field(const nlohmann::json& obj, const std::string& key, const JsonPath& where);
std::vector<std::string> strings_field(const nlohmann::json& obj, const std::string& key, const JsonPath& where);
const nlohmann::json& array_field(const nlohmann::json& obj, const std::string& key, const JsonPath& where);
// Optional fields: nullopt when absent.
std::optional<double> optional_number(const nlohmann::json& obj, const std::string& key, const JsonPath& where);
std::optional<std::vector<double>> optional_numbers(const nlohmann::json& obj, const std::string& key,
                                                    const JsonPath& where);

}  // namespace cervirisk::runfolder
