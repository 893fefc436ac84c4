// Helpers shared by the protocol's .cpp files; not part of any public interface.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/message.hpp"
#include "protocol/protocol.hpp"
#include "rvae/error.hpp"
#include "rvae/tensor.hpp"

namespace rvae::protocol::internal {

inline Error invalid_argument(std::string message) {
  return Error(ErrorCode::kInvalidArgument, std::move(message));
}
inline Error data_loss(std::string message) {
  return Error(ErrorCode::kDataLoss, std::move(message));
}

/// Builds a query string of `key=value` pairs; values are percent-encoded.
class QueryBuilder {
 public:
  void add(std::string_view key, std::string_view value);
  void add_shape(const Shape& shape);
  /// scaling_factor then shift_factor, each only when set.
  void add_factors(const std::optional<double>& scaling_factor,
                   const std::optional<double>& shift_factor);
  std::string take() && { return std::move(query_); }

 private:
  std::string query_;
};

/// InvalidArgument unless each set factor is finite and a set scaling_factor is non-zero.
Result<void> validate_factors(const std::optional<double>& scaling_factor,
                              const std::optional<double>& shift_factor);

/// The most characters of server-provided text any message carries.
inline constexpr std::size_t kMaxServerText = 300;

/// A one-line, printable, truncated rendering of a reply body for Error::server_message:
/// the `error` string of a JSON object, other JSON compacted, an HTML page's title or text,
/// plain text with whitespace collapsed. Never throws.
std::string summarize_body(const Bytes& body, const std::string* content_type);

/// What an unexpected body looks like, for DataLoss messages: "an empty body",
/// "JSON: {...}", "HTML: <title>", "text: '...'" or "binary data starting 00 01 ...".
std::string describe_body(const Bytes& body);

/// Printable, whitespace-collapsed, truncated (with "...") version of untrusted text.
std::string clean_text(std::string_view text, std::size_t max_chars = kMaxServerText);

/// A uint8 decode reply's shape and dtype against the request ([N, H, W, 3], N = batch x
/// frames) and the limits: DataLoss, ResourceExhausted past the limits.
Result<void> check_uint8_reply(const Shape& shape, DType dtype, const DecodeExpectation& expect,
                               const ReplyLimits& limits);
/// The float decoder output's shape for `expect`: [B, 3, H, W] or [B, 3, F, H, W].
Shape float_reply_shape(const DecodeExpectation& expect);
/// A float decode reply's shape and dtype against the request: DataLoss.
Result<void> check_float_reply(const Shape& shape, DType dtype, const DecodeExpectation& expect);

}  // namespace rvae::protocol::internal
