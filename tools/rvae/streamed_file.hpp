// A reply body streamed to its file as it arrives: an MP4 as it is, or a float tensor as .npy or
// .safetensors. The tensor's header is sized from the layout known before sending (shape; the
// dtype too, except for a Hugging Face float reply) and written last, once the reply's own
// dtype is known; the body goes to its place with positioned writes. The file appears under its
// name only when complete (PartialFile).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "partial_file.hpp"
#include "rvae/reply_stream.hpp"

namespace rvae::cli {

enum class StreamedFormat { kRaw, kNpy, kSafetensors };

/// The .npy file's first bytes (magic, version, header) for a C-order tensor: the bytes
/// rvae::serialize_npy writes before the data. bfloat16 takes float32's header (.npy has no
/// bfloat16; the body is widened).
std::string npy_prefix(const Shape& shape, DType dtype);
/// The .safetensors file's first bytes for one tensor called `name`: the header's length, then
/// its JSON padded with spaces to a multiple of 8 and to at least `min_size` bytes in all (the
/// bytes rvae::serialize_safetensors writes when `min_size` is 0).
std::string safetensors_prefix(const std::string& name, const Shape& shape, DType dtype,
                               std::size_t min_size = 0);

class StreamedFile {
 public:
  /// `expected`: Client::reply_layout's answer (ignored for kRaw). `name`: the safetensors
  /// tensor's name. rvae::Error when the temporary cannot be created.
  StreamedFile(const std::string& path, StreamedFormat format, const ReplyLayout& expected,
               std::string name);
  /// The on_chunk callback: writes the chunk where it belongs.
  void write(const ReplyChunk& chunk);
  /// Once the call succeeded (every chunk written): the header from the received layout, then
  /// the rename. Returns the file's size. rvae::Error when the reply does not fit what was
  /// announced, or the file cannot be written.
  std::uint64_t finish(const ReplyLayout& received);
  /// Body bytes written so far (any thread).
  std::uint64_t bytes_written() const { return bytes_.load(std::memory_order_relaxed); }

 private:
  void widen_bfloat16(std::uint64_t elements);

  PartialFile file_;
  StreamedFormat format_;
  ReplyLayout expected_;
  std::string name_;
  std::uint64_t data_offset_ = 0;
  std::atomic<std::uint64_t> bytes_{0};
};

}  // namespace rvae::cli
