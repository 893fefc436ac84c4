// The reference endpoint's HTTP side: routes, fault injection and counters around the pure
// handlers of inference.hpp. Built on cpp-httplib, which stays out of the public header.
#include "rvae/testing/reference_endpoint.hpp"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "rvae/tensor.hpp"
#include "testing/inference.hpp"
#include "testing/stand_in_vae.hpp"

namespace rvae::testing {
namespace {

constexpr const char* kJson = "application/json";

// The service's error body, {"error": "<message>"}; messages may echo request bytes that are not
// valid UTF-8, so invalid sequences are replaced rather than thrown on.
std::string json_error(const std::string& message) {
  return "{\"error\": " +
         nlohmann::json(message).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
         "}";
}

void reply_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(json_error(message), kJson);
}

std::optional<std::string> header_of(const httplib::Request& req, const char* name) {
  if (!req.has_header(name)) return std::nullopt;
  return req.get_header_value(name);
}

// A different dtype with a different element size, so a client trusting the header misreads the
// body length.
DType wrong_dtype(DType dtype) {
  switch (dtype) {
    case DType::kUInt8:
      return DType::kFloat16;
    case DType::kFloat16:
    case DType::kBFloat16:
      return DType::kFloat32;
    case DType::kFloat32:
      return DType::kFloat16;
  }
  return DType::kFloat32;
}

std::optional<std::uint64_t> content_length_of(const httplib::Request& req) {
  if (!req.has_header("Content-Length")) return std::nullopt;
  const std::string text = req.get_header_value("Content-Length");
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  errno = 0;
  const unsigned long long value = std::strtoull(text.c_str(), nullptr, 10);
  if (errno != 0) return std::numeric_limits<std::uint64_t>::max();
  return static_cast<std::uint64_t>(value);
}

constexpr const char* kModelNames[] = {"sd15", "sdxl", "flux", "hunyuan-video"};

}  // namespace

struct ReferenceEndpoint::Impl {
  explicit Impl(ReferenceEndpointOptions opts) : options(std::move(opts)) {}

  Result<void> bind();
  void install_handlers();
  void handle_model_route(const httplib::Request& req, httplib::Response& res,
                          const std::string& model, EndpointRole role);
  void serve_inference(const httplib::Request& req, httplib::Response& res, const StandInVae& vae,
                       EndpointRole role);
  void send_reply(httplib::Response& res, InferenceReply reply, ReplyFault fault,
                  std::shared_ptr<void> token);
  ReplyFault take_reply_fault(bool is_tensor);
  bool wait_for_release();
  void count_request(const std::string& path);

  const ReferenceEndpointOptions options;
  httplib::Server server;
  std::thread thread;
  std::atomic<int> bound_port{-1};
  int listen_socket = -1;  // The bound socket, to raise its backlog after httplib listens.
  std::atomic<bool> listen_finished{false};
  std::atomic<bool> run_active{false};
  std::mutex stop_mutex;  // serialises start() and stop() (the thread is joined once)

  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  bool started = false;
  bool stopping = false;
  std::chrono::milliseconds latency{0};
  int fail_remaining = 0;
  int fail_status = 503;
  std::string fail_retry_after;
  std::string fail_message;
  ReplyFault reply_fault = ReplyFault::kNone;
  int reply_fault_remaining = 0;
  std::uint64_t release_epoch = 0;
  std::size_t stalled = 0;
  std::size_t queued = 0;
  std::size_t in_flight = 0;
  EndpointStats counters;
};

namespace {

// Holds one in-flight slot for as long as the reply is being produced or sent: the content
// provider owns it, so it ends when httplib has written (or abandoned) the body.
struct InflightToken {
  explicit InflightToken(std::mutex& m, std::size_t& count) : mutex(m), in_flight(count) {}
  ~InflightToken() {
    std::lock_guard<std::mutex> lock(mutex);
    --in_flight;
  }
  InflightToken(const InflightToken&) = delete;
  InflightToken& operator=(const InflightToken&) = delete;
  std::mutex& mutex;
  std::size_t& in_flight;
};

}  // namespace

