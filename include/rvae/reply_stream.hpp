// Decode replies consumed as they arrive instead of held whole: a video's frames handed out one
// by one, a tensor's bytes written where they belong, or the reply received straight into memory
// the caller owns. The transfer pauses while the consumer lags, so memory stays bounded whatever
// the reply's length.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>

#include "rvae/export.h"
#include "rvae/image.hpp"
#include "rvae/tensor.hpp"

namespace rvae {

enum class OutputType;

/// What a decode reply will hold, known before the request is sent (Client::reply_layout) and
/// checked against the reply's own header before any of its body is used.
struct ReplyLayout {
  OutputType type{};
  /// The tensor's dtype: uint8 for kUInt8; for kFloatTensor the model's output dtype over the
  /// Open Inference Protocol. Over the Hugging Face protocol a float reply comes in the server
  /// VAE's own dtype, which the protocol does not announce before the reply: unset then, and
  /// `bytes` is the float32 size (the most any float dtype needs). Unset for kImage and kMp4.
  std::optional<DType> dtype;
  /// kUInt8: [N, H, W, 3], one image per batch item or video frame (N = batch x frames).
  /// kFloatTensor: [B, 3, H, W] or [B, 3, F, H, W]. Empty for kImage and kMp4 (their size is
  /// only known from the reply).
  Shape shape;
  /// The tensor's bytes (an upper bound while dtype is unset); 0 for kImage and kMp4.
  std::uint64_t bytes = 0;
  /// kUInt8: N, and the bytes of one image (H x W x 3). 0 otherwise.
  std::int64_t frames = 0;
  std::uint64_t frame_bytes = 0;
};

/// One complete image of a kUInt8 reply, borrowed for the duration of the callback.
struct FrameView {
  std::int64_t index = 0;  ///< Position in the reply: batch item x frames + frame.
  ImageView image;         ///< RGB, 3 channels, rows tightly packed.
};

/// Consecutive bytes of a reply's body, borrowed for the duration of the callback. `offset`
/// counts from the first byte of the tensor's data (of the MP4 file for kMp4).
struct ReplyChunk {
  std::uint64_t offset = 0;
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
};

/// How a decode reply is consumed as it arrives (DecodeOptions::stream). Set at most one of
/// on_frame, on_chunk and `into`; with none set the reply is held whole as usual.
///
/// Callbacks run on a library worker thread, one at a time and in order, under the rules of
/// completion callbacks (rvae/pending.hpp): they may take their time (the transfer pauses past
/// max_buffered_bytes, other transfers go on), must not wait for a call of the same Client, and
/// end the call with their exception's message (InvalidArgument, or the code of a thrown
/// rvae::Error) when they throw. Cancelling the call's CancelToken from a callback stops further
/// deliveries. Every callback has returned when the call's result is ready.
///
/// The reply's header (shape, dtype, length) is checked against the request before any byte is
/// delivered. A reply that ends early or runs long fails the call with DataLoss; what was
/// delivered before stays delivered, and the error says how many frames (or bytes) that was.
/// Retries: a transient failure after part of a reply was delivered sends the request again and
/// skips, in the new reply, what was already delivered (nothing is delivered twice), provided the
/// new reply's header matches the first one's; a VAE decodes the same latents to the same output,
/// so the skipped bytes are those already delivered. With resume_after_partial_delivery unset such
/// a failure ends the call instead, as it always does for an MP4 (an encoder need not write the
/// same file twice). A reply written `into` the caller's memory is rewritten whole by a retry.
///
/// Streaming applies to kUInt8, kFloatTensor and (on_chunk only) kMp4 replies; a kImage reply is
/// decoded whole. A tiled call hands out its joined output in order from the thread that runs it
/// (the calling thread for the blocking forms): temporal chunks frame by frame as their blend is
/// complete (on_frame only), spatial tiles once they are joined.
struct ReplyStream {
  /// Once, before the first frame or chunk: the reply's layout as its header declared it, checked
  /// against the request (the dtype known now, also over the Hugging Face protocol).
  std::function<void(const ReplyLayout&)> on_layout;
  /// kUInt8: each image as soon as all of its bytes are in.
  std::function<void(const FrameView&)> on_frame;
  /// kUInt8, kFloatTensor, kMp4: the body's bytes in order, in chunks of any size.
  std::function<void(const ReplyChunk&)> on_chunk;
  /// kUInt8 and kFloatTensor: the reply is written here as it arrives, in the layout and dtype
  /// the reply has (ReplyLayout; conversion is the caller's). into_size below the layout's bytes
  /// is InvalidArgument before anything is sent. The memory must stay valid until the result is
  /// ready. A failed call may have written part of it.
  std::uint8_t* into = nullptr;
  std::size_t into_size = 0;
  /// Bytes received but not yet handed to on_frame / on_chunk beyond which the transfer pauses
  /// until the callbacks catch up (at least one frame is always held).
  std::size_t max_buffered_bytes = std::size_t{32} << 20;
  /// See above: whether a retry after a partial delivery goes on where the delivery stopped.
  bool resume_after_partial_delivery = true;

  /// True when any of on_frame, on_chunk, into is set.
  bool active() const noexcept { return on_frame || on_chunk || into != nullptr; }
};

/// What a streamed decode delivered (DecodeOutput::delivered).
struct Delivered {
  std::int64_t frames = 0;  ///< Frames handed to on_frame (or complete in `into`).
  std::uint64_t bytes = 0;  ///< Body bytes handed out (tensor data, or the MP4 file).
  /// From the reply's first body byte (of the attempt that delivered it) until the callback
  /// given the first frame (or chunk) returned, e.g. with that frame's file written; zero when
  /// none was.
  std::chrono::microseconds first_delivery{0};
};

}  // namespace rvae
