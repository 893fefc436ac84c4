// The one list of conditions a retry may cure. The transport marks its errors from it, the
// protocol marks error replies from it, and the client's retry loop reads only those marks.
#pragma once

namespace rvae::http {

/// Why a transfer produced no usable reply, as far as retrying is concerned.
enum class NetworkFailure {
  kResolveFailed,       ///< The host name did not resolve (offline, DNS down).
  kConnectFailed,       ///< Refused or unreachable.
  kTimedOut,            ///< Connect or attempt timeout, or a stalled transfer.
  kClosedWithoutReply,  ///< The peer closed before any reply.
  kConnectionBroke,     ///< Send or receive failed mid-transfer.
  kCutShort,            ///< The reply ended before its declared length.
  kTls,                 ///< Handshake or certificate failure.
  kRedirect,            ///< A redirect that cannot be followed, or too many.
  kBadUrl,              ///< The URL or its scheme is unusable.
  kReplyTooLarge,       ///< Over a size limit (body or headers).
  kOther,               ///< Anything else libcurl reports.
};

/// True for the failures a retry of the same request may cure.
bool is_retryable(NetworkFailure failure) noexcept;

/// True for the HTTP statuses a retry may cure: 408, 429, 502, 503, 504.
bool is_retryable_status(int status) noexcept;

}  // namespace rvae::http