void ReferenceEndpoint::Impl::count_request(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex);
  ++counters.total_requests;
  ++counters.per_path[path];
}

Result<void> ReferenceEndpoint::Impl::bind() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (started) return Error(ErrorCode::kInternal, "ReferenceEndpoint was already started");
    if (stopping) return Error(ErrorCode::kInternal, "ReferenceEndpoint was stopped");
    started = true;
  }
  if (options.worker_threads < 1) {
    return Error(ErrorCode::kInvalidArgument, "worker_threads must be at least 1, got " +
                                                  std::to_string(options.worker_threads));
  }
  if (options.max_image_side < 8) {
    return Error(ErrorCode::kInvalidArgument, "max_image_side must be at least 8, got " +
                                                  std::to_string(options.max_image_side));
  }
  if (options.port < 0 || options.port > 65535) {
    return Error(ErrorCode::kInvalidArgument,
                 "port must be 0..65535, got " + std::to_string(options.port));
  }
  if (options.keep_alive_timeout.count() < 0) {
    return Error(ErrorCode::kInvalidArgument, "keep_alive_timeout must not be negative");
  }
  if (options.root) {
    const StandInVae* vae = find_stand_in_vae(options.root->model);
    if (vae == nullptr) {
      return Error(ErrorCode::kInvalidArgument,
                   "root binding names unknown model '" + options.root->model + "'");
    }
    if (options.root->role == EndpointRole::kEncode && !vae->can_encode) {
      return Error(ErrorCode::kInvalidArgument,
                   "root binding: model '" + options.root->model + "' has no encoder");
    }
  }
  install_handlers();
  // httplib's default also sets SO_REUSEPORT, which would let a second endpoint bind a port that
  // is already serving; SO_REUSEADDR alone still allows quick restarts.
  server.set_socket_options([this](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, reinterpret_cast<const void*>(&yes), sizeof(yes));
    listen_socket = sock;
  });
  int port = -1;
  if (options.port == 0) {
    port = server.bind_to_any_port(options.host);
  } else if (server.bind_to_port(options.host, options.port)) {
    port = options.port;
  }
  if (port <= 0) {
    return Error(ErrorCode::kUnavailable,
                 "cannot bind " + options.host + ":" + std::to_string(options.port));
  }
  // httplib listens with a backlog of 5: a burst of new connections (a client opening K at once)
  // would see SYNs dropped and retried a second later. Linux lets a second listen() raise it.
  if (listen_socket >= 0) ::listen(listen_socket, SOMAXCONN);
  bound_port = port;
  return {};
}

