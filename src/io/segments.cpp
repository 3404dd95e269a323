#include "io/segments.h"

#include <cctype>
#include <cstdlib>

#include "core/error.h"

namespace cervirisk::io {
namespace {
std::string lower_ascii(const std::string& s) {
  std::string r = s;
  for (char& c : r)
    if (static_cast<unsigned char>(c) < 0x80) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}
bool parse_long(const std::string& s, long& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtol(s.c_str(), &end, 10);
  return end && *end == '\0';
}
}  // namespace

std::string list_segments(const std::vector<SegmentInfo>& segments) {
  std::string r;
  for (const SegmentInfo& s : segments) {
    if (!r.empty()) r += ", ";
    r += s.name.empty() ? (s.id.empty() ? "(unnamed)" : s.id) : s.name;
    r += " [" + std::to_string(s.label) + "]";
  }
  return r;
}

std::size_t choose_segment(const std::vector<SegmentInfo>& segments, const std::string& selector,
                           const std::string& file, const std::string& what) {
  const std::string plural = what + (segments.size() == 1 ? "" : "s");
  const std::string listing = file + " holds " + std::to_string(segments.size()) + " " + plural +
                              " (name [label]): " + list_segments(segments);
  if (segments.empty()) throw ValidationError(file + " holds no " + what);
  if (selector.empty()) {
    if (segments.size() == 1) return 0;
    throw ValidationError(listing + "; choose one with the manifest's mask_segment column, data.mask_segment or --segment");
  }
  const std::string want = lower_ascii(selector);
  std::vector<std::size_t> hits;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const SegmentInfo& s = segments[i];
    if (lower_ascii(s.name) == want || (!s.id.empty() && lower_ascii(s.id) == want) ||
        (!s.description.empty() && lower_ascii(s.description) == want))
      hits.push_back(i);
  }
  long label = 0;
  if (hits.empty() && parse_long(selector, label))
    for (std::size_t i = 0; i < segments.size(); ++i)
      if (segments[i].label == label) hits.push_back(i);
  if (hits.size() == 1) return hits[0];
  if (hits.empty()) throw ValidationError("no " + what + " named \"" + selector + "\" in " + listing);
  throw ValidationError(std::to_string(hits.size()) + " " + what + "s match \"" + selector + "\" in " + listing);
}

}  // namespace cervirisk::io
