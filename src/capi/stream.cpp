// The stream fields of rvae_decode_params as an rvae::ReplyStream, and rvae::ReplyLayout as an
// rvae_reply_layout. C callbacks cannot throw: a nonzero return becomes the rvae::Error the
// library's streamer turns into the call's error (and after which it calls nothing more).
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include "capi/capi.hpp"

namespace rvae::capi {
namespace {

Error invalid(const char* function, const std::string& what) {
  return Error(ErrorCode::kInvalidArgument, std::string(function) + ": " + what);
}

// Thrown from inside a C callback's wrapper when the callback asks to stop.
[[noreturn]] void stopped_by(const char* field, int value) {
  throw Error(ErrorCode::kCancelled, std::string("params->") + field + " returned " +
                                         std::to_string(value) +
                                         ": the callback stopped the decode");
}

}  // namespace

bool stream_requested(const rvae_decode_params& p) noexcept {
  return p.frame_callback != nullptr || p.chunk_callback != nullptr ||
         p.layout_callback != nullptr || p.into != nullptr || p.into_size != 0;
}

Result<ReplyStream> stream_of(const rvae_decode_params& p, const char* function) {
  ReplyStream stream;
  if (!stream_requested(p)) return stream;
  const int set = (p.frame_callback ? 1 : 0) + (p.chunk_callback ? 1 : 0) + (p.into ? 1 : 0);
  if (set > 1) {
    return invalid(function,
                   "set at most one of params->frame_callback, params->chunk_callback and "
                   "params->into");
  }
  if (p.into == nullptr && p.into_size != 0) {
    return invalid(function, "params->into_size is set but params->into is NULL");
  }
  if (set == 0) {
    return invalid(function,
                   "params->layout_callback needs one of params->frame_callback, "
                   "params->chunk_callback or params->into (a reply held whole has no layout "
                   "callback)");
  }
  const int output_type = raw_enum(p.output_type);
  if (output_type == RVAE_OUTPUT_IMAGE) {
    return invalid(function,
                   "an RVAE_OUTPUT_IMAGE reply is decoded whole: stream RVAE_OUTPUT_UINT8, "
                   "RVAE_OUTPUT_FLOAT_TENSOR or RVAE_OUTPUT_MP4 output");
  }
  if (p.frame_callback != nullptr && output_type != RVAE_OUTPUT_UINT8) {
    return invalid(function,
                   "params->frame_callback needs output_type RVAE_OUTPUT_UINT8 (frames of a float "
                   "tensor are only complete at its end); use params->chunk_callback or "
                   "params->into for tensors");
  }
  if (p.into != nullptr && output_type == RVAE_OUTPUT_MP4) {
    return invalid(function,
                   "an MP4 reply's size is unknown before it arrives: use params->chunk_callback, "
                   "not params->into");
  }
  if (p.fail_after_partial_delivery != 0 && p.fail_after_partial_delivery != 1) {
    return invalid(function, "params->fail_after_partial_delivery must be 0 or 1");
  }
  void* const user_data = p.stream_user_data;
  if (p.frame_callback != nullptr) {
    stream.on_frame = [fn = p.frame_callback, user_data](const FrameView& view) {
      rvae_frame frame{};
      frame.index = view.index;
      frame.width = view.image.width;
      frame.height = view.image.height;
      frame.channels = view.image.channels;
      frame.pixels = view.image.pixels;
      frame.size = view.image.size_bytes;
      if (const int value = fn(&frame, user_data); value != 0) stopped_by("frame_callback", value);
    };
  }
  if (p.chunk_callback != nullptr) {
    stream.on_chunk = [fn = p.chunk_callback, user_data](const ReplyChunk& chunk) {
      if (const int value = fn(chunk.offset, chunk.data, chunk.size, user_data); value != 0) {
        stopped_by("chunk_callback", value);
      }
    };
  }
  if (p.layout_callback != nullptr) {
    stream.on_layout = [fn = p.layout_callback, user_data](const ReplyLayout& layout) {
      rvae_reply_layout c_layout{};
      c_layout.struct_size = sizeof c_layout;
      fill_layout(layout, &c_layout);
      if (const int value = fn(&c_layout, user_data); value != 0) {
        stopped_by("layout_callback", value);
      }
    };
  }
  stream.into = static_cast<std::uint8_t*>(p.into);
  stream.into_size = p.into_size;
  if (p.stream_max_buffered_bytes > 0) stream.max_buffered_bytes = p.stream_max_buffered_bytes;
  stream.resume_after_partial_delivery = p.fail_after_partial_delivery == 0;
  return stream;
}

void fill_layout(const ReplyLayout& layout, rvae_reply_layout* out) {
  // Replies are described with at most kMaxDims dims; more would be a library bug.
  if (layout.shape.size() > RVAE_MAX_DIMS) {
    throw std::length_error("reply layout has too many dims");
  }
  rvae_reply_layout filled{};
  filled.struct_size = out->struct_size;
  filled.type = c_output_type(layout.type);
  filled.has_dtype = layout.dtype ? 1 : 0;
  filled.dtype = layout.dtype ? c_dtype(*layout.dtype) : RVAE_DTYPE_FLOAT32;
  filled.ndim = static_cast<int>(layout.shape.size());
  for (std::size_t i = 0; i < layout.shape.size(); ++i)
    filled.shape[i] = layout.shape[i];
  filled.bytes = layout.bytes;
  filled.frames = layout.frames;
  filled.frame_bytes = layout.frame_bytes;
  // The fields after struct_size that fit in the caller's struct (all of them in this first
  // version, which the caller's size was checked against).
  constexpr std::size_t kStart = sizeof(out->struct_size);
  const std::size_t end =
      out->struct_size < sizeof(rvae_reply_layout) ? out->struct_size : sizeof(rvae_reply_layout);
  std::memcpy(reinterpret_cast<unsigned char*>(out) + kStart,
              reinterpret_cast<const unsigned char*>(&filled) + kStart, end - kStart);
}

}  // namespace rvae::capi
