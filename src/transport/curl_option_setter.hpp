// Sets libcurl options and remembers the first failure and which option caused it, so a long
// list of options is checked once instead of after every call.
#pragma once

#include <curl/curl.h>

namespace rvae::transport {

class CurlOptionSetter {
 public:
  explicit CurlOptionSetter(CURL* easy) : easy_(easy) {}

  template <typename Value>
  void operator()(CURLoption option, Value value) {
    if (first_error_ != CURLE_OK) return;
    const CURLcode code = curl_easy_setopt(easy_, option, value);
    if (code != CURLE_OK) {
      first_error_ = code;
      failed_option_ = option;
    }
  }

  bool ok() const noexcept { return first_error_ == CURLE_OK; }
  CURLcode first_error() const noexcept { return first_error_; }
  CURLoption failed_option() const noexcept { return failed_option_; }

 private:
  CURL* easy_;
  CURLcode first_error_ = CURLE_OK;
  CURLoption failed_option_ = CURLOPT_URL;
};

}  // namespace rvae::transport
