#include "transport/curl_errors.hpp"

#include <string>
#include <utility>

#include "transport/url.hpp"

namespace rvae::transport {

using http::NetworkFailure;

NetworkFailure classify_curl(CURLcode code) noexcept {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return NetworkFailure::kResolveFailed;
    case CURLE_COULDNT_CONNECT:
      return NetworkFailure::kConnectFailed;
    case CURLE_OPERATION_TIMEDOUT:
      return NetworkFailure::kTimedOut;
    case CURLE_GOT_NOTHING:
      return NetworkFailure::kClosedWithoutReply;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return NetworkFailure::kConnectionBroke;
    case CURLE_PARTIAL_FILE:
      return NetworkFailure::kCutShort;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
      return NetworkFailure::kTls;
    case CURLE_TOO_MANY_REDIRECTS:
      return NetworkFailure::kRedirect;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return NetworkFailure::kBadUrl;
    case CURLE_FILESIZE_EXCEEDED:
      return NetworkFailure::kReplyTooLarge;
    default:
      return NetworkFailure::kOther;
  }
}

Error error_from_curl(CURLcode code, const char* error_buffer, std::string_view url,
                      bool in_headers) {
  const std::string detail = (error_buffer != nullptr && error_buffer[0] != '\0')
                                 ? std::string(error_buffer)
                                 : std::string(curl_easy_strerror(code));
  const std::string where = redact_url(url);
  NetworkFailure failure = classify_curl(code);
  ErrorCode error_code = ErrorCode::kUnavailable;
  std::string what;
  bool with_detail = true;  // libcurl's own text, after ours
  switch (failure) {
    case NetworkFailure::kResolveFailed:
      what = "could not resolve the host of " + where;
      break;
    case NetworkFailure::kConnectFailed:
      what = "could not connect to " + where;
      break;
    case NetworkFailure::kTimedOut:
      error_code = ErrorCode::kDeadlineExceeded;
      what = "request to " + where + " timed out";
      break;
    case NetworkFailure::kClosedWithoutReply:
      what = "connection to " + where + " closed without a reply";
      break;
    case NetworkFailure::kConnectionBroke:
      what = "connection to " + where + " broke";
      break;
    case NetworkFailure::kCutShort:
      error_code = ErrorCode::kDataLoss;
      what = "reply from " + where + " was cut short";
      break;
    case NetworkFailure::kTls:
      what = "TLS with " + where + " failed";
      break;
    case NetworkFailure::kRedirect:
      what = "too many redirects from " + where;
      break;
    case NetworkFailure::kBadUrl:
      error_code = ErrorCode::kInvalidArgument;
      what = "bad endpoint URL " + where;
      break;
    case NetworkFailure::kReplyTooLarge:
      error_code = ErrorCode::kResourceExhausted;
      what = "reply from " + where + " is too large";
      break;
    case NetworkFailure::kOther:
      if (code == CURLE_OUT_OF_MEMORY && in_headers) {
        // libcurl refuses a header line (or all headers) over its fixed limit with this code;
        // its text ("Out of memory") would contradict ours, so the per-line limit, which both
        // then exceed, is named instead.
        failure = NetworkFailure::kReplyTooLarge;
        error_code = ErrorCode::kResourceExhausted;
        what = "reply headers from " + where + " are too large (over " +
               std::to_string(CURL_MAX_HTTP_HEADER / 1024) + " KiB)";
        with_detail = false;
      } else if (code == CURLE_OUT_OF_MEMORY) {
        error_code = ErrorCode::kResourceExhausted;
        what = "out of memory talking to " + where;
      } else {
        what = "request to " + where + " failed";
      }
      break;
  }
  if (with_detail) what += ": " + detail;
  return Error(error_code, std::move(what)).with_retryable(http::is_retryable(failure));
}

}  // namespace rvae::transport
