// Sets libcurl options and remembers the first failure, so a long list of options is checked
// once instead of after every call.
#pragma once

#include <curl/curl.h>

namespace rvae::transport {

class CurlOptionSetter {
 public:
  explicit CurlOptionSetter(CURL* easy) : easy_(easy) {}

  template <typename Value>
  void operator()(CURLoption option, Value value) {
    const CURLcode code = curl_easy_setopt(easy_, option, value);
    if (code != CURLE_OK && first_error_ == CURLE_OK) first_error_ = code;
  }

  bool ok() const noexcept { return first_error_ == CURLE_OK; }
  CURLcode first_error() const noexcept { return first_error_; }

 private:
  CURL* easy_;
  CURLcode first_error_ = CURLE_OK;
};

}  // namespace rvae::transport
