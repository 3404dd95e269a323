// Text of DICOM string elements in UTF-8: PS3.3 C.12.1.1.2 (Specific Character Set, defined
// terms and code extensions) mapped to ICU converter names; PS3.5 6.2 (value padding).
#include <unicode/ucnv.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "io/dicom_detail.h"

namespace cervirisk::io::dicom_detail {
namespace {

// DICOM defined terms -> ICU converter names (PS3.3 Table C.12-2..5).
const char* icu_charset(const std::string& term) {
  static const std::map<std::string, const char*> m = {
      {"", "ISO-8859-1"},  // default repertoire is ASCII; Latin-1 is a superset
      {"ISO_IR 6", "ISO-8859-1"},        {"ISO_IR 100", "ISO-8859-1"},   {"ISO_IR 101", "ISO-8859-2"},
      {"ISO_IR 109", "ISO-8859-3"},      {"ISO_IR 110", "ISO-8859-4"},   {"ISO_IR 144", "ISO-8859-5"},
      {"ISO_IR 127", "ISO-8859-6"},      {"ISO_IR 126", "ISO-8859-7"},   {"ISO_IR 138", "ISO-8859-8"},
      {"ISO_IR 148", "ISO-8859-9"},      {"ISO_IR 203", "ISO-8859-15"},  {"ISO_IR 166", "TIS-620"},
      {"ISO_IR 13", "Shift_JIS"},        {"ISO_IR 192", "UTF-8"},        {"GB18030", "GB18030"},
      {"GBK", "GBK"},                    {"ISO 2022 IR 6", "ISO-8859-1"}, {"ISO 2022 IR 100", "ISO-8859-1"},
      {"ISO 2022 IR 87", "ISO-2022-JP-2"}, {"ISO 2022 IR 159", "ISO-2022-JP-2"},
      {"ISO 2022 IR 149", "ISO-2022-KR"}, {"ISO 2022 IR 58", "ISO-2022-CN"},
  };
  auto it = m.find(term);
  return it == m.end() ? nullptr : it->second;
}

// The ICU converter for a Specific Character Set value. Several values (code extensions): the
// last non-empty one that we know, which is the one that carries the non-ASCII repertoire in
// practice (e.g. "\ISO 2022 IR 87").
const char* converter_for(const std::string& charset_value) {
  std::vector<std::string> terms;
  std::stringstream ss(charset_value);
  std::string t;
  while (std::getline(ss, t, '\\')) terms.push_back(trim(t));
  const char* name = nullptr;
  for (auto it = terms.rbegin(); it != terms.rend() && !name; ++it)
    if (!it->empty()) name = icu_charset(*it);
  if (!name) name = icu_charset(terms.empty() ? "" : terms.front());
  return name ? name : "ISO-8859-1";
}

}  // namespace

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  std::size_t b = 0;
  while (b < s.size() && s[b] == ' ') ++b;
  return s.substr(b);
}

std::string decode_text(const std::string& raw, const std::string& charset_value) {
  bool ascii = std::all_of(raw.begin(), raw.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii && raw.find('\x1b') == std::string::npos) return trim(raw);
  const char* name = converter_for(charset_value);
  UErrorCode err = U_ZERO_ERROR;
  std::string out(raw.size() * 4 + 16, '\0');
  int32_t n = ucnv_convert("UTF-8", name, out.data(), static_cast<int32_t>(out.size()), raw.data(),
                           static_cast<int32_t>(raw.size()), &err);
  if (U_FAILURE(err)) {
    std::string safe = raw;
    for (char& c : safe)
      if (static_cast<unsigned char>(c) >= 0x80) c = '?';
    return trim(safe);
  }
  out.resize(static_cast<std::size_t>(n));
  return trim(out);
}

}  // namespace cervirisk::io::dicom_detail
