#include "core/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>

namespace cervirisk::log {
namespace {
std::atomic<Level> g_level{Level::kInfo};
std::mutex g_mutex;
Sink g_sink;

spdlog::logger& stderr_logger() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = spdlog::stderr_color_mt("cervirisk");
    l->set_pattern("[%H:%M:%S] %^%l%$ %v");
    l->set_level(spdlog::level::trace);
    return l;
  }();
  return *logger;
}
}  // namespace

void set_level(Level l) { g_level = l; }
Level level() { return g_level; }

void configure(bool verbose, bool quiet) {
  if (quiet) set_level(Level::kWarn);
  else if (verbose) set_level(Level::kDebug);
  else set_level(Level::kInfo);
}

void set_sink(Sink sink) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_sink = std::move(sink);
}

void write(Level l, std::string_view message) {
  if (l < g_level) return;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    if (g_sink) {
      g_sink(l, message);
      return;
    }
  }
  auto& logger = stderr_logger();
  switch (l) {
    case Level::kDebug: logger.debug("{}", message); break;
    case Level::kInfo: logger.info("{}", message); break;
    case Level::kWarn: logger.warn("{}", message); break;
    case Level::kError: logger.error("{}", message); break;
    case Level::kOff: break;
  }
}

}  // namespace cervirisk::log
