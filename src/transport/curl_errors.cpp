#include "transport/curl_errors.hpp"

#include <string>

namespace rvae::transport {

std::string redact_url(std::string_view url) {
  std::string_view rest = url;
  std::string scheme;
  if (const std::size_t sep = rest.find("://"); sep != std::string_view::npos) {
    scheme = std::string(rest.substr(0, sep + 3));
    rest.remove_prefix(sep + 3);
  }
  // The query carries only protocol parameters, but it is long and says nothing about the cause.
  if (const std::size_t query = rest.find_first_of("?#"); query != std::string_view::npos) {
    rest = rest.substr(0, query);
  }
  const std::size_t authority_end = rest.find('/');
  const std::string_view authority = rest.substr(0, authority_end);
  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    rest.remove_prefix(at + 1);
  }
  return scheme + std::string(rest);
}

Error error_from_curl(CURLcode code, const char* error_buffer, std::string_view url) {
  std::string detail = (error_buffer != nullptr && error_buffer[0] != '\0')
                           ? std::string(error_buffer)
                           : std::string(curl_easy_strerror(code));
  const std::string where = redact_url(url);
  ErrorCode error_code = ErrorCode::kUnavailable;
  bool retryable = false;
  std::string what;
  switch (code) {
    case CURLE_COULDNT_CONNECT:
      what = "could not connect to " + where;
      retryable = true;
      break;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      what = "could not resolve the host of " + where;
      retryable = true;
      break;
    case CURLE_OPERATION_TIMEDOUT:
      error_code = ErrorCode::kDeadlineExceeded;
      what = "request to " + where + " timed out";
      retryable = true;
      break;
    case CURLE_PARTIAL_FILE:
      error_code = ErrorCode::kDataLoss;
      what = "reply from " + where + " was cut short";
      retryable = true;
      break;
    case CURLE_GOT_NOTHING:
      what = "connection to " + where + " closed without a reply";
      retryable = true;
      break;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
      what = "connection to " + where + " broke";
      retryable = true;
      break;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      error_code = ErrorCode::kInvalidArgument;
      what = "bad endpoint URL " + where;
      break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
      what = "TLS with " + where + " failed";
      break;
    case CURLE_TOO_MANY_REDIRECTS:
      what = "too many redirects from " + where;
      break;
    case CURLE_OUT_OF_MEMORY:
      error_code = ErrorCode::kResourceExhausted;
      what = "out of memory talking to " + where;
      break;
    default:
      what = "request to " + where + " failed";
      break;
  }
  return Error(error_code, what + ": " + detail).with_retryable(retryable);
}

}  // namespace rvae::transport