void ReferenceEndpoint::Impl::install_handlers() {
  const auto threads = static_cast<std::size_t>(options.worker_threads);
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_payload_max_length(options.max_body_bytes);
  server.set_keep_alive_timeout(static_cast<time_t>(options.keep_alive_timeout.count()));
  // httplib closes a connection after 5 requests by default; real endpoints keep it open.
  server.set_keep_alive_max_count(100'000);
  // httplib writes headers and body separately; without TCP_NODELAY, Nagle's algorithm holds
  // the body until the client's delayed ACK (~40 ms), which swamps any latency measurement.
  server.set_tcp_nodelay(true);

  server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response&) {
    count_request(req.path);
    return httplib::Server::HandlerResponse::Unhandled;
  });

  // A client that waits for "100 Continue" is refused before it uploads an oversized body.
  server.set_expect_100_continue_handler([this](const httplib::Request& req,
                                                httplib::Response& res) {
    const std::optional<std::uint64_t> length = content_length_of(req);
    if (length && *length > options.max_body_bytes) {
      count_request(req.path);
      reply_error(res, 413,
                  "Request body of " + std::to_string(*length) + " bytes exceeds the limit of " +
                      std::to_string(options.max_body_bytes) + " bytes.");
      res.set_header("Connection", "close");
      return 413;
    }
    return 100;
  });

  // Statuses httplib produces itself (404, 413, 400 for unreadable requests) get JSON bodies too.
  server.set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty() || res.content_length_ > 0) {
          return httplib::Server::HandlerResponse::Unhandled;
        }
        const std::optional<std::uint64_t> length = content_length_of(req);
        std::string message;
        if (res.status == 404) {
          message = "Not Found: " + req.method + " " + req.path;
        } else if (res.status == 413 && length && *length > options.max_body_bytes) {
          message = "Request body of " + std::to_string(*length) + " bytes exceeds the limit of " +
                    std::to_string(options.max_body_bytes) + " bytes.";
        } else if (res.status == 413) {
          // httplib caps url-encoded form bodies on its own; the service would refuse the type.
          res.status = 400;
          message =
              "Content-Type `" + req.get_header_value("Content-Type") + "` is not supported here.";
        } else {
          message = "HTTP " + std::to_string(res.status) + " for " + req.method + " " + req.path;
        }
        res.set_content(json_error(message), kJson);
        return httplib::Server::HandlerResponse::Handled;
      }));

  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr error) {
        std::string what = "unknown exception";
        try {
          if (error) std::rethrow_exception(error);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        reply_error(res, 500, "Internal error: " + what);
      });

  auto ok = [](const httplib::Request&, httplib::Response& res) {
    res.set_content("Ok", "text/plain");
  };
  server.Get("/", ok);
  server.Get("/health", ok);
  server.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    std::size_t batch = 0;
    std::size_t queue = 0;
    {
      std::lock_guard<std::mutex> lock(mutex);
      batch = in_flight;
      queue = queued;
    }
    res.set_content("inf_batch_current_size " + std::to_string(batch) + "\ninf_queue_size " +
                        std::to_string(queue) + "\n",
                    "text/plain");
  });
  server.Post(R"(/(predict/?)?)", [this](const httplib::Request& req, httplib::Response& res) {
    if (!options.root) {
      reply_error(
          res, 404,
          "No model is bound to " + req.path + "; use /<model>/decode/ or /<model>/encode/.");
      return;
    }
    handle_model_route(req, res, options.root->model, options.root->role);
  });
  server.Post(R"(/([^/]+)/(decode|encode)(/|/predict/?)?)",
              [this](const httplib::Request& req, httplib::Response& res) {
                const EndpointRole role =
                    req.matches[2] == "decode" ? EndpointRole::kDecode : EndpointRole::kEncode;
                handle_model_route(req, res, req.matches[1], role);
              });
}

void ReferenceEndpoint::Impl::handle_model_route(const httplib::Request& req,
                                                 httplib::Response& res, const std::string& model,
                                                 EndpointRole role) {
  const StandInVae* vae = find_stand_in_vae(model);
  if (vae == nullptr) {
    std::string known;
    for (const char* name : kModelNames)
      known += (known.empty() ? "" : ", ") + std::string(name);
    reply_error(res, 404, "Unknown model `" + model + "`; this endpoint serves " + known + ".");
    return;
  }
  if (role == EndpointRole::kEncode && !vae->can_encode) {
    reply_error(res, 404, "Model `" + model + "` has no encode endpoint.");
    return;
  }
  serve_inference(req, res, *vae, role);
}

void ReferenceEndpoint::Impl::serve_inference(const httplib::Request& req, httplib::Response& res,
                                              const StandInVae& vae, EndpointRole role) {
  std::shared_ptr<InflightToken> token;
  {
    std::unique_lock<std::mutex> lock(mutex);
    ++counters.inference_requests;
    const std::chrono::milliseconds delay = latency;
    if (delay.count() > 0) {
      // clear_faults() and stop() cut the delay short.
      const std::uint64_t epoch = release_epoch;
      ++queued;
      changed.wait_for(lock, delay, [&] { return stopping || release_epoch != epoch; });
      --queued;
    }
    if (fail_remaining > 0) {
      --fail_remaining;
      ++counters.failed_by_injection;
      const int status = fail_status;
      const std::string retry_after = fail_retry_after;
      const std::string message = fail_message;
      lock.unlock();
      if (!retry_after.empty()) res.set_header("Retry-After", retry_after);
      reply_error(res, status, message);
      return;
    }
    ++in_flight;
    token = std::make_shared<InflightToken>(mutex, in_flight);
  }

  InferenceRequest request;
  request.content_type = header_of(req, "Content-Type");
  request.accept = header_of(req, "Accept");
  request.raw_query = raw_query_of(req.target);
  request.body = req.body;
  InferenceLimits limits;
  limits.max_image_side = options.max_image_side;
  limits.max_body_bytes = options.max_body_bytes;
  limits.max_reply_bytes = options.max_reply_bytes;
  limits.spatial_context = options.spatial_context;
  Result<InferenceReply> reply = role == EndpointRole::kDecode ? run_decode(vae, request, limits)
                                                               : run_encode(vae, request, limits);
  if (!reply) {
    const int status = reply.error().code() == ErrorCode::kInvalidArgument ? 400 : 500;
    reply_error(res, status, reply.error().message());
    return;
  }
  const ReplyFault fault = take_reply_fault(reply->is_tensor);
  send_reply(res, std::move(reply).value(), fault, std::move(token));
}

