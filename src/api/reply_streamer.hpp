// Hands a decode reply's payload (the tensor's bytes, or the MP4 file) to the caller's
// ReplyStream as it arrives: complete frames to on_frame, blocks to on_chunk, or bytes straight
// into the caller's buffer. The network thread only copies; the callbacks run on workers, one at
// a time and in order; past the stream's budget the transfer pauses until they catch up. Knows
// nothing of the wire: a protocol's sink finds the payload and its layout, and feeds it here.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "api/worker_pool.hpp"
#include "core/buffer_pool.hpp"
#include "rvae/cancel.hpp"
#include "rvae/options.hpp"
#include "rvae/reply_stream.hpp"
#include "transport/transport.hpp"

namespace rvae::detail {

class ReplyStreamer : public std::enable_shared_from_this<ReplyStreamer> {
 public:
  using Clock = transport::Clock;

  /// `cancel` is the call's token: once cancelled nothing more is handed out. A reply whose size
  /// its header does not fix (an MP4) is cut at `max_unsized_bytes`.
  ReplyStreamer(ReplyStream stream, std::shared_ptr<WorkerPool> workers,
                std::shared_ptr<BufferPool> buffers, CancelToken cancel,
                std::uint64_t max_unsized_bytes = std::uint64_t{2} << 30);

  const ReplyStream& stream() const noexcept { return stream_; }
  /// Follows the call's own token too (set before the call starts).
  void follow(const CancelToken& token) { cancel_.follow(token); }

  /// InvalidArgument when `stream` cannot serve `layout` (the layout expected before sending):
  /// on_frame without uint8 output, `into` for an output of unknown size or too small for it, any
  /// stream for an encoded image.
  static Result<void> check_request(const ReplyStream& stream, const ReplyLayout& layout);

  // On the network thread, for each attempt:
  /// A reply's payload follows, with `layout` as its header declared it (checked against the
  /// request). DataLoss when a retry's layout differs from the first reply's.
  Result<void> begin_attempt(const ReplyLayout& layout, transport::Resume resume);
  /// The payload's next bytes. DataLoss past the layout's size; a callback's error once one failed.
  /// `may_pause` false when the caller already took other bytes of the same write (kPause would
  /// have them sent again).
  Result<transport::ReplySink::Flow> write(const std::uint8_t* data, std::size_t size,
                                           bool may_pause = true);

  /// Why a failed attempt must not be retried (resume_after_partial_delivery unset and something
  /// was handed out); nullopt when it may be. Any thread.
  std::optional<std::string> retry_refusal() const;

  /// After the call's last transfer, on the thread that finishes the call: `complete` when it
  /// succeeded, then the payload must be whole (DataLoss if it ended early). Hands out what is
  /// still queued (on this thread when it is a worker, else on one) and waits until every
  /// callback has returned. The callbacks' error, if one failed; else what was handed out.
  Result<Delivered> finish(bool complete);
  /// For a reply that had to be held whole (converted first, or in a form that cannot stream):
  /// hands `output` out on this thread, as it would have streamed. `output.layout` holds the
  /// expected layout (a float tensor's own shape and dtype are used).
  Result<Delivered> deliver_whole(const DecodeOutput& output);
  /// The layout the reply declared (valid after a begin_attempt).
  ReplyLayout layout() const;
  /// " (frames 0-41 of 129 were handed out before the failure)" and the like, for an error.
  std::string partial_delivery_note() const;

 private:
  struct Item {
    enum class Kind { kLayout, kFrame, kChunk } kind = Kind::kChunk;
    Bytes bytes;
    std::uint64_t offset = 0;
    std::int64_t index = 0;
  };

  static const char* callback_name(Item::Kind kind);
  std::size_t unit_bytes() const;
  Result<void> begin_locked(const ReplyLayout& layout, transport::Resume resume, bool& post);
  // Under mutex_: queues `item`, or marks a drain as scheduled; true when the caller must
  // post_drain() once it released the lock.
  bool enqueue_locked(Item item);
  bool schedule_locked();
  void post_drain();
  void drain();
  // Delivers one item (outside the lock); records a callback's failure.
  void deliver(Item::Kind kind, const std::uint8_t* data, std::size_t size, std::uint64_t offset,
               std::int64_t index);
  void fail_locked(Error error);

  const ReplyStream stream_;
  const std::shared_ptr<WorkerPool> workers_;
  const std::shared_ptr<BufferPool> buffers_;
  CancelToken cancel_;
  const std::uint64_t max_unsized_bytes_;

  mutable std::mutex mutex_;
  std::condition_variable idle_;
  std::optional<ReplyLayout> layout_;  // The first reply's.
  transport::Resume resume_;
  std::deque<Item> queue_;
  std::size_t queued_bytes_ = 0;
  bool paused_ = false;
  bool scheduled_ = false;
  bool draining_ = false;
  std::optional<Error> error_;
  bool cancelled_ = false;  // Something was not handed out because the call was cancelled.

  // Network thread only (and finish(), after the last transfer).
  Bytes staging_;
  std::uint64_t received_ = 0;  // Payload bytes of this attempt.
  std::uint64_t handed_ = 0;    // Payload bytes queued for the callbacks, over all attempts.
  std::int64_t next_frame_ = 0;

  // Guarded by mutex_.
  Clock::time_point first_byte_{};  // Of this attempt's payload.
  Delivered delivered_;
  bool any_delivered_ = false;
};

}  // namespace rvae::detail
