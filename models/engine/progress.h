// The progress line of long work: "step 120/600  loss 3.210  6400 words/s  ETA 1m15s", redrawn in
// place on a terminal (at most twice a second) and printed as lines every 10 s otherwise.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace mrnn {

// "1m05s", "2h03m"; "?" for a negative or non-finite number of seconds.
std::string format_duration(double seconds);

class ProgressLine {
 public:
  explicit ProgressLine(bool enabled);
  // Seconds since construction.
  double elapsed() const;
  // Prints `text` followed by the ETA for `done` of `total` units of work at the rate since
  // construction (done_this_run of them done here), when it is time to (or when force).
  void update(const std::string& text, int64_t done_this_run, int64_t remaining, bool force = false);
  // Ends the line (a terminal's line is redrawn in place).
  void finish();
  // Prints a message on a line of its own (not overwritten by the next update).
  void message(const std::string& text);
  bool tty() const { return tty_; }

 private:
  bool enabled_, tty_;
  std::chrono::steady_clock::time_point t0_, last_;
  bool dirty_ = false;
};

}  // namespace mrnn
