// Receives an Open Inference binary reply in two parts: the JSON header apart, and the bytes
// after it into a buffer of their own (a recycled one when the pool has it), so the output tensor
// takes that buffer without its bytes being moved (PROTOCOL.md §8's replies put the JSON first).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/buffer_pool.hpp"
#include "http/message.hpp"
#include "transport/transport.hpp"

namespace rvae::detail {

class SplitReplySink final : public transport::ReplySink {
 public:
  /// A header length above `max_header_bytes` (or unreadable) is not split: the whole body is
  /// kept for the parser, which reports it. No body grows past `max_reply_bytes`, nor one that is
  /// not split (the JSON form, whose text costs many times its data) past `max_json_bytes`.
  SplitReplySink(BufferPool* pool, std::size_t max_header_bytes, std::size_t max_reply_bytes,
                 std::size_t max_json_bytes)
      : pool_(pool),
        max_header_bytes_(max_header_bytes),
        max_reply_bytes_(max_reply_bytes),
        max_json_bytes_(max_json_bytes) {}

  Result<void> begin(int status, const std::vector<http::Header>& headers,
                     transport::Resume resume) override;
  Result<Flow> write(const std::uint8_t* data, std::size_t size) override;

  /// After the transfer, once: the JSON header kept apart (empty when the reply was not split:
  /// then body() holds the whole reply), and the body.
  Bytes take_header() { return std::move(header_); }
  Bytes take_body() { return std::move(body_); }

 private:
  BufferPool* pool_;
  std::size_t max_header_bytes_;
  std::size_t max_reply_bytes_;
  std::size_t max_json_bytes_;
  std::size_t limit_ = 0;  // This attempt's: max_reply_bytes_ split, else max_json_bytes_.
  std::size_t header_expected_ = 0;
  Bytes header_;
  Bytes body_;
};

}  // namespace rvae::detail
