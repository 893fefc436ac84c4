#include "progress.hpp"

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "console.hpp"

namespace rvae::cli {
namespace {

std::string duration_text(double seconds) {
  if (!(seconds >= 0) || seconds > 99 * 3600) return "--:--";
  const long total = static_cast<long>(seconds + 0.5);
  char text[32];
  if (total >= 3600) {
    std::snprintf(text, sizeof(text), "%ld:%02ld:%02ld", total / 3600, total / 60 % 60, total % 60);
  } else {
    std::snprintf(text, sizeof(text), "%02ld:%02ld", total / 60, total % 60);
  }
  return text;
}

std::string megabytes(std::uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f", static_cast<double>(bytes) / 1e6);
  return text;
}

}  // namespace

std::string progress_bar_text(const std::string& what, const ProgressCounts& counts,
                              double elapsed_seconds, int columns) {
  const std::size_t done = counts.succeeded + counts.failed;
  const double rate = elapsed_seconds > 0 ? static_cast<double>(done) / elapsed_seconds : 0;
  char rate_text[32];
  std::snprintf(rate_text, sizeof(rate_text), "%.1f/s", rate);
  const std::string eta =
      rate > 0 ? duration_text(static_cast<double>(counts.total - done) / rate) : "--:--";
  const std::string count = std::to_string(done) + "/" + std::to_string(counts.total);
  // Parts in the order they are given up when the line is too narrow: the last first.
  std::vector<std::string> parts = {count, std::string(rate_text), "ETA " + eta};
  if (counts.failed > 0) parts.insert(parts.begin() + 1, std::to_string(counts.failed) + " failed");
  if (counts.frames_total > 0) {
    parts.insert(parts.begin() + 1, "frames " + std::to_string(counts.frames_written) + "/" +
                                        std::to_string(counts.frames_total));
  }
  parts.push_back(std::to_string(counts.in_flight) + " in flight");
  parts.push_back(megabytes(counts.bytes_sent) + " MB up, " + megabytes(counts.bytes_received) +
                  " MB down");
  const int limit = std::max(columns - 1, 1);
  constexpr int kMinBar = 10;
  constexpr int kMaxBar = 40;
  for (std::size_t keep = parts.size(); keep > 0; --keep) {
    std::string tail;
    for (std::size_t i = 0; i < keep; ++i)
      tail += (i == 0 ? " " : ", ") + parts[i];
    // what + " [" + bar + "]" + tail
    const int room = limit - static_cast<int>(what.size() + 3 + tail.size());
    if (room < kMinBar) continue;
    const int width = std::min(room, kMaxBar);
    // One input gives a bar of its frames; a batch, of its inputs.
    const bool by_frames = counts.total == 1 && counts.frames_total > 0;
    const auto part = static_cast<std::uint64_t>(by_frames ? counts.frames_written : done);
    const auto whole = static_cast<std::uint64_t>(by_frames ? counts.frames_total : counts.total);
    const int filled = whole == 0 ? width
                                  : static_cast<int>(std::min<std::uint64_t>(part, whole) *
                                                     static_cast<std::uint64_t>(width) / whole);
    std::string bar(static_cast<std::size_t>(filled), '=');
    if (filled < width) bar += '>';
    bar.resize(static_cast<std::size_t>(width), ' ');
    return what + " [" + bar + "]" + tail;
  }
  // Narrower than any bar: the count alone, cut to fit.
  std::string text = what + " " + count;
  if (static_cast<int>(text.size()) > limit) text.resize(static_cast<std::size_t>(limit));
  return text;
}

ProgressDisplay::ProgressDisplay(std::FILE* stream, std::string what, bool enabled)
    : stream_(stream),
      what_(std::move(what)),
      enabled_(enabled),
      terminal_(is_terminal(stream)),
      start_(std::chrono::steady_clock::now()) {}

int ProgressDisplay::columns() const {
  if (const int width = terminal_columns(stream_); width > 0) return width;
  if (const char* env = std::getenv("COLUMNS")) {
    const int value = std::atoi(env);
    if (value > 0) return value;
  }
  return 80;
}

void ProgressDisplay::draw(const ProgressCounts& counts) {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  // \r back to column 0, the text, then erase what a longer earlier line left (\033[K).
  std::fprintf(stream_, "\r%s\033[K", progress_bar_text(what_, counts, elapsed, columns()).c_str());
  std::fflush(stream_);
  drawn_ = true;
  last_draw_ = std::chrono::steady_clock::now();
}

void ProgressDisplay::update(const ProgressCounts& counts) {
  if (!enabled_) return;
  const std::size_t done = counts.succeeded + counts.failed;
  if (terminal_) {
    if (done != last_done_ ||
        std::chrono::steady_clock::now() - last_draw_ > std::chrono::milliseconds(100)) {
      draw(counts);
    }
  } else if (done != last_done_) {
    std::fprintf(stream_, "%s: %zu/%zu done, %zu failed\n", what_.c_str(), done, counts.total,
                 counts.failed);
    std::fflush(stream_);
  }
  last_done_ = done;
}

void ProgressDisplay::finish(const ProgressCounts& counts) {
  if (!enabled_) return;
  if (terminal_) {
    draw(counts);
    std::fputc('\n', stream_);
    drawn_ = false;
  } else {
    update(counts);
  }
  std::fflush(stream_);
}

void ProgressDisplay::clear() {
  if (!enabled_ || !terminal_ || !drawn_) return;
  std::fputs("\r\033[K", stream_);
  std::fflush(stream_);
  drawn_ = false;
  last_draw_ = {};
}

}  // namespace rvae::cli