ReplyFault ReferenceEndpoint::Impl::take_reply_fault(bool is_tensor) {
  std::lock_guard<std::mutex> lock(mutex);
  if (reply_fault == ReplyFault::kNone || reply_fault_remaining == 0) return ReplyFault::kNone;
  const bool header_fault =
      reply_fault == ReplyFault::kWrongShapeHeader || reply_fault == ReplyFault::kWrongDtypeHeader;
  if (header_fault && !is_tensor) return ReplyFault::kNone;  // Images carry no such headers.
  const ReplyFault fault = reply_fault;
  if (reply_fault_remaining > 0 && --reply_fault_remaining == 0) reply_fault = ReplyFault::kNone;
  ++counters.faulted_replies;
  return fault;
}

bool ReferenceEndpoint::Impl::wait_for_release() {
  std::unique_lock<std::mutex> lock(mutex);
  const std::uint64_t epoch = release_epoch;
  ++stalled;
  changed.notify_all();
  changed.wait(lock, [&] { return stopping || release_epoch != epoch; });
  --stalled;
  return !stopping;
}

void ReferenceEndpoint::Impl::send_reply(httplib::Response& res, InferenceReply reply,
                                         ReplyFault fault, std::shared_ptr<void> token) {
  res.status = 200;
  if (reply.is_tensor) {
    Shape shape = reply.shape;
    if (fault == ReplyFault::kWrongShapeHeader) shape.back() += 1;
    const DType dtype =
        fault == ReplyFault::kWrongDtypeHeader ? wrong_dtype(reply.dtype) : reply.dtype;
    res.set_header("shape", shape_to_string(shape));
    res.set_header("dtype", std::string(dtype_name(dtype)));
  }
  auto body = std::make_shared<const Bytes>(std::move(reply.body));
  const std::size_t size = body->size();
  const std::size_t half = size / 2;
  auto bytes_at = [body](std::size_t offset) {
    return reinterpret_cast<const char*>(body->data()) + offset;
  };

  switch (fault) {
    case ReplyFault::kTruncateBody:
      res.set_content_provider(
          size, reply.content_type,
          [bytes_at, half, token](std::size_t offset, std::size_t, httplib::DataSink& sink) {
            if (offset >= half) return false;  // Closes the connection short of Content-Length.
            return sink.write(bytes_at(offset), half - offset);
          });
      return;
    case ReplyFault::kCloseMidReply:
      res.set_chunked_content_provider(
          reply.content_type, [bytes_at, half, token](std::size_t offset, httplib::DataSink& sink) {
            if (offset >= half) return false;  // No terminating chunk.
            return sink.write(bytes_at(offset), half - offset);
          });
      return;
    case ReplyFault::kStallMidBody: {
      auto released = std::make_shared<bool>(false);
      res.set_content_provider(
          size, reply.content_type,
          [this, bytes_at, half, token, released](std::size_t offset, std::size_t length,
                                                  httplib::DataSink& sink) {
            if (offset < half) return sink.write(bytes_at(offset), half - offset);
            if (!*released) {
              if (!wait_for_release()) return false;
              *released = true;
            }
            return sink.write(bytes_at(offset), length);
          });
      return;
    }
    case ReplyFault::kNone:
    case ReplyFault::kWrongShapeHeader:
    case ReplyFault::kWrongDtypeHeader:
      res.set_content_provider(
          size, reply.content_type,
          [bytes_at, token](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
            return sink.write(bytes_at(offset), length);
          });
      return;
  }
}

