#include "api/split_reply_sink.hpp"

#include <algorithm>
#include <optional>
#include <string>

namespace rvae::detail {
Result<void> SplitReplySink::begin(int, const std::vector<http::Header>& headers,
                                   transport::Resume) {
  // A retried attempt starts over.
  header_.clear();
  if (!body_.empty() || body_.capacity() > 0) pool_->give(std::move(body_));
  body_ = Bytes();
  header_expected_ = 0;
  const std::optional<std::size_t> header_length =
      http::find_decimal_header(headers, "Inference-Header-Content-Length");
  const std::optional<std::size_t> length = http::find_decimal_header(headers, "Content-Length");
  if (header_length && *header_length > 0 && *header_length <= max_header_bytes_ &&
      (!length || *header_length <= *length)) {
    header_expected_ = *header_length;
    header_.reserve(header_expected_);
  }
  const bool split = header_expected_ > 0;
  limit_ = split ? max_reply_bytes_ : std::min(max_reply_bytes_, max_json_bytes_);
  if (length && *length > limit_) {
    return Error(ErrorCode::kResourceExhausted,
                 "the reply of " + std::to_string(*length) + " bytes is larger than the limit of " +
                     std::to_string(limit_) + (split ? "" : " for the JSON form"));
  }
  if (length) body_ = pool_->take(*length - header_expected_);
  return {};
}

Result<transport::ReplySink::Flow> SplitReplySink::write(const std::uint8_t* data,
                                                         std::size_t size) {
  if (header_.size() < header_expected_) {
    const std::size_t part = std::min(size, header_expected_ - header_.size());
    header_.insert(header_.end(), data, data + part);
    data += part;
    size -= part;
  }
  if (size > limit_ - std::min(limit_, header_.size() + body_.size())) {
    return Error(ErrorCode::kResourceExhausted,
                 "the reply grew past the limit of " + std::to_string(limit_) + " bytes" +
                     (header_expected_ > 0 ? "" : " for the JSON form"));
  }
  body_.insert(body_.end(), data, data + size);
  return Flow::kTaken;
}

}  // namespace rvae::detail
