// The images of a uint8 reply written as they arrive, one file each, while the next ones are
// received: into a directory (frame_00000.png, ...) or, for a one-image reply, one file. Frames
// come in order, so those written are always frames 0..written()-1; after a failure, what is on
// disk is said in words (missing_text).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "rvae/reply_stream.hpp"

namespace rvae::cli {

class FrameFiles {
 public:
  /// `directory`: frames go into `target` (created now when missing); otherwise the one image
  /// goes to the file `target` (a reply of more images is an error then). `total`: the frames
  /// the reply holds (Client::reply_layout).
  FrameFiles(std::string target, bool directory, std::int64_t total);
  /// The on_frame callback: writes the frame's file atomically (rvae::Error when it cannot).
  void write(const FrameView& frame);
  /// Frames written so far (any thread).
  std::int64_t written() const { return written_.load(std::memory_order_acquire); }
  std::int64_t total() const { return total_; }
  /// After a failure: "wrote frames 0-41 of 129 to DIR/; 42-128 missing" (or "no frame of
  /// 129 written to DIR/").
  std::string missing_text() const;

 private:
  std::string target_;
  bool directory_;
  std::int64_t total_;
  std::atomic<std::int64_t> written_{0};
};

}  // namespace rvae::cli