// ---- ReferenceEndpoint

ReferenceEndpoint::ReferenceEndpoint(ReferenceEndpointOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

ReferenceEndpoint::~ReferenceEndpoint() {
  stop();
}

Result<void> ReferenceEndpoint::start() {
  // Held until the accept loop runs, so a concurrent stop() waits and then stops it.
  std::lock_guard<std::mutex> lifecycle(impl_->stop_mutex);
  Result<void> bound = impl_->bind();
  if (!bound) return bound;
  Impl* impl = impl_.get();
  impl->thread = std::thread([impl] {
    impl->server.listen_after_bind();
    impl->listen_finished = true;
  });
  // httplib's stop() does nothing until the accept loop runs, so wait for it: stop() must work
  // right after start() returns.
  while (!impl->server.is_running() && !impl->listen_finished)
    std::this_thread::yield();
  if (!impl->server.is_running()) {
    impl->thread.join();
    return Error(ErrorCode::kUnavailable, "the server's accept loop ended at once");
  }
  return {};
}

Result<void> ReferenceEndpoint::run() {
  Result<void> bound = impl_->bind();
  if (!bound) return bound;
  impl_->run_active = true;
  bool stop_requested = false;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    stop_requested = impl_->stopping;
  }
  if (!stop_requested) impl_->server.listen_after_bind();
  impl_->run_active = false;
  return {};
}

void ReferenceEndpoint::stop() {
  std::lock_guard<std::mutex> stop_lock(impl_->stop_mutex);
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->changed.notify_all();
  // A run() between bind and its accept loop: wait for the loop so httplib's stop() takes effect.
  while (impl_->run_active && !impl_->server.is_running())
    std::this_thread::yield();
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

int ReferenceEndpoint::port() const noexcept {
  return impl_->bound_port;
}

std::string ReferenceEndpoint::url(std::string_view path) const {
  return "http://" + impl_->options.host + ":" + std::to_string(impl_->bound_port.load()) +
         std::string(path);
}

void ReferenceEndpoint::set_latency(std::chrono::milliseconds latency) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->latency = latency;
}

void ReferenceEndpoint::fail_next(int count, int status, std::string retry_after,
                                  std::string message) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->fail_remaining = std::max(count, 0);
  impl_->fail_status = status;
  impl_->fail_retry_after = std::move(retry_after);
  impl_->fail_message = std::move(message);
}

void ReferenceEndpoint::set_reply_fault(ReplyFault fault, int count) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->reply_fault = count == 0 ? ReplyFault::kNone : fault;
  impl_->reply_fault_remaining = count;
}

void ReferenceEndpoint::release_stalled() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    ++impl_->release_epoch;
  }
  impl_->changed.notify_all();
}

void ReferenceEndpoint::clear_faults() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->latency = std::chrono::milliseconds(0);
    impl_->fail_remaining = 0;
    impl_->reply_fault = ReplyFault::kNone;
    impl_->reply_fault_remaining = 0;
    ++impl_->release_epoch;
  }
  impl_->changed.notify_all();
}

std::size_t ReferenceEndpoint::stalled_replies() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->stalled;
}

bool ReferenceEndpoint::wait_until_stalled(std::size_t count,
                                           std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(impl_->mutex);
  return impl_->changed.wait_for(lock, timeout, [&] { return impl_->stalled >= count; });
}

EndpointStats ReferenceEndpoint::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->counters;
}

std::uint64_t ReferenceEndpoint::total_requests() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->counters.total_requests;
}

std::uint64_t ReferenceEndpoint::requests_for(std::string_view path) const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  const auto it = impl_->counters.per_path.find(std::string(path));
  return it == impl_->counters.per_path.end() ? 0 : it->second;
}

}  // namespace rvae::testing
