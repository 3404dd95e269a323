// The names of an enum's values in one table, read both ways: printing a value and parsing a
// config or file choice. One table per enum instead of a switch and an if-chain kept in step.
//
//   constexpr EnumName<Colour> kColours[] = {{Colour::kRed, "red"}, {Colour::kBlue, "blue"}};
//   enum_name(kColours, Colour::kRed)     -> "red"
//   enum_from_name(kColours, "blue")      -> Colour::kBlue (nullopt for an unknown name)
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace cervirisk {

template <typename E>
struct EnumName {
  E value;
  const char* name;
};

// The value's name; "?" for a value not in the table.
template <typename E, std::size_t N>
const char* enum_name(const EnumName<E> (&names)[N], E value) {
  for (const auto& n : names)
    if (n.value == value) return n.name;
  return "?";
}

// The value of an exact name (case-sensitive), nullopt when the table has no such name.
template <typename E, std::size_t N>
std::optional<E> enum_from_name(const EnumName<E> (&names)[N], std::string_view name) {
  for (const auto& n : names)
    if (name == n.name) return n.value;
  return std::nullopt;
}

}  // namespace cervirisk
