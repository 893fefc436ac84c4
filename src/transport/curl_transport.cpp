// libcurl transport: one network thread drives every transfer over one multi handle. The multi
// handle owns the connection cache, so every request of a Client reuses the same connections
// (and, over TLS with HTTP/2, multiplexes on one), whichever thread asked for it.
#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "protocol/http_message.hpp"
#include "transport/curl_errors.hpp"
#include "transport/curl_option_setter.hpp"
#include "transport/transport.hpp"

namespace rvae::transport {

TransferResult Transport::send(std::shared_ptr<const protocol::HttpRequest> request,
                               TransferOptions options) {
  auto promise = std::make_shared<std::promise<TransferResult>>();
  std::future<TransferResult> future = promise->get_future();
  submit(std::move(request), std::move(options), Clock::now(),
         [promise](TransferResult&& result) { promise->set_value(std::move(result)); });
  return future.get();
}

namespace {

// Idle easy handles kept for reuse (their options are reset; connections live in the multi).
constexpr std::size_t kMaxIdleHandles = 16;
// Loopback and LAN replies of several MiB arrive about twice as fast with a larger buffer.
constexpr long kReceiveBufferBytes = 512 * 1024;
constexpr long kMaxRedirects = 5;
// The loop re-checks queued deadlines at least this often.
constexpr long kMaxPollMs = 1000;

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

// The HTTP version a finished transfer used, as people write it.
std::string protocol_name(CURL* easy) {
  long version = 0;
  curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &version);
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

// One transfer, from submit() to done().
struct Transfer {
  std::shared_ptr<const protocol::HttpRequest> request;
  TransferOptions options;
  Clock::time_point not_before;
  Clock::time_point submitted;
  Clock::time_point started;
  std::uint64_t sequence = 0;
  TransferDone done;
  std::uint64_t cancel_callback = 0;

  Easy easy;
  Slist headers;
  char error_buffer[CURL_ERROR_SIZE] = {0};
  protocol::HttpResponse response;
  std::size_t max_reply_bytes = 0;
  bool reply_too_large = false;
  std::optional<Clock::time_point> upload_done;
  TransferProgress progress;

  bool cancelled() const { return options.cancel && options.cancel->cancelled(); }
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

int on_progress(void* user, curl_off_t download_total, curl_off_t downloaded,
                curl_off_t upload_total, curl_off_t uploaded) {
  auto* transfer = static_cast<Transfer*>(user);
  if (transfer->cancelled()) return 1;  // Aborts with CURLE_ABORTED_BY_CALLBACK.
  if (!transfer->upload_done && upload_total > 0 && uploaded >= upload_total) {
    transfer->upload_done = Clock::now();
  }
  const TransferProgress now{static_cast<std::uint64_t>(std::max<curl_off_t>(0, uploaded)),
                             static_cast<std::uint64_t>(std::max<curl_off_t>(0, upload_total)),
                             static_cast<std::uint64_t>(std::max<curl_off_t>(0, downloaded)),
                             static_cast<std::uint64_t>(std::max<curl_off_t>(0, download_total))};
  const TransferProgress& before = transfer->progress;
  const bool changed = now.uploaded != before.uploaded || now.downloaded != before.downloaded ||
                       now.upload_total != before.upload_total ||
                       now.download_total != before.download_total;
  transfer->progress = now;
  if (changed && transfer->options.on_progress) transfer->options.on_progress(now);
  return 0;
}

// Lets cancel callbacks wake the loop without outliving the multi handle: a token may be
// cancelled on another thread while the transport is being destroyed.
struct Waker {
  std::mutex mutex;
  CURLM* multi = nullptr;
  void wake() {
    std::lock_guard<std::mutex> lock(mutex);
    if (multi != nullptr) curl_multi_wakeup(multi);
  }
};

class CurlTransport final : public Transport {
 public:
  explicit CurlTransport(const ClientOptions& options) : options_(options) {
    global_init_once();
    user_agent_ = options_.user_agent.empty() ? std::string("rvae/") + RVAE_VERSION_STRING
                                              : options_.user_agent;
    if (!options_.token.empty()) authorization_ = "Authorization: Bearer " + options_.token;
    max_in_flight_ = std::max<std::size_t>(1, options_.max_in_flight);
    multi_ = curl_multi_init();
    waker_->multi = multi_;
    if (multi_ != nullptr) {
      curl_multi_setopt(multi_, CURLMOPT_PIPELINING, static_cast<long>(CURLPIPE_MULTIPLEX));
      // Never more connections to one host than requests we allow in flight: otherwise a
      // connection finishing its reply while the next transfer starts makes libcurl open yet
      // another, and the count creeps past what the server budgets for one client.
      const long connections = static_cast<long>(std::min<std::size_t>(max_in_flight_, 1 << 16));
      curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, connections);
      curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, connections);
      thread_ = std::thread([this] { run(); });
    }
  }

