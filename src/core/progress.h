// A progress bar for long loops: rate, ETA and a current metric (loss, AUC).
// On a terminal it redraws one line on stderr; otherwise it prints a plain line at most every
// `plain_interval_s` seconds (so CI logs stay readable). Silent when logging is --quiet.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace cervirisk {

class Progress {
 public:
  Progress(std::string label, std::int64_t total, double plain_interval_s = 10.0);
  ~Progress();
  // Advance by n items; `metric` (e.g. "loss 0.412") is shown beside the bar.
  void tick(std::int64_t n = 1, const std::string& metric = "");
  void set_metric(const std::string& metric);
  void finish();
  // The line that would be shown now (for tests).
  std::string render(int width = 80) const;

 private:
  void draw(bool force);
  std::string label_;
  std::int64_t total_;
  std::int64_t done_ = 0;
  std::string metric_;
  double plain_interval_s_;
  bool tty_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

// "1h02m", "3m05s", "12.3s"
std::string format_duration(double seconds);

}  // namespace cervirisk
