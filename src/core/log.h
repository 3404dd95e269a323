// The one logging seam. Library code logs only through these functions (never prints).
// Backed by spdlog on stderr; tests may install a sink to capture messages.
#pragma once

#include <fmt/format.h>

#include <functional>
#include <string>
#include <string_view>

namespace cervirisk::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

void set_level(Level level);
Level level();
// --verbose -> debug, --quiet -> warnings and errors only.
void configure(bool verbose, bool quiet);

void write(Level level, std::string_view message);

// Replace the output (nullptr restores stderr). For tests.
using Sink = std::function<void(Level, std::string_view)>;
void set_sink(Sink sink);

// Formats only when the message passes the level filter.
template <typename... A>
void emit(Level l, fmt::format_string<A...> f, A&&... a) {
  if (level() <= l) write(l, fmt::format(f, std::forward<A>(a)...));
}
template <typename... A>
void debug(fmt::format_string<A...> f, A&&... a) { emit(Level::kDebug, f, std::forward<A>(a)...); }
template <typename... A>
void info(fmt::format_string<A...> f, A&&... a) { emit(Level::kInfo, f, std::forward<A>(a)...); }
template <typename... A>
void warn(fmt::format_string<A...> f, A&&... a) { emit(Level::kWarn, f, std::forward<A>(a)...); }
template <typename... A>
void error(fmt::format_string<A...> f, A&&... a) { emit(Level::kError, f, std::forward<A>(a)...); }

}  // namespace cervirisk::log
