// Where one input's decode reply streams to, chosen before the request is sent: the frames of a
// uint8 reply to their files (FrameFiles), a float tensor to its .npy/.safetensors, an MP4 to its
// file (StreamedFile). Replies that are not streamed: an encoded image (decoded whole by the
// library), anything written to standard output, which `-o -` holds whole, and a float tensor
// decoded in temporal chunks (the library hands those out frame by frame only).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "frame_files.hpp"
#include "report.hpp"
#include "rvae/client.hpp"
#include "streamed_file.hpp"

namespace rvae::cli {

class StreamedOutput {
 public:
  /// The destination of a decode of `latents` with `options` into `target` (a file, or a
  /// directory ending in '/'); `video_directory` is where a reply of several frames goes instead
  /// when `target` is a file (a batch names one after each input), empty when it may not.
  /// nullptr when the reply is not streamed. rvae::Error when the layout cannot be known or the
  /// reply cannot go to `target` (refused before anything is sent).
  static std::unique_ptr<StreamedOutput> open(Client& client, const Endpoint& endpoint,
                                              const TensorView& latents,
                                              const DecodeOptions& options,
                                              const std::string& target,
                                              const std::string& video_directory);
  StreamedOutput(const StreamedOutput&) = delete;
  StreamedOutput& operator=(const StreamedOutput&) = delete;

  /// The callbacks that consume the reply (DecodeOptions::stream); this object must outlive the
  /// call.
  ReplyStream stream();
  /// After a successful call: completes the file(s) and fills in what was written.
  void finish(const DecodeOutput& result, InputReport& report);
  /// After a failed call: its error (or, when a file of ours could not be written, that error)
  /// saying what is on disk ("wrote frames 0-41 of 129 to DIR/; 42-128 missing: ..."), and the
  /// report's frames; a partial tensor or MP4 file is removed.
  Error fail(const Error& call_error, InputReport& report);

  /// Frames written so far and in all (0 and 0 unless frames are streamed); any thread.
  std::int64_t frames_written() const { return frames_ ? frames_->written() : 0; }
  std::int64_t frames_total() const { return frames_ ? frames_->total() : 0; }
  /// Which frames are on disk and which are missing (FrameFiles::missing_text); "" without frames.
  std::string missing_text() const { return frames_ ? frames_->missing_text() : ""; }

 private:
  StreamedOutput() = default;

  std::string target_;
  ReplyLayout layout_;
  std::unique_ptr<FrameFiles> frames_;
  std::unique_ptr<StreamedFile> file_;
  // The error of a write of ours that ended the call: said as it is, not as the library wraps
  // a failed callback. Set on the library's worker, read once the call is over.
  std::optional<Error> write_error_;
};

}  // namespace rvae::cli
