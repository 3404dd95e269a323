#include "core/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

#include "core/log.h"

namespace cervirisk {

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "--";
  if (s < 60) return fmt::format("{:.1f}s", s);
  auto total = static_cast<long long>(std::llround(s));
  if (total < 3600) return fmt::format("{}m{:02d}s", total / 60, static_cast<int>(total % 60));
  return fmt::format("{}h{:02d}m", total / 3600, static_cast<int>((total % 3600) / 60));
}

Progress::Progress(std::string label, std::int64_t total, double plain_interval_s)
    : label_(std::move(label)), total_(total), plain_interval_s_(plain_interval_s),
      tty_(::isatty(STDERR_FILENO) != 0), start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

Progress::~Progress() {
  if (!finished_) finish();
}

void Progress::tick(std::int64_t n, const std::string& metric) {
  done_ += n;
  if (!metric.empty()) metric_ = metric;
  draw(false);
}

void Progress::set_metric(const std::string& metric) { metric_ = metric; }

std::string Progress::render(int width) const {
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double rate = elapsed > 0 ? done_ / elapsed : 0.0;
  double eta = rate > 0 && total_ > 0 ? (total_ - done_) / rate : NAN;
  std::string head = fmt::format("{} {}/{}", label_, done_, total_);
  std::string tail = fmt::format(" {:.2f} it/s ETA {}{}{}", rate, format_duration(eta),
                                 metric_.empty() ? "" : " ", metric_);
  int bar_width = width - static_cast<int>(head.size() + tail.size()) - 3;
  if (bar_width < 10 || total_ <= 0) return head + tail;
  int filled = static_cast<int>(bar_width * std::min<double>(1.0, double(done_) / total_));
  return head + " [" + std::string(filled, '#') + std::string(bar_width - filled, '.') + "]" + tail;
}

void Progress::draw(bool force) {
  if (log::level() > log::Level::kInfo) return;
  auto now = std::chrono::steady_clock::now();
  double since = std::chrono::duration<double>(now - last_draw_).count();
  if (tty_) {
    if (!force && since < 0.1) return;
    std::fprintf(stderr, "\r%s\x1b[K", render(100).c_str());
    std::fflush(stderr);
  } else {
    if (!force && since < plain_interval_s_) return;
    log::info("{}", render(0));
  }
  last_draw_ = now;
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  draw(true);
  if (tty_ && log::level() <= log::Level::kInfo) std::fprintf(stderr, "\n");
}

}  // namespace cervirisk