  ~CurlTransport() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    if (multi_ != nullptr) {
      curl_multi_wakeup(multi_);
      thread_.join();
      {
        std::lock_guard<std::mutex> lock(waker_->mutex);
        waker_->multi = nullptr;
      }
      curl_multi_cleanup(multi_);
    }
  }

  void submit(std::shared_ptr<const protocol::HttpRequest> request, TransferOptions options,
              Clock::time_point not_before, TransferDone done) override {
    auto transfer = std::make_unique<Transfer>();
    transfer->request = std::move(request);
    transfer->options = std::move(options);
    transfer->not_before = not_before;
    transfer->submitted = Clock::now();
    transfer->done = std::move(done);
    transfer->max_reply_bytes = options_.max_reply_bytes;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!stopping_ && multi_ != nullptr) {
        transfer->sequence = next_sequence_++;
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
        shut_down();
        return;
      }
      const Clock::time_point now = Clock::now();
      expire_waiting(now);
      abort_cancelled_active();
      start_ready(now);
      int running = 0;
      curl_multi_perform(multi_, &running);
      collect_finished();
      curl_multi_poll(multi_, nullptr, 0, poll_timeout_ms(Clock::now()), nullptr);
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
        complete(std::move(node.mapped()), Error(ErrorCode::kCancelled, "request cancelled"));
      } else {
        ++it;
      }
    }
  }

  void start_ready(Clock::time_point now) {
    while (active_.size() < max_in_flight_ && !waiting_.empty() &&
           waiting_.begin()->first.first <= now) {
      auto node = waiting_.extract(waiting_.begin());
      std::unique_ptr<Transfer> transfer = std::move(node.mapped());
      if (Result<void> started = start(*transfer, now); !started) {
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

  void shut_down() {
    for (auto& [handle, transfer] : active_) {
      curl_multi_remove_handle(multi_, handle);
      complete(std::move(transfer), Error(ErrorCode::kCancelled, "the client was destroyed"));
    }
    active_.clear();
    for (auto& [key, transfer] : waiting_) {
      complete(std::move(transfer), Error(ErrorCode::kCancelled, "the client was destroyed"));
    }
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
    // libcurl drops a custom Authorization header when a redirect changes the host.
    if (!authorization_.empty()) ok = ok && append(authorization_);
    if (!ok) return Error(ErrorCode::kResourceExhausted, "out of memory building request headers");
    return list;
  }

  Result<void> start(Transfer& transfer, Clock::time_point now) {
    const protocol::HttpRequest& request = *transfer.request;
    if (request.method != "POST" && request.method != "GET") {
      return Error(ErrorCode::kInvalidArgument, "unsupported HTTP method " + request.method);
    }
    Result<Slist> headers = build_headers(request);
    if (!headers) return std::move(headers).error();
    transfer.headers = std::move(headers).value();
    transfer.easy = take_easy();
    if (!transfer.easy) return Error(ErrorCode::kResourceExhausted, "could not create a handle");
    transfer.started = now;

    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(transfer.options.deadline - now);
    const TransferOptions& limits = transfer.options;
    CurlOptionSetter set(transfer.easy.get());
    set(CURLOPT_PRIVATE, static_cast<void*>(&transfer));
    set(CURLOPT_ERRORBUFFER, transfer.error_buffer);
    set(CURLOPT_URL, request.url.c_str());
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_CONNECTTIMEOUT_MS, clamp_ms(std::min(limits.connect_timeout, left)));
    set(CURLOPT_TIMEOUT_MS, clamp_ms(std::min(limits.attempt_timeout, left)));
    if (limits.low_speed_bytes > 0 && limits.low_speed_time.count() > 0) {
      set(CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(limits.low_speed_bytes));
      set(CURLOPT_LOW_SPEED_TIME, static_cast<long>(limits.low_speed_time.count()));
    }
    set(CURLOPT_USERAGENT, user_agent_.c_str());
    set(CURLOPT_HTTPHEADER, transfer.headers.get());
    set(CURLOPT_BUFFERSIZE, kReceiveBufferBytes);
    set(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    // Prefer waiting for a multiplexed HTTP/2 stream over opening another connection.
    set(CURLOPT_PIPEWAIT, 1L);
    set(CURLOPT_FOLLOWLOCATION, 1L);
    set(CURLOPT_MAXREDIRS, kMaxRedirects);
    set(CURLOPT_PROTOCOLS_STR, "http,https");
    set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    set(CURLOPT_SSL_VERIFYPEER, 1L);
    set(CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options_.ca_file.empty()) set(CURLOPT_CAINFO, options_.ca_file.c_str());
    set(CURLOPT_HEADERFUNCTION, &on_header);
    set(CURLOPT_HEADERDATA, static_cast<void*>(&transfer));
    set(CURLOPT_WRITEFUNCTION, &on_body);
    set(CURLOPT_WRITEDATA, static_cast<void*>(&transfer));
    set(CURLOPT_NOPROGRESS, 0L);
    set(CURLOPT_XFERINFOFUNCTION, &on_progress);
    set(CURLOPT_XFERINFODATA, static_cast<void*>(&transfer));
    if (request.method == "POST") {
      set(CURLOPT_POST, 1L);
      // The body is sent from its buffer as is: no copy into libcurl.
      set(CURLOPT_POSTFIELDS, static_cast<const void*>(request.body_data()));
      set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body_size()));
    } else {
      set(CURLOPT_HTTPGET, 1L);
    }
    if (!set.ok()) {
      return Error(ErrorCode::kInternal, std::string("libcurl rejected an option: ") +
                                             curl_easy_strerror(set.first_error()));
    }
    if (curl_multi_add_handle(multi_, transfer.easy.get()) != CURLM_OK) {
      return Error(ErrorCode::kInternal, "libcurl could not start the transfer");
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
      finish(std::move(node.mapped()), code);
    }
  }

  void finish(std::unique_ptr<Transfer> transfer, CURLcode code) {
    CURL* easy = transfer->easy.get();
    TransferTimings timings = measure(*transfer);
    if (code == CURLE_OK) {
      long status = 0;
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
      transfer->response.status = static_cast<int>(status);
      timings.bytes_sent = transfer->request->body_size();
      timings.bytes_received = transfer->response.body.size();
      protocol::HttpResponse response = std::move(transfer->response);
      complete(std::move(transfer), std::move(response), timings);
      return;
    }
    Error error = failure(*transfer, code);
    complete(std::move(transfer), std::move(error), timings);
  }

  Error failure(const Transfer& transfer, CURLcode code) const {
    if (transfer.reply_too_large) {
      return Error(ErrorCode::kResourceExhausted, "reply exceeds the limit of " +
                                                      std::to_string(options_.max_reply_bytes) +
                                                      " bytes (ClientOptions::max_reply_bytes)");
    }
    if (code == CURLE_ABORTED_BY_CALLBACK && transfer.cancelled()) {
      return Error(ErrorCode::kCancelled, "request cancelled");
    }
    Error error = error_from_curl(code, transfer.error_buffer, transfer.request->url);
    if (code == CURLE_OPERATION_TIMEDOUT && Clock::now() >= transfer.options.deadline) {
      // Out of time for the whole call, not just this attempt: nothing to retry.
      return Error(ErrorCode::kDeadlineExceeded, "deadline passed: " + error.message());
    }
    return error;
  }

  static TransferTimings measure(const Transfer& transfer) {
    TransferTimings timings;
    timings.queue = std::chrono::duration_cast<std::chrono::microseconds>(transfer.started -
                                                                          transfer.submitted);
    CURL* easy = transfer.easy.get();
    curl_off_t connect = 0, app_connect = 0, pre_transfer = 0, start_transfer = 0, total = 0;
    curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &connect);
    curl_easy_getinfo(easy, CURLINFO_APPCONNECT_TIME_T, &app_connect);
    curl_easy_getinfo(easy, CURLINFO_PRETRANSFER_TIME_T, &pre_transfer);
    curl_easy_getinfo(easy, CURLINFO_STARTTRANSFER_TIME_T, &start_transfer);
    curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &total);
    timings.connect = micros(connect);
    timings.tls = app_connect > 0 ? micros(app_connect - connect) : std::chrono::microseconds(0);
    curl_off_t upload_end = pre_transfer;
    if (transfer.upload_done) {
      upload_end =
          std::max<curl_off_t>(pre_transfer, std::chrono::duration_cast<std::chrono::microseconds>(
                                                 *transfer.upload_done - transfer.started)
                                                 .count());
    }
    if (start_transfer > 0) upload_end = std::min(upload_end, start_transfer);
    timings.upload = micros(upload_end - pre_transfer);
    timings.server_wait =
        start_transfer > 0 ? micros(start_transfer - upload_end) : std::chrono::microseconds(0);
    timings.download =
        start_transfer > 0 ? micros(total - start_transfer) : std::chrono::microseconds(0);
    timings.protocol = protocol_name(easy);
    return timings;
  }

  void complete(std::unique_ptr<Transfer> transfer, Result<protocol::HttpResponse> response,
                TransferTimings timings = {}) {
    if (transfer->options.cancel && transfer->cancel_callback != 0) {
      transfer->options.cancel->remove_callback(transfer->cancel_callback);
    }
    if (transfer->easy) {
      curl_easy_reset(transfer->easy.get());
      if (idle_.size() < kMaxIdleHandles) idle_.push_back(std::move(transfer->easy));
    }
    TransferDone done = std::move(transfer->done);
    transfer.reset();
    done(TransferResult{std::move(response), timings});
  }

  ClientOptions options_;
  std::string user_agent_;
  std::string authorization_;
  std::size_t max_in_flight_ = 1;
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

std::unique_ptr<Transport> make_curl_transport(const ClientOptions& options) {
  return std::make_unique<CurlTransport>(options);
}

}  // namespace rvae::transport
