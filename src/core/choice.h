// Configuration choices as enums: an `enum class` whose values are 0 .. N-1 has one table of
// names, in the order of its values, and both directions come from it, so the name a file or a
// config holds and the value the code compares can never disagree. Parse once, at the boundary
// (config, JSON), and compare enums from then on.
//
//   enum class LossKind { kBce, kFocal, kCox };
//   constexpr ChoiceNames<3> kLossNames{"bce", "focal", "cox"};
//   choice_name(kLossNames, LossKind::kCox)                    -> "cox"
//   parse_choice<LossKind>(kLossNames, "focal", "train.loss")  -> LossKind::kFocal
//   parse_choice<LossKind>(kLossNames, "l2", "train.loss")     -> throws ConfigError
//       "train.loss: expected bce, focal or cox, got 'l2'"
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace cervirisk {

template <std::size_t N>
using ChoiceNames = std::array<const char*, N>;

template <typename E, std::size_t N>
constexpr const char* choice_name(const ChoiceNames<N>& names, E value) {
  const auto i = static_cast<std::size_t>(value);
  return i < N ? names[i] : "?";
}

// The value named `name` exactly (case-sensitive), or nothing.
template <typename E, std::size_t N>
std::optional<E> find_choice(const ChoiceNames<N>& names, std::string_view name) {
  for (std::size_t i = 0; i < N; ++i)
    if (name == names[i]) return static_cast<E>(i);
  return std::nullopt;
}

// "a, b or c", for messages.
template <std::size_t N>
std::string choice_list(const ChoiceNames<N>& names) {
  std::string s;
  for (std::size_t i = 0; i < N; ++i) s += std::string(i == 0 ? "" : i + 1 == N ? " or " : ", ") + names[i];
  return s;
}

// The value named `name`; throws ConfigError "<what>: expected <choices>, got '<name>'".
template <typename E, std::size_t N>
E parse_choice(const ChoiceNames<N>& names, std::string_view name, std::string_view what) {
  if (auto v = find_choice<E>(names, name)) return *v;
  throw ConfigError(std::string(what) + ": expected " + choice_list(names) + ", got '" + std::string(name) + "'");
}

}  // namespace cervirisk
