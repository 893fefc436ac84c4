// libcurl transport: one network thread drives every transfer over one multi handle. The multi
// handle owns the connection cache, so every request of a Client reuses the same connections
// (and, over TLS with HTTP/2, multiplexes on one), whichever thread asked for it.
#include <curl/curl.h>

#include <algorithm>
#include <exception>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "core/try.hpp"
#include "http/message.hpp"
#include "http/retryable.hpp"
#include "transport/curl_errors.hpp"
#include "transport/curl_option_setter.hpp"
#include "transport/curl_transfer.hpp"
#include "transport/phases.hpp"
#include "transport/redirect.hpp"
#include "transport/reply_buffer.hpp"
#include "transport/transport.hpp"
#include "transport/url.hpp"

namespace rvae::transport {

TransferResult Transport::send(std::string url, std::shared_ptr<const http::HttpRequest> request,
                               TransferOptions options) {
  auto promise = std::make_shared<std::promise<TransferResult>>();
  std::future<TransferResult> future = promise->get_future();
  submit(std::move(url), std::move(request), std::move(options), Clock::now(),
         [promise](TransferResult&& result) { promise->set_value(std::move(result)); });
  return future.get();
}

namespace {

// Idle easy handles kept for reuse (their options are reset; connections live in the multi).
constexpr std::size_t kMaxIdleHandles = 16;
// Loopback and LAN replies of several MiB arrive about twice as fast with a larger buffer.
constexpr long kReceiveBufferBytes = 512 * 1024;
// The loop re-checks queued deadlines at least this often.
constexpr long kMaxPollMs = 1000;
// Reply buffers kept for reuse: enough for every transfer of a busy client to receive into one
// whose pages are already mapped, bounded so an idle client does not pin much memory.
constexpr std::size_t kMaxPooledBuffers = 32;
constexpr std::size_t kMaxPooledBytes = std::size_t{256} << 20;

Result<void> global_init_once() {
  static CURLcode code = [] { return curl_global_init(CURL_GLOBAL_DEFAULT); }();
  if (code != CURLE_OK) {
    return Error(
        ErrorCode::kResourceExhausted,
        std::string("could not start the network layer (libcurl): ") + curl_easy_strerror(code));
  }
  return {};
}

// The HTTP version a finished transfer used, as people write it.
std::string protocol_name(CURL* easy) {
  long version = 0;
  if (curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &version) != CURLE_OK) return {};
  switch (version) {
    case CURL_HTTP_VERSION_1_0:
      return "HTTP/1.0";
    case CURL_HTTP_VERSION_1_1:
      return "HTTP/1.1";
    case CURL_HTTP_VERSION_2_0:
      return "HTTP/2";
    case CURL_HTTP_VERSION_3:
      return "HTTP/3";
    default:
      return {};
  }
}

long clamp_ms(std::chrono::milliseconds value) {
  return static_cast<long>(std::clamp<std::chrono::milliseconds::rep>(value.count(), 1, 1L << 30));
}

std::chrono::microseconds micros(curl_off_t value) {
  return std::chrono::microseconds(std::max<curl_off_t>(0, value));
}

std::chrono::microseconds since(Clock::time_point start, Clock::time_point moment) {
  return std::chrono::duration_cast<std::chrono::microseconds>(moment - start);
}

// A libcurl built without HTTP/2 (no nghttp2) refuses to be asked for it, which would fail every
// request: there the transport keeps libcurl's default, HTTP/1.1.
bool libcurl_has_http2() {
  const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
  return info != nullptr && (info->features & CURL_VERSION_HTTP2) != 0;
}

bool is_https(std::string_view url) {
  return url.size() >= 8 && http::iequals(url.substr(0, 8), "https://");
}

// What the user should read when libcurl refuses an option on a fresh handle.
std::string option_name(CURLoption option) {
  switch (option) {
    case CURLOPT_URL:
      return "the endpoint URL";
    case CURLOPT_USERAGENT:
      return "the user agent";
    case CURLOPT_CAINFO:
      return "the CA file";
    case CURLOPT_HTTPHEADER:
      return "the request headers";
    default:
      return "libcurl option " + std::to_string(static_cast<int>(option));
  }
}

Error multi_error(const char* call, CURLMcode code) {
  const ErrorCode error_code =
      code == CURLM_OUT_OF_MEMORY ? ErrorCode::kResourceExhausted : ErrorCode::kUnavailable;
  return Error(error_code,
               std::string("the network layer failed (") + call + "): " + curl_multi_strerror(code))
      .with_retryable(code != CURLM_OUT_OF_MEMORY);
}

// Lets cancel callbacks and sinks that resume wake the loop without outliving the multi handle:
// a token may be cancelled, or a sink resumed, on another thread while the transport is being
// destroyed.
struct Waker {
  std::mutex mutex;
  CURLM* multi = nullptr;
  std::vector<std::uint64_t> resumed;  // Sequence numbers of transfers to unpause.
  void wake() {
    std::lock_guard<std::mutex> lock(mutex);
    if (multi != nullptr) curl_multi_wakeup(multi);
  }
  void resume(std::uint64_t sequence) {
    std::lock_guard<std::mutex> lock(mutex);
    if (multi == nullptr) return;
    resumed.push_back(sequence);
    curl_multi_wakeup(multi);
  }
  std::vector<std::uint64_t> take_resumed() {
    std::lock_guard<std::mutex> lock(mutex);
    std::vector<std::uint64_t> out;
    out.swap(resumed);
    return out;
  }
};

class CurlTransport final : public Transport {
 public:
  explicit CurlTransport(TransportConfig config)
      : config_(std::move(config)),
        pool_(config_.buffers ? config_.buffers
                              : std::make_shared<detail::BufferPool>(
                                    std::min(kMaxPooledBuffers,
                                             std::max<std::size_t>(1, config_.max_in_flight)),
                                    kMaxPooledBytes)) {
    max_in_flight_ = std::max<std::size_t>(1, config_.max_in_flight);
    if (!config_.token.empty()) authorization_ = "Authorization: Bearer " + config_.token;
    if (Result<void> ready = global_init_once(); !ready) {
      init_error_ = std::move(ready).error();
      return;
    }
    http2_ = libcurl_has_http2();
    multi_ = curl_multi_init();
    if (multi_ == nullptr) {
      init_error_ = Error(ErrorCode::kResourceExhausted,
                          "could not start the network layer: libcurl could not create its "
                          "transfer set (curl_multi_init failed, likely out of memory)");
      return;
    }
    waker_->multi = multi_;
    // Never more connections to one host than requests we allow in flight: otherwise a
    // connection finishing its reply while the next transfer starts makes libcurl open yet
    // another, and the count creeps past what the server budgets for one client.
    const long connections = static_cast<long>(std::min<std::size_t>(max_in_flight_, 1 << 16));
    if (curl_multi_setopt(multi_, CURLMOPT_PIPELINING, static_cast<long>(CURLPIPE_MULTIPLEX)) !=
            CURLM_OK ||
        curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, connections) != CURLM_OK ||
        curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, connections) != CURLM_OK) {
      init_error_ = Error(ErrorCode::kResourceExhausted,
                          "could not start the network layer: libcurl refused its connection "
                          "settings");
      return;
    }
    try {
      thread_ = std::thread([this] { run(); });
    } catch (const std::system_error& error) {
      init_error_ = Error(ErrorCode::kResourceExhausted,
                          std::string("could not start the network thread: ") + error.what());
    }
  }

  ~CurlTransport() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    if (multi_ != nullptr) {
      if (thread_.joinable()) {
        curl_multi_wakeup(multi_);
        thread_.join();
      }
      {
        std::lock_guard<std::mutex> lock(waker_->mutex);
        waker_->multi = nullptr;
      }
      curl_multi_cleanup(multi_);
    }
  }

  void submit(std::string url, std::shared_ptr<const http::HttpRequest> request,
              TransferOptions options, Clock::time_point not_before, TransferDone done) override {
    auto transfer = std::make_unique<Transfer>();
    transfer->request = std::move(request);
    transfer->options = std::move(options);
    transfer->not_before = not_before;
    transfer->submitted = Clock::now();
    transfer->done = std::move(done);
    transfer->max_reply_bytes = config_.max_reply_bytes;
    transfer->pool = pool_.get();
    transfer->url = std::move(url);
    transfer->origin = origin_of(transfer->url);
    transfer->send_token = transfer->options.send_token;
    if (init_error_) {
      complete(std::move(transfer), *init_error_);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!stopping_) {
        transfer->sequence = next_sequence_++;
        transfer->resume = [waker = waker_, sequence = transfer->sequence] {
          waker->resume(sequence);
        };
        if (transfer->options.cancel) {
          // Wakes the loop so a cancelled transfer stops now, not at its next progress call.
          transfer->cancel_callback =
              transfer->options.cancel->add_callback([waker = waker_] { waker->wake(); });
        }
        incoming_.push_back(std::move(transfer));
        curl_multi_wakeup(multi_);
        return;
      }
    }
    complete(std::move(transfer), Error(ErrorCode::kCancelled, "the client is shutting down"));
  }

 private:
  using WaitKey = std::pair<Clock::time_point, std::uint64_t>;

  void run() {
    while (true) {
      bool stopping = false;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping = stopping_;
        for (std::unique_ptr<Transfer>& transfer : incoming_) {
          const WaitKey key{transfer->not_before, transfer->sequence};
          waiting_.emplace(key, std::move(transfer));
        }
        incoming_.clear();
      }
      if (stopping) {
        shut_down(Error(ErrorCode::kCancelled, "the client was destroyed"));
        return;
      }
      const Clock::time_point now = Clock::now();
      expire_waiting(now);
      abort_cancelled_active();
      resume_paused();
      start_ready(now);
      int running = 0;
      if (const CURLMcode code = curl_multi_perform(multi_, &running); code != CURLM_OK) {
        fail_active(multi_error("curl_multi_perform", code));
      }
      collect_finished();
      const CURLMcode polled =
          curl_multi_poll(multi_, nullptr, 0, poll_timeout_ms(Clock::now()), nullptr);
      if (polled != CURLM_OK) fail_active(multi_error("curl_multi_poll", polled));
    }
  }

  // Queued transfers that were cancelled or ran out of time end without touching the network.
  void expire_waiting(Clock::time_point now) {
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      Transfer& transfer = *it->second;
      if (transfer.cancelled()) {
        auto node = waiting_.extract(it++);
        complete(std::move(node.mapped()), Error(ErrorCode::kCancelled, "request cancelled"));
      } else if (now >= transfer.options.deadline) {
        auto node = waiting_.extract(it++);
        complete(std::move(node.mapped()), Error(ErrorCode::kDeadlineExceeded,
                                                 "deadline passed before the request could "
                                                 "be sent"));
      } else {
        ++it;
      }
    }
  }

  void abort_cancelled_active() {
    for (auto it = active_.begin(); it != active_.end();) {
      if (it->second->cancelled()) {
        auto node = active_.extract(it++);
        curl_multi_remove_handle(multi_, node.key());
        discard_easy(*node.mapped());
        complete(std::move(node.mapped()), Error(ErrorCode::kCancelled, "request cancelled"));
      } else {
        ++it;
      }
    }
  }

  // Transfers whose sinks asked to go on. Unpausing may deliver the held bytes at once (and the
  // sink may pause again); a transfer libcurl cannot resume ends with an error.
  void resume_paused() {
    for (std::uint64_t sequence : waker_->take_resumed()) {
      for (auto it = active_.begin(); it != active_.end(); ++it) {
        Transfer& transfer = *it->second;
        if (transfer.sequence != sequence || !transfer.paused) continue;
        transfer.paused = false;
        if (const CURLcode code = curl_easy_pause(it->first, CURLPAUSE_CONT); code != CURLE_OK) {
          auto node = active_.extract(it);
          curl_multi_remove_handle(multi_, node.key());
          discard_easy(*node.mapped());
          complete(std::move(node.mapped()),
                   Error(ErrorCode::kInternal, std::string("could not resume a paused reply: ") +
                                                   curl_easy_strerror(code)));
        }
        break;
      }
    }
  }

  // Every active transfer ends with `error` (the multi handle failed under them).
  void fail_active(const Error& error) {
    for (auto& [handle, transfer] : active_) {
      curl_multi_remove_handle(multi_, handle);
      discard_easy(*transfer);
      complete(std::move(transfer), error);
    }
    active_.clear();
  }

  void start_ready(Clock::time_point now) {
    while (active_.size() < max_in_flight_ && !waiting_.empty() &&
           waiting_.begin()->first.first <= now) {
      auto node = waiting_.extract(waiting_.begin());
      std::unique_ptr<Transfer> transfer = std::move(node.mapped());
      transfer->started = now;
      transfer->easy = take_easy();
      if (!transfer->easy) {
        complete(std::move(transfer), Error(ErrorCode::kResourceExhausted,
                                            "could not create a transfer handle (out of memory)"));
        continue;
      }
      if (Result<void> started = start_leg(*transfer, now); !started) {
        discard_easy(*transfer);
        complete(std::move(transfer), std::move(started).error());
        continue;
      }
      CURL* handle = transfer->easy.get();
      active_.emplace(handle, std::move(transfer));
    }
  }

  int poll_timeout_ms(Clock::time_point now) const {
    Clock::time_point wake = now + std::chrono::milliseconds(kMaxPollMs);
    for (const auto& [key, transfer] : waiting_) {
      wake = std::min(wake, transfer->options.deadline);
      if (active_.size() < max_in_flight_) wake = std::min(wake, key.first);
    }
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(wake - now).count();
    return static_cast<int>(std::clamp<long long>(wait, 0, kMaxPollMs));
  }

  void shut_down(const Error& why) {
    fail_active(why);
    for (auto& [key, transfer] : waiting_)
      complete(std::move(transfer), why);
    waiting_.clear();
    // Transfers submitted by the callbacks above are refused by submit() (stopping_ is set).
  }

  Easy take_easy() {
    if (!idle_.empty()) {
      Easy easy = std::move(idle_.back());
      idle_.pop_back();
      return easy;
    }
    return Easy(curl_easy_init());
  }

  // A handle whose transfer failed is not reused: libcurl 7.88 keeps state on it across
  // curl_easy_reset (after a failed resolve it refuses CURLOPT_BUFFERSIZE on the next use).
  static void discard_easy(Transfer& transfer) { transfer.easy.reset(); }

  Result<Slist> build_headers(const Transfer& transfer) const {
    const http::HttpRequest& request = *transfer.request;
    Slist list;
    auto append = [&list](const std::string& line) {
      curl_slist* grown = curl_slist_append(list.get(), line.c_str());
      if (grown == nullptr) return false;
      (void)list.release();
      list.reset(grown);
      return true;
    };
    bool ok = true;
    for (const http::Header& header : request.headers) {
      if (header.name.empty() || header.name.find_first_of(":\r\n") != std::string::npos ||
          header.value.find_first_of("\r\n") != std::string::npos) {
        return Error(ErrorCode::kInvalidArgument,
                     "header '" + header.name + "' is empty or contains a line break or colon");
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
    if (!authorization_.empty() && transfer.send_token) ok = ok && append(authorization_);
    if (!ok) return Error(ErrorCode::kResourceExhausted, "out of memory building request headers");
    return list;
  }

  // Sets every option of one leg on `transfer.easy`.
  CurlOptionSetter set_options(Transfer& transfer, Clock::time_point now) const {
    const http::HttpRequest& request = *transfer.request;
    const TransferOptions& limits = transfer.options;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(limits.deadline - now);
    CurlOptionSetter set(transfer.easy.get());
    set(CURLOPT_PRIVATE, static_cast<void*>(&transfer));
    set(CURLOPT_ERRORBUFFER, transfer.error_buffer);
    set(CURLOPT_URL, transfer.url.c_str());
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_CONNECTTIMEOUT_MS, clamp_ms(std::min(limits.connect_timeout, left)));
    set(CURLOPT_TIMEOUT_MS, clamp_ms(std::min(limits.attempt_timeout, left)));
    if (limits.low_speed_bytes > 0 && limits.low_speed_time.count() > 0) {
      set(CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(limits.low_speed_bytes));
      set(CURLOPT_LOW_SPEED_TIME, static_cast<long>(limits.low_speed_time.count()));
    }
    set(CURLOPT_USERAGENT, config_.user_agent.c_str());
    set(CURLOPT_HTTPHEADER, transfer.headers.get());
    set(CURLOPT_BUFFERSIZE, kReceiveBufferBytes);
    if (http2_) set(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    // Waiting for a multiplexed stream only pays where one can come (HTTP/2 over TLS); over
    // plain HTTP/1.1 it makes every transfer wait for the first connection's reply.
    set(CURLOPT_PIPEWAIT, http2_ && is_https(transfer.url) ? 1L : 0L);
    // Redirects are followed by this transport (redirect.hpp), never by libcurl.
    set(CURLOPT_FOLLOWLOCATION, 0L);
    set(CURLOPT_PROTOCOLS_STR, "http,https");
    set(CURLOPT_SSL_VERIFYPEER, 1L);
    set(CURLOPT_SSL_VERIFYHOST, 2L);
    if (!config_.ca_file.empty()) set(CURLOPT_CAINFO, config_.ca_file.c_str());
    set(CURLOPT_HEADERFUNCTION, &on_header);
    set(CURLOPT_HEADERDATA, static_cast<void*>(&transfer));
    set(CURLOPT_WRITEFUNCTION, &on_body);
    set(CURLOPT_WRITEDATA, static_cast<void*>(&transfer));
    set(CURLOPT_NOPROGRESS, 0L);
    set(CURLOPT_XFERINFOFUNCTION, &on_progress);
    set(CURLOPT_XFERINFODATA, static_cast<void*>(&transfer));
    if (request.method == "POST") {
      set(CURLOPT_POST, 1L);
      const std::vector<http::BodyPiece>& pieces = request.body.pieces();
      if (pieces.size() <= 1) {
        // One piece is sent from its buffer as is: no copy into libcurl.
        set(CURLOPT_POSTFIELDS,
            static_cast<const void*>(pieces.empty() ? nullptr : pieces.front().data));
      } else {
        // Several pieces are read one after another into libcurl's upload buffer.
        set(CURLOPT_READFUNCTION, &on_read);
        set(CURLOPT_READDATA, static_cast<void*>(&transfer));
        set(CURLOPT_SEEKFUNCTION, &on_seek);
        set(CURLOPT_SEEKDATA, static_cast<void*>(&transfer));
      }
      set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    } else {
      set(CURLOPT_HTTPGET, 1L);
    }
    return set;
  }

  // Starts one leg (the first request, or the next after a followed redirect).
  Result<void> start_leg(Transfer& transfer, Clock::time_point now) {
    const http::HttpRequest& request = *transfer.request;
    if (request.method != "POST" && request.method != "GET") {
      return Error(ErrorCode::kInvalidArgument, "unsupported HTTP method " + request.method);
    }
    RVAE_ASSIGN_OR_RETURN(transfer.headers, build_headers(transfer));
    transfer.reset_leg(now);
    CurlOptionSetter set = set_options(transfer, now);
    if (!set.ok()) {
      // A reused handle may carry state that refuses an option: start over on a fresh one.
      transfer.easy = Easy(curl_easy_init());
      if (!transfer.easy) {
        return Error(ErrorCode::kResourceExhausted,
                     "could not create a transfer handle (out of memory)");
      }
      set = set_options(transfer, now);
    }
    if (!set.ok()) {
      const CURLcode code = set.first_error();
      const ErrorCode error_code =
          code == CURLE_OUT_OF_MEMORY ? ErrorCode::kResourceExhausted : ErrorCode::kInvalidArgument;
      return Error(error_code, "libcurl refused " + option_name(set.failed_option()) + ": " +
                                   curl_easy_strerror(code));
    }
    if (const CURLMcode code = curl_multi_add_handle(multi_, transfer.easy.get());
        code != CURLM_OK) {
      return multi_error("curl_multi_add_handle", code);
    }
    return {};
  }

  void collect_finished() {
    int left = 0;
    while (CURLMsg* message = curl_multi_info_read(multi_, &left)) {
      if (message->msg != CURLMSG_DONE) continue;
      auto it = active_.find(message->easy_handle);
      if (it == active_.end()) continue;
      const CURLcode code = message->data.result;
      auto node = active_.extract(it);
      curl_multi_remove_handle(multi_, node.key());
      finish_leg(std::move(node.mapped()), code);
    }
  }

  void finish_leg(std::unique_ptr<Transfer> transfer, CURLcode code) {
    CURL* easy = transfer->easy.get();
    TransferTimings timings = measure(*transfer);
    if (code != CURLE_OK) {
      Error error = failure(*transfer, code);
      discard_easy(*transfer);
      complete(std::move(transfer), std::move(error), timings);
      return;
    }
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    transfer->response.status = static_cast<int>(status);
    if (is_redirect_status(transfer->response.status)) {
      char* location = nullptr;
      if (curl_easy_getinfo(easy, CURLINFO_REDIRECT_URL, &location) != CURLE_OK) {
        location = nullptr;
      }
      Result<std::optional<RedirectStep>> step = next_redirect(
          transfer->request->method, transfer->response.status, transfer->url,
          location != nullptr ? location : "", transfer->redirects_followed, transfer->origin);
      if (!step) {
        complete(std::move(transfer), std::move(step).error(), timings);
        return;
      }
      if (step->has_value()) {
        follow(std::move(transfer), std::move(**step));
        return;
      }
    }
    timings.bytes_sent = transfer->request->body.size();
    timings.bytes_received =
        transfer->to_sink ? transfer->sink_bytes : transfer->response.body.size();
    http::HttpResponse response = std::move(transfer->response);
    complete(std::move(transfer), std::move(response), timings);
  }

  void follow(std::unique_ptr<Transfer> transfer, RedirectStep step) {
    ++transfer->redirects_followed;
    transfer->url = std::move(step.url);
    // Once the token was withheld from one hop it stays withheld: a later hop back to the
    // origin was still chosen by a host that must not see it.
    transfer->send_token = transfer->send_token && step.send_token;
    curl_easy_reset(transfer->easy.get());
    const Clock::time_point now = Clock::now();
    if (Result<void> started = start_leg(*transfer, now); !started) {
      discard_easy(*transfer);
      complete(std::move(transfer), std::move(started).error());
      return;
    }
    CURL* handle = transfer->easy.get();
    active_.emplace(handle, std::move(transfer));
  }

  Error failure(const Transfer& transfer, CURLcode code) const {
    if (transfer.reply_too_large) {
      return Error(ErrorCode::kResourceExhausted, "reply exceeds the limit of " +
                                                      std::to_string(config_.max_reply_bytes) +
                                                      " bytes (the client's reply size limit)")
          .with_retryable(http::is_retryable(http::NetworkFailure::kReplyTooLarge));
    }
    if (transfer.callback_failed) {
      if (transfer.callback_error) return *transfer.callback_error;
      return Error(ErrorCode::kResourceExhausted, "out of memory while receiving the reply");
    }
    if (code == CURLE_ABORTED_BY_CALLBACK && transfer.cancelled()) {
      return Error(ErrorCode::kCancelled, "request cancelled");
    }
    Error error =
        error_from_curl(code, transfer.error_buffer, transfer.url, !transfer.headers_complete);
    if (code == CURLE_OPERATION_TIMEDOUT && Clock::now() >= transfer.options.deadline) {
      // Out of time for the whole call, not just this attempt: nothing to retry.
      return Error(ErrorCode::kDeadlineExceeded, "deadline passed: " + error.message());
    }
    return error;
  }

  static TransferTimings measure(const Transfer& transfer) {
    TransferTimings timings;
    timings.queue = since(transfer.submitted, transfer.started);
    CURL* easy = transfer.easy.get();
    curl_off_t connect = 0, app_connect = 0, pre_transfer = 0, total = 0;
    curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &connect);
    curl_easy_getinfo(easy, CURLINFO_APPCONNECT_TIME_T, &app_connect);
    curl_easy_getinfo(easy, CURLINFO_PRETRANSFER_TIME_T, &pre_transfer);
    curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &total);
    timings.connect = micros(connect);
    timings.tls = app_connect > 0 ? micros(app_connect - connect) : std::chrono::microseconds(0);
    // libcurl's own STARTTRANSFER time is taken when the request is sent, not when the reply
    // starts, so the split comes from what the callbacks saw.
    LegMarks marks;
    marks.request_start = micros(pre_transfer);
    if (transfer.upload_done)
      marks.upload_done = since(transfer.leg_started, *transfer.upload_done);
    if (transfer.first_byte) marks.first_byte = since(transfer.leg_started, *transfer.first_byte);
    marks.end = std::max(micros(total), since(transfer.leg_started, Clock::now()));
    const LegPhases phases = split_phases(marks);
    timings.upload = phases.upload;
    timings.server_wait = phases.server_wait;
    timings.download = phases.download;
    timings.protocol = protocol_name(easy);
    return timings;
  }

  void complete(std::unique_ptr<Transfer> transfer, Result<http::HttpResponse> response,
                TransferTimings timings = {}) {
    if (transfer->options.cancel && transfer->cancel_callback != 0) {
      transfer->options.cancel->remove_callback(transfer->cancel_callback);
    }
    if (transfer->easy) {
      curl_easy_reset(transfer->easy.get());
      if (idle_.size() < kMaxIdleHandles) idle_.push_back(std::move(transfer->easy));
    }
    pool_->give(std::move(transfer->response.body));
    TransferDone done = std::move(transfer->done);
    transfer.reset();
    // `done` belongs to the layer above, which turns its own failures into results; an escape
    // here would unwind the network thread, so it is contained.
    try {
      done(TransferResult{std::move(response), std::move(timings)});
    } catch (...) {
    }
  }

  TransportConfig config_;
  std::shared_ptr<detail::BufferPool> pool_;
  std::string authorization_;
  std::size_t max_in_flight_ = 1;
  bool http2_ = false;  // HTTP/2 over TLS is asked for (libcurl_has_http2), decided once.
  std::optional<Error> init_error_;
  CURLM* multi_ = nullptr;
  std::shared_ptr<Waker> waker_ = std::make_shared<Waker>();
  std::thread thread_;

  std::mutex mutex_;  // Guards incoming_, stopping_, next_sequence_.
  std::vector<std::unique_ptr<Transfer>> incoming_;
  bool stopping_ = false;
  std::uint64_t next_sequence_ = 0;

  // Owned by the network thread.
  std::map<WaitKey, std::unique_ptr<Transfer>> waiting_;
  std::map<CURL*, std::unique_ptr<Transfer>> active_;
  std::vector<Easy> idle_;
};

}  // namespace

std::unique_ptr<Transport> make_curl_transport(TransportConfig config) {
  if (config.user_agent.empty()) config.user_agent = std::string("rvae/") + RVAE_VERSION_STRING;
  return std::make_unique<CurlTransport>(std::move(config));
}

}  // namespace rvae::transport
