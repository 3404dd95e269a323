#include "runfolder/json_format.h"

#include <cmath>

#include "core/atomic_file.h"
#include "core/error.h"

namespace cervirisk::runfolder {

namespace fs = std::filesystem;
using nlohmann::json;

JsonPath JsonPath::at(const std::string& key) const { return {file, path.empty() ? key : path + "." + key}; }
JsonPath JsonPath::at(std::size_t index) const { return {file, path + "[" + std::to_string(index) + "]"}; }

void JsonPath::fail(const std::string& what) const {
  throw FormatError(file + ": " + (path.empty() ? std::string("the top level") : path) + " " + what);
}

json read_json_file(const fs::path& file) {
  try {
    return json::parse(read_file(file));
  } catch (const json::exception& e) {  // parse_error, and out_of_range for a number too large
    throw FormatError(file.string() + ": not valid JSON (" + e.what() + ")");
  }
}

void check_format(const json& j, const std::string& format, const JsonPath& where) {
  if (!j.is_object()) where.fail("must be a JSON object");
  if (!j.contains("format")) where.at("format").fail("is missing, expected \"" + format + "\"");
  if (j["format"] != format) where.at("format").fail("is " + j["format"].dump() + ", expected \"" + format + "\"");
}

json read_json_format(const fs::path& file, const std::string& format) {
  json j = read_json_file(file);
  check_format(j, format, {file.string(), ""});
  return j;
}

const json& field(const json& obj, const std::string& key, const JsonPath& where) {
  if (!obj.is_object()) where.fail("must be a JSON object");
  auto it = obj.find(key);
  if (it == obj.end()) where.at(key).fail("is missing");
  return *it;
}

namespace {

// A required field of the JSON type `is` accepts; `what` names the type in the error.
const json& typed_field(const json& obj, const std::string& key, const JsonPath& where, bool (json::*is)() const noexcept,
                        const char* what) {
  const json& v = field(obj, key, where);
  if (!(v.*is)()) where.at(key).fail(std::string("must be ") + what + ", got " + v.dump());
  return v;
}

}  // namespace

double number_field(const json& obj, const std::string& key, const JsonPath& where) {
  const json& v = field(obj, key, where);
  return v.is_null() ? std::nan("") : typed_field(obj, key, where, &json::is_number, "a number").get<double>();
}

std::int64_t integer_field(const json& obj, const std::string& key, const JsonPath& where) {
  return typed_field(obj, key, where, &json::is_number_integer, "an integer").get<std::int64_t>();
}

bool bool_field(const json& obj, const std::string& key, const JsonPath& where) {
  return typed_field(obj, key, where, &json::is_boolean, "true or false").get<bool>();
}

std::string string_field(const json& obj, const std::string& key, const JsonPath& where) {
  return typed_field(obj, key, where, &json::is_string, "a string").get<std::string>();
}

const json& array_field(const json& obj, const std::string& key, const JsonPath& where) {
  return typed_field(obj, key, where, &json::is_array, "an array");
}

std::vector<double> numbers_field(const json& obj, const std::string& key, const JsonPath& where) {
  const json& a = array_field(obj, key, where);
  std::vector<double> out;
  out.reserve(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].is_null()) out.push_back(std::nan(""));
    else if (a[i].is_number()) out.push_back(a[i].get<double>());
    else where.at(key).at(i).fail("must be a number, got " + a[i].dump());
  }
  return out;
}

std::vector<std::string> strings_field(const json& obj, const std::string& key, const JsonPath& where) {
  const json& a = array_field(obj, key, where);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!a[i].is_string()) where.at(key).at(i).fail("must be a string, got " + a[i].dump());
    out.push_back(a[i].get<std::string>());
  }
  return out;
}

std::optional<double> optional_number(const json& obj, const std::string& key, const JsonPath& where) {
  if (!obj.is_object() || !obj.contains(key)) return std::nullopt;
  return number_field(obj, key, where);
}

std::optional<std::vector<double>> optional_numbers(const json& obj, const std::string& key, const JsonPath& where) {
  if (!obj.is_object() || !obj.contains(key)) return std::nullopt;
  return numbers_field(obj, key, where);
}

}  // namespace cervirisk::runfolder
