#include "models/engine/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <fmt/format.h>

namespace mrnn {

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const int64_t t = static_cast<int64_t>(s + 0.5);
  return t >= 3600 ? fmt::format("{}h{:02}m", t / 3600, t / 60 % 60) : fmt::format("{}m{:02}s", t / 60, t % 60);
}

ProgressLine::ProgressLine(bool enabled)
    : enabled_(enabled), tty_(isatty(2) != 0), t0_(std::chrono::steady_clock::now()), last_(t0_) {}

double ProgressLine::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
}

void ProgressLine::update(const std::string& text, int64_t done_this_run, int64_t remaining, bool force) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!force && std::chrono::duration<double>(now - last_).count() <= (tty_ ? 0.5 : 10.0)) return;
  last_ = now;
  const double rate = done_this_run / std::max(elapsed(), 1e-9);
  std::fprintf(stderr, "%s%s  ETA %s%s", tty_ ? "\r" : "", text.c_str(),
               format_duration(remaining / std::max(rate, 1e-9)).c_str(), tty_ ? "   " : "\n");
  dirty_ = tty_;
}

void ProgressLine::finish() {
  if (enabled_ && dirty_) std::fprintf(stderr, "\n");
  dirty_ = false;
}

void ProgressLine::message(const std::string& text) {
  if (!enabled_) return;
  std::fprintf(stderr, "%s%s\n", dirty_ ? "\n" : "", text.c_str());
  dirty_ = false;
}

}  // namespace mrnn
