// libcurl transport. Easy handles are pooled: a handle keeps its connections (and TLS sessions)
// alive after a transfer, so returning it to the pool is what makes the next request to the same
// host skip the TCP and TLS handshakes.
#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "protocol/http_message.hpp"
#include "transport/curl_errors.hpp"
#include "transport/curl_option_setter.hpp"
#include "transport/transport.hpp"

namespace rvae::transport {
namespace {

// Idle handles kept beyond this are closed; enough for a few threads sharing one Client.
constexpr std::size_t kMaxIdleHandles = 16;
// Loopback and LAN replies of several MiB arrive about twice as fast with a larger buffer.
constexpr long kReceiveBufferBytes = 512 * 1024;
constexpr long kMaxRedirects = 5;

void global_init_once() {
  static std::once_flag flag;
  std::call_once(flag, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct SlistDeleter {
  void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

struct EasyDeleter {
  void operator()(CURL* handle) const noexcept { curl_easy_cleanup(handle); }
};
using Easy = std::unique_ptr<CURL, EasyDeleter>;

// State one transfer's callbacks write into.
struct Transfer {
  protocol::HttpResponse response;
  std::size_t max_reply_bytes = 0;
  bool reply_too_large = false;
};

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::size_t length = size * count;
  std::string_view line(data, length);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n'))
    line.remove_suffix(1);
  if (line.rfind("HTTP/", 0) == 0) {
    // A new status line (after a redirect or an interim 1xx): earlier headers were not ours.
    transfer->response.headers.clear();
    return length;
  }
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return length;
  std::string_view name = line.substr(0, colon);
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
    value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
    value.remove_suffix(1);
  transfer->response.headers.push_back({std::string(name), std::string(value)});
  return length;
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::size_t length = size * count;
  Bytes& body = transfer->response.body;
  if (length > transfer->max_reply_bytes - body.size()) {
    transfer->reply_too_large = true;
    return 0;  // Makes libcurl abort with CURLE_WRITE_ERROR.
  }
  if (body.empty() && body.capacity() == 0) {
    // Reserve once from Content-Length, bounded by the cap, to avoid repeated regrowth.
    if (const std::string* declared = transfer->response.header("Content-Length")) {
      char* end = nullptr;
      const unsigned long long declared_size = std::strtoull(declared->c_str(), &end, 10);
      if (end != declared->c_str() && declared_size <= transfer->max_reply_bytes) {
        body.reserve(static_cast<std::size_t>(declared_size));
      }
    }
  }
  body.insert(body.end(), reinterpret_cast<const std::uint8_t*>(data),
              reinterpret_cast<const std::uint8_t*>(data) + length);
  return length;
}

class CurlTransport final : public Transport {
 public:
  explicit CurlTransport(const ClientOptions& options) : options_(options) {
    global_init_once();
    user_agent_ = options_.user_agent.empty() ? std::string("rvae/") + RVAE_VERSION_STRING
                                              : options_.user_agent;
    if (!options_.token.empty()) authorization_ = "Authorization: Bearer " + options_.token;
  }

  Result<protocol::HttpResponse> send(const protocol::HttpRequest& request) override {
    Easy easy = acquire();
    if (!easy) return Error(ErrorCode::kInternal, "could not create a libcurl handle");
    Result<protocol::HttpResponse> result = perform(easy.get(), request);
    release(std::move(easy));
    return result;
  }

 private:
  Easy acquire() {
    {
      std::lock_guard<std::mutex> lock(pool_mutex_);
      if (!idle_.empty()) {
        Easy easy = std::move(idle_.back());
        idle_.pop_back();
        // reset() keeps live connections and caches; only the options go.
        curl_easy_reset(easy.get());
        return easy;
      }
    }
    return Easy(curl_easy_init());
  }

  void release(Easy easy) {
    std::lock_guard<std::mutex> lock(pool_mutex_);
    if (idle_.size() < kMaxIdleHandles) idle_.push_back(std::move(easy));
  }

  Result<Slist> build_headers(const protocol::HttpRequest& request) const {
    Slist list;
    auto append = [&list](const std::string& line) {
      curl_slist* grown = curl_slist_append(list.get(), line.c_str());
      if (grown == nullptr) return false;
      (void)list.release();
      list.reset(grown);
      return true;
    };
    bool ok = true;
    for (const protocol::Header& header : request.headers) {
      if (header.name.find_first_of(":\r\n") != std::string::npos ||
          header.value.find_first_of("\r\n") != std::string::npos) {
        return Error(ErrorCode::kInvalidArgument,
                     "header '" + header.name + "' contains a line break or colon");
      }
      // "Name;" is libcurl's spelling for a header sent with an empty value.
      ok = ok &&
           append(header.value.empty() ? header.name + ";" : header.name + ": " + header.value);
    }
    // Without this, uploads over 1 MiB wait ~1 s for a "100 Continue" some servers never send.
    ok = ok && append("Expect:");
    // The protocol says no Content-Type at all; libcurl would otherwise add a form type.
    if (request.method == "POST" && request.header("Content-Type") == nullptr) {
      ok = ok && append("Content-Type:");
    }
    if (!authorization_.empty()) ok = ok && append(authorization_);
    if (!ok) return Error(ErrorCode::kResourceExhausted, "out of memory building request headers");
    return list;
  }

  Result<protocol::HttpResponse> perform(CURL* easy, const protocol::HttpRequest& request) const {
    Result<Slist> headers = build_headers(request);
    if (!headers) return std::move(headers).error();

    Transfer transfer;
    transfer.max_reply_bytes = options_.max_reply_bytes;
    char error_buffer[CURL_ERROR_SIZE] = {0};

    CurlOptionSetter set(easy);
    set(CURLOPT_ERRORBUFFER, error_buffer);
    set(CURLOPT_URL, request.url.c_str());
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
    set(CURLOPT_TIMEOUT_MS, static_cast<long>(options_.request_timeout.count()));
    set(CURLOPT_USERAGENT, user_agent_.c_str());
    set(CURLOPT_HTTPHEADER, headers->get());
    set(CURLOPT_BUFFERSIZE, kReceiveBufferBytes);
    set(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    // Redirects are followed, but libcurl drops our Authorization header when the host changes.
    set(CURLOPT_FOLLOWLOCATION, 1L);
    set(CURLOPT_MAXREDIRS, kMaxRedirects);
    set(CURLOPT_PROTOCOLS_STR, "http,https");
    set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    set(CURLOPT_SSL_VERIFYPEER, 1L);
    set(CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options_.ca_file.empty()) set(CURLOPT_CAINFO, options_.ca_file.c_str());
    set(CURLOPT_HEADERFUNCTION, &on_header);
    set(CURLOPT_HEADERDATA, &transfer);
    set(CURLOPT_WRITEFUNCTION, &on_body);
    set(CURLOPT_WRITEDATA, &transfer);
    if (request.method == "POST") {
      set(CURLOPT_POST, 1L);
      // The body is sent from its buffer as is: no copy into libcurl.
      set(CURLOPT_POSTFIELDS, static_cast<const void*>(request.body_data()));
      set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body_size()));
    } else if (request.method == "GET") {
      set(CURLOPT_HTTPGET, 1L);
    } else {
      return Error(ErrorCode::kInvalidArgument, "unsupported HTTP method " + request.method);
    }
    if (!set.ok()) {
      return Error(ErrorCode::kInternal, std::string("libcurl rejected an option: ") +
                                             curl_easy_strerror(set.first_error()));
    }

    const CURLcode code = curl_easy_perform(easy);
    if (code != CURLE_OK) {
      if (transfer.reply_too_large) {
        return Error(ErrorCode::kResourceExhausted, "reply exceeds the limit of " +
                                                        std::to_string(options_.max_reply_bytes) +
                                                        " bytes (ClientOptions::max_reply_bytes)");
      }
      return error_from_curl(code, error_buffer, request.url);
    }
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    transfer.response.status = static_cast<int>(status);
    return std::move(transfer.response);
  }

  ClientOptions options_;
  std::string user_agent_;
  std::string authorization_;
  std::mutex pool_mutex_;
  std::vector<Easy> idle_;
};

}  // namespace

std::unique_ptr<Transport> make_curl_transport(const ClientOptions& options) {
  return std::make_unique<CurlTransport>(options);
}

}  // namespace rvae::transport
