// The reference endpoint's HTTP side: routes, limits, fault injection and counters around the
// pure handlers of inference.hpp. Built on libmicrohttpd, which stays out of the public header.
//
// Why libmicrohttpd (Debian's libmicrohttpd-dev) rather than cpp-httplib 0.11.4: httplib reads
// all request headers without a cap, inflates gzip bodies and buffers chunked ones before any
// size check, serves a connection per pool thread (idle sockets starve everyone else) and drops
// pipelined requests. libmicrohttpd parses each request inside a fixed per-connection memory
// pool (the header cap), hands the body over incrementally (counted here as it arrives, chunked
// or not, never decoded), times out silent connections, limits their number, and answers
// pipelined requests in order. A thread per connection keeps blocking faults (latency, stalls)
// local to the connection they delay.
#include "rvae/testing/reference_endpoint.hpp"

#include <microhttpd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/try.hpp"
#include "rvae/tensor.hpp"
#include "testing/inference.hpp"
#include "testing/listen_socket.hpp"
#include "testing/oip_infer.hpp"
#include "testing/oip_models.hpp"
#include "testing/stand_in_vae.hpp"

namespace rvae::reference {
namespace {

constexpr const char* kJson = "application/json";
constexpr std::size_t kBodyBlock = std::size_t{1} << 20;

// The service's error body, {"error": "<message>"}; messages may echo request bytes that are not
// valid UTF-8, so invalid sequences are replaced rather than thrown on.
std::string json_error(const std::string& message) {
  return "{\"error\": " +
         nlohmann::json(message).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
         "}";
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

std::optional<std::string> header_of(MHD_Connection* connection, const char* name) {
  const char* value = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, name);
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

// nullopt when absent or not a plain decimal; the maximum when it does not fit.
std::optional<std::uint64_t> content_length_of(MHD_Connection* connection) {
  const std::optional<std::string> text = header_of(connection, "Content-Length");
  if (!text || text->empty() || text->find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  errno = 0;
  const unsigned long long value = std::strtoull(text->c_str(), nullptr, 10);
  if (errno != 0) return std::numeric_limits<std::uint64_t>::max();
  return static_cast<std::uint64_t>(value);
}

std::string too_large_message(std::uint64_t length, std::size_t limit) {
  return "Request body of " + std::to_string(length) + " bytes exceeds the limit of " +
         std::to_string(limit) + " bytes.";
}

// A complete small reply (errors, health, metrics). `close` ends the connection after it, for
// requests whose body is not read.
struct SimpleReply {
  int status = 200;
  std::string body;
  std::string content_type = "text/plain";
  std::string retry_after;
  bool close = false;
};

MHD_Result queue_simple(MHD_Connection* connection, const SimpleReply& reply) {
  MHD_Response* response = MHD_create_response_from_buffer(
      reply.body.size(), const_cast<char*>(reply.body.data()), MHD_RESPMEM_MUST_COPY);
  if (response == nullptr) return MHD_NO;
  MHD_add_response_header(response, "Content-Type", reply.content_type.c_str());
  if (!reply.retry_after.empty()) {
    MHD_add_response_header(response, "Retry-After", reply.retry_after.c_str());
  }
  if (reply.close) MHD_add_response_header(response, "Connection", "close");
  const MHD_Result queued =
      MHD_queue_response(connection, static_cast<unsigned int>(reply.status), response);
  MHD_destroy_response(response);
  return queued;
}

SimpleReply error_reply(int status, const std::string& message, bool close = false) {
  SimpleReply reply;
  reply.status = status;
  reply.body = json_error(message);
  reply.content_type = kJson;
  reply.close = close;
  return reply;
}

// One request's state, from its request line (uri_log) to its completion.
struct RequestState {
  std::string uri;  // as sent: path and raw query
  bool routed = false;
  std::optional<std::string> model;  // inference routes: the model and role
  EndpointRole role = EndpointRole::kDecode;
  bool oip = false;  // the Open Inference Protocol's infer route; `model` is its model name
  std::optional<std::uint64_t> header_length;  // Inference-Header-Content-Length
  std::size_t body_limit = 0;                  // the most body bytes this route reads
  // The body as it arrives, in blocks of kBodyBlock bytes: never more memory than it has bytes,
  // whatever its growth (one buffer grown by doubling would reach twice max_body_bytes).
  std::vector<std::string> blocks;
  std::size_t body_size = 0;
  std::vector<char> body;    // the whole body, joined once it is complete
  InferenceRequest request;  // views into `uri` and `body`, for the handlers
};

// `POST /<model>/(decode|encode)` with "", "/", "/predict" or "/predict/" after it.
bool match_model_route(std::string_view path, std::string* model, EndpointRole* role) {
  if (path.size() < 2 || path[0] != '/') return false;
  const std::size_t slash = path.find('/', 1);
  if (slash == std::string_view::npos || slash == 1) return false;
  std::string_view rest = path.substr(slash + 1);
  EndpointRole which;
  if (rest.substr(0, 6) == "decode") {
    which = EndpointRole::kDecode;
  } else if (rest.substr(0, 6) == "encode") {
    which = EndpointRole::kEncode;
  } else {
    return false;
  }
  rest.remove_prefix(6);
  if (rest != "" && rest != "/" && rest != "/predict" && rest != "/predict/") return false;
  *model = std::string(path.substr(1, slash - 1));
  *role = which;
  return true;
}

bool is_root_route(std::string_view path) {
  return path == "/" || path == "/predict" || path == "/predict/";
}

}  // namespace

struct ReferenceEndpoint::Impl {
  explicit Impl(ReferenceEndpointOptions opts) : options(std::move(opts)) {}

  Result<void> bind_and_serve();
  Result<void> check_options() const;
  MHD_Result on_request(MHD_Connection* connection, const char* url, const char* method,
                        const char* upload_data, std::size_t* upload_size, RequestState& state);
  std::optional<SimpleReply> route(MHD_Connection* connection, const std::string& path,
                                   const std::string& method, RequestState& state);
  std::optional<SimpleReply> route_oip(MHD_Connection* connection, const std::string& path,
                                       const std::string& method, RequestState& state);
  std::optional<SimpleReply> check_upload(MHD_Connection* connection, std::size_t limit);
  Result<InferenceReply> compute(const RequestState& state, const InferenceLimits& limits);
  MHD_Result serve_inference(MHD_Connection* connection, RequestState& state);
  MHD_Result queue_inference_reply(MHD_Connection* connection, InferenceReply reply,
                                   ReplyFault fault, std::shared_ptr<void> token);
  ReplyFault take_reply_fault(bool is_tensor);
  bool wait_for_release();
  void count_request(const std::string& path);
  void acquire_compute_slot();
  void release_compute_slot();

  // libmicrohttpd's callbacks into the endpoint (C entry points: nothing may throw out of them).
  static MHD_Result on_access(void* cls, MHD_Connection* connection, const char* url,
                              const char* method, const char* version, const char* upload_data,
                              std::size_t* upload_size, void** con_cls);
  static ssize_t read_reply(void* cls, std::uint64_t pos, char* buffer, std::size_t max);

  const ReferenceEndpointOptions options;
  MHD_Daemon* daemon = nullptr;
  std::atomic<int> bound_port{-1};
  std::mutex stop_mutex;  // serialises start(), run() binding and stop()

  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  bool started = false;
  bool stopping = false;
  bool daemon_stopped = false;
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
  int computing = 0;
  EndpointStats counters;
  std::set<std::string, std::less<>> loading_models;  // Open Inference Protocol model names
  DType oip_input_datatype = options.oip_input_datatype;
};

namespace {

// Holds one in-flight slot for as long as the reply is being produced or sent.
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

// A reply body produced by libmicrohttpd's content-reader callback, with its fault.
struct ReplyBody {
  std::function<bool()> wait_for_release;  // kStallMidBody: false when the endpoint stops
  Bytes bytes;
  ReplyFault fault = ReplyFault::kNone;
  std::shared_ptr<void> token;
  bool released = false;
};

ssize_t copy_out(ReplyBody& reply, std::uint64_t pos, char* buffer, std::size_t max,
                 std::size_t end) {
  if (pos >= end) return MHD_CONTENT_READER_END_WITH_ERROR;
  const std::size_t n = std::min<std::size_t>(max, end - static_cast<std::size_t>(pos));
  std::memcpy(buffer, reply.bytes.data() + pos, n);
  // The last byte is produced: the request no longer counts as in flight, before the client can
  // have read it (the slot would otherwise end after the client already saw the reply).
  if (pos + n == reply.bytes.size()) reply.token.reset();
  return static_cast<ssize_t>(n);
}

}  // namespace

ssize_t ReferenceEndpoint::Impl::read_reply(void* cls, std::uint64_t pos, char* buffer,
                                            std::size_t max) {
  auto& reply = *static_cast<ReplyBody*>(cls);
  const std::size_t size = reply.bytes.size();
  const std::size_t half = size / 2;
  switch (reply.fault) {
    case ReplyFault::kTruncateBody:   // Declared full length: closing at half cuts it short.
    case ReplyFault::kCloseMidReply:  // Chunked: closing at half leaves out the last chunk.
      return copy_out(reply, pos, buffer, max, half);
    case ReplyFault::kStallMidBody:
      if (pos < half) return copy_out(reply, pos, buffer, max, half);
      if (!reply.released) {
        if (!reply.wait_for_release()) return MHD_CONTENT_READER_END_WITH_ERROR;
        reply.released = true;
      }
      return copy_out(reply, pos, buffer, max, size);
    case ReplyFault::kNone:
    case ReplyFault::kWrongShapeHeader:
    case ReplyFault::kWrongDtypeHeader:
      if (pos >= size) return MHD_CONTENT_READER_END_OF_STREAM;
      return copy_out(reply, pos, buffer, max, size);
  }
  return MHD_CONTENT_READER_END_WITH_ERROR;
}

namespace {

void free_reply(void* cls) {
  delete static_cast<ReplyBody*>(cls);
}

// ---- libmicrohttpd callbacks: C entry points, so nothing may throw out of them.

// Each connection owns the state of its current request: libmicrohttpd reports the end of a
// request only for requests that reached the access handler, but every connection's close.
struct ConnectionContext {
  RequestState request;
};

void on_connection(void*, MHD_Connection*, void** socket_context,
                   MHD_ConnectionNotificationCode code) {
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    *socket_context = new (std::nothrow) ConnectionContext;
  } else {
    delete static_cast<ConnectionContext*>(*socket_context);
    *socket_context = nullptr;
  }
}

void* on_request_line(void*, const char* uri, MHD_Connection* connection) {
  const MHD_ConnectionInfo* info =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  auto* context = info != nullptr ? static_cast<ConnectionContext*>(info->socket_context) : nullptr;
  if (context == nullptr) return nullptr;
  try {
    context->request = RequestState{};  // a new request on this connection
    context->request.uri = uri;
  } catch (...) {
    return nullptr;
  }
  return &context->request;
}

void on_completed(void*, MHD_Connection*, void** con_cls, MHD_RequestTerminationCode) {
  // The body is not needed past its request (the connection may stay open a long while).
  if (auto* state = static_cast<RequestState*>(*con_cls)) *state = RequestState{};
  *con_cls = nullptr;
}

// libmicrohttpd's own diagnostics (malformed requests, closed sockets) are not the endpoint's
// output: tests provoke them on purpose.
void quiet_logger(void*, const char*, va_list) {}

}  // namespace

MHD_Result ReferenceEndpoint::Impl::on_access(void* cls, MHD_Connection* connection,
                                              const char* url, const char* method, const char*,
                                              const char* upload_data, std::size_t* upload_size,
                                              void** con_cls) {
  auto* impl = static_cast<ReferenceEndpoint::Impl*>(cls);
  auto* state = static_cast<RequestState*>(*con_cls);
  if (state == nullptr) return MHD_NO;  // out of memory at the request line
  try {
    return impl->on_request(connection, url, method, upload_data, upload_size, *state);
  } catch (const std::exception& e) {
    return queue_simple(connection,
                        error_reply(500, std::string("Internal error: ") + e.what(), true));
  } catch (...) {
    return queue_simple(connection, error_reply(500, "Internal error: unknown exception", true));
  }
}

void ReferenceEndpoint::Impl::count_request(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex);
  ++counters.total_requests;
  ++counters.per_path[path];
}

void ReferenceEndpoint::Impl::acquire_compute_slot() {
  std::unique_lock<std::mutex> lock(mutex);
  if (computing >= options.worker_threads) {
    ++queued;
    changed.wait(lock, [&] { return computing < options.worker_threads; });
    --queued;
  }
  ++computing;
}

void ReferenceEndpoint::Impl::release_compute_slot() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    --computing;
  }
  changed.notify_all();
}

Result<void> ReferenceEndpoint::Impl::check_options() const {
  if (options.worker_threads < 1) {
    return Error(ErrorCode::kInvalidArgument, "worker_threads must be at least 1, got " +
                                                  std::to_string(options.worker_threads));
  }
  if (options.max_image_side < 8) {
    return Error(ErrorCode::kInvalidArgument, "max_image_side must be at least 8, got " +
                                                  std::to_string(options.max_image_side));
  }
  if (options.max_frames < 0) {
    return Error(ErrorCode::kInvalidArgument, "max_frames must be 0 (no cap) or more, got " +
                                                  std::to_string(options.max_frames));
  }
  if (options.port < 0 || options.port > 65535) {
    return Error(ErrorCode::kInvalidArgument,
                 "port must be 0..65535, got " + std::to_string(options.port));
  }
  if (options.keep_alive_timeout.count() < 0) {
    return Error(ErrorCode::kInvalidArgument, "keep_alive_timeout must not be negative");
  }
  if (options.max_connections < 1) {
    return Error(ErrorCode::kInvalidArgument, "max_connections must be at least 1, got " +
                                                  std::to_string(options.max_connections));
  }
  if (options.max_header_bytes < 1024) {
    return Error(ErrorCode::kInvalidArgument, "max_header_bytes must be at least 1024, got " +
                                                  std::to_string(options.max_header_bytes));
  }
  const DType input = options.oip_input_datatype;
  if (input != DType::kFloat16 && input != DType::kFloat32 && input != DType::kBFloat16) {
    return Error(ErrorCode::kInvalidArgument, "oip_input_datatype must be FP16, FP32 or BF16");
  }
  const DType output = options.oip_decoder_output_datatype;
  if (output != DType::kFloat32 && output != DType::kFloat16 && output != DType::kUInt8) {
    return Error(ErrorCode::kInvalidArgument,
                 "oip_decoder_output_datatype must be FP32, FP16 or UINT8");
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
  return {};
}

Result<void> ReferenceEndpoint::Impl::bind_and_serve() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (started) return Error(ErrorCode::kInternal, "ReferenceEndpoint was already started");
    if (stopping) return Error(ErrorCode::kInternal, "ReferenceEndpoint was stopped");
    started = true;
  }
  Result<void> valid = check_options();
  if (!valid) return valid;
  RVAE_ASSIGN_OR_RETURN(ListenSocket socket, open_listen_socket(options.host, options.port));

  // libmicrohttpd counts the silence timeout in whole seconds, and 0 would mean never.
  const auto timeout = static_cast<unsigned int>(
      std::max<std::chrono::seconds::rep>(1, options.keep_alive_timeout.count()));
  unsigned int flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                       MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
  if (socket.ipv6) flags |= MHD_USE_IPv6;
  daemon = MHD_start_daemon(
      flags, 0, nullptr, nullptr, &Impl::on_access, this,                               //
      MHD_OPTION_LISTEN_SOCKET, static_cast<MHD_socket>(socket.fd),                     //
      MHD_OPTION_URI_LOG_CALLBACK, &on_request_line, this,                              //
      MHD_OPTION_NOTIFY_COMPLETED, &on_completed, this,                                 //
      MHD_OPTION_NOTIFY_CONNECTION, &on_connection, this,                               //
      MHD_OPTION_CONNECTION_TIMEOUT, timeout,                                           //
      MHD_OPTION_CONNECTION_LIMIT, static_cast<unsigned int>(options.max_connections),  //
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<std::size_t>(options.max_header_bytes),
      MHD_OPTION_EXTERNAL_LOGGER, &quiet_logger, nullptr,  //
      MHD_OPTION_END);
  if (daemon == nullptr) {
    close_listen_socket(socket);
    return Error(ErrorCode::kUnavailable, "libmicrohttpd could not start serving " + options.host +
                                              ":" + std::to_string(socket.port));
  }
  bound_port = socket.port;
  return {};
}

std::optional<SimpleReply> ReferenceEndpoint::Impl::route(MHD_Connection* connection,
                                                          const std::string& path,
                                                          const std::string& method,
                                                          RequestState& state) {
  if (path == "/v2" || path.rfind("/v2/", 0) == 0)
    return route_oip(connection, path, method, state);
  if (method == "GET" || method == "HEAD") {
    SimpleReply reply;
    if (path == "/" || path == "/health") {
      reply.body = "Ok";
      return reply;
    }
    if (path == "/metrics") {
      std::lock_guard<std::mutex> lock(mutex);
      reply.body = "inf_batch_current_size " + std::to_string(in_flight) + "\ninf_queue_size " +
                   std::to_string(queued) + "\n";
      return reply;
    }
  }
  // Replies queued before the body is read make libmicrohttpd discard the body and close the
  // connection; `close` says so explicitly where a body is certain.
  if (method != "POST") return error_reply(404, "Not Found: " + method + " " + path);
  std::string model;
  EndpointRole role = EndpointRole::kDecode;
  if (is_root_route(path)) {
    if (!options.root) {
      return error_reply(
          404, "No model is bound to " + path + "; use /<model>/decode/ or /<model>/encode/.");
    }
    model = options.root->model;
    role = options.root->role;
  } else if (!match_model_route(path, &model, &role)) {
    return error_reply(404, "Not Found: " + method + " " + path);
  }
  const StandInVae* vae = find_stand_in_vae(model);
  if (vae == nullptr) {
    std::string known;
    for (const StandInVae& served : stand_in_vaes())
      known += (known.empty() ? "" : ", ") + served.name;
    return error_reply(404, "Unknown model `" + model + "`; this endpoint serves " + known + ".");
  }
  if (role == EndpointRole::kEncode && !vae->can_encode) {
    return error_reply(404, "Model `" + model + "` has no encode endpoint.");
  }
  if (std::optional<SimpleReply> refused = check_upload(connection, options.max_body_bytes)) {
    return refused;
  }
  state.model = std::move(model);
  state.role = role;
  state.body_limit = options.max_body_bytes;
  return std::nullopt;
}

// Refused before a body byte is read (with "Expect: 100-continue", before one is sent): the
// service takes no compressed bodies (inflating one would defeat the size limit), and none
// larger than `limit`.
std::optional<SimpleReply> ReferenceEndpoint::Impl::check_upload(MHD_Connection* connection,
                                                                 std::size_t limit) {
  if (const std::optional<std::string> encoding = header_of(connection, "Content-Encoding")) {
    if (*encoding != "identity") {
      return error_reply(
          415, "Content-Encoding `" + *encoding + "` is not supported; send the body uncompressed.",
          true);
    }
  }
  const std::optional<std::uint64_t> length = content_length_of(connection);
  if (length && *length > limit) return error_reply(413, too_large_message(*length, limit), true);
  return std::nullopt;
}

// The /v2 routes (PROTOCOL.md §8). Health and metadata answer at once; infer waits for its body.
std::optional<SimpleReply> ReferenceEndpoint::Impl::route_oip(MHD_Connection* connection,
                                                              const std::string& path,
                                                              const std::string& method,
                                                              RequestState& state) {
  const bool post = method == "POST";
  const std::optional<OipRoute> route = match_oip_route(path);
  if (!route) return error_reply(404, "Not Found: " + method + " " + path, post);
  const bool infer = route->kind == OipRoute::Kind::kInfer;
  if (infer ? !post : (method != "GET" && method != "HEAD")) {
    return error_reply(405, "Method Not Allowed: " + method + " " + path, post);
  }
  if (route->kind == OipRoute::Kind::kServerReady || route->kind == OipRoute::Kind::kServerLive) {
    return SimpleReply{};  // 200, empty body: clients read only the status
  }
  const std::optional<OipModel> model = find_oip_model(route->model);
  if (!model || (route->version && *route->version != "1")) {
    return error_reply(404, unknown_model_message(route->model, route->version), post);
  }
  OipDatatypes datatypes;
  datatypes.decoder_output = options.oip_decoder_output_datatype;
  bool loading = false;
  {
    std::lock_guard<std::mutex> lock(mutex);
    loading = loading_models.count(model->name) > 0;
    datatypes.input = oip_input_datatype;
  }
  if (loading) {
    // Triton: a model that is not loaded is not ready (400) and unknown to the other routes.
    const int status = route->kind == OipRoute::Kind::kModelReady ? 400 : 404;
    return error_reply(status, unavailable_model_message(model->name), post);
  }
  if (route->kind == OipRoute::Kind::kModelReady) return SimpleReply{};
  if (route->kind == OipRoute::Kind::kMetadata) {
    SimpleReply reply;
    reply.body = oip_metadata_json(*model, datatypes);
    reply.content_type = kJson;
    return reply;
  }
  // Binary form with its header length, or the JSON form under its far smaller cap.
  if (const std::optional<std::string> text =
          header_of(connection, "Inference-Header-Content-Length")) {
    if (text->empty() || text->size() > 19 ||
        text->find_first_not_of("0123456789") != std::string::npos) {
      return error_reply(
          400, "Inference-Header-Content-Length must be a decimal number, got `" + *text + "`",
          true);
    }
    state.header_length = std::stoull(*text);
  }
  state.body_limit = state.header_length ? options.max_body_bytes : options.max_json_body_bytes;
  if (std::optional<SimpleReply> refused = check_upload(connection, state.body_limit)) {
    return refused;
  }
  state.oip = true;
  state.model = model->name;
  return std::nullopt;
}

MHD_Result ReferenceEndpoint::Impl::on_request(MHD_Connection* connection, const char* url,
                                               const char* method, const char* upload_data,
                                               std::size_t* upload_size, RequestState& state) {
  if (!state.routed) {
    state.routed = true;
    const std::string path = url != nullptr ? url : "/";
    count_request(path);
    std::optional<SimpleReply> early = route(connection, path, method, state);
    if (early) return queue_simple(connection, *early);
    return MHD_YES;  // Wait for the body (libmicrohttpd sends "100 Continue" when asked).
  }
  if (*upload_size > 0) {
    // Counted as it arrives, whatever the framing. libmicrohttpd cannot send a reply mid-upload,
    // so a body that outgrows the limit ends the connection.
    if (*upload_size > state.body_limit - state.body_size) return MHD_NO;
    const char* data = upload_data;
    std::size_t left = *upload_size;
    while (left > 0) {
      if (state.blocks.empty() || state.blocks.back().size() == kBodyBlock) {
        state.blocks.emplace_back();
      }
      std::string& block = state.blocks.back();
      const std::size_t n = std::min(left, kBodyBlock - block.size());
      block.append(data, n);
      data += n;
      left -= n;
    }
    state.body_size += *upload_size;
    *upload_size = 0;
    return MHD_YES;
  }
  state.body.reserve(state.body_size);
  for (std::string& block : state.blocks) {
    state.body.insert(state.body.end(), block.begin(), block.end());
    std::string().swap(block);
  }
  state.blocks.clear();
  return serve_inference(connection, state);
}

MHD_Result ReferenceEndpoint::Impl::serve_inference(MHD_Connection* connection,
                                                    RequestState& state) {
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
      SimpleReply reply = error_reply(fail_status, fail_message);
      reply.retry_after = fail_retry_after;
      lock.unlock();
      return queue_simple(connection, reply);
    }
    ++in_flight;
    token = std::make_shared<InflightToken>(mutex, in_flight);
  }

  InferenceRequest request;
  request.content_type = header_of(connection, "Content-Type");
  request.accept = header_of(connection, "Accept");
  request.raw_query = raw_query_of(state.uri);
  request.body = std::string_view(state.body.data(), state.body.size());
  state.request = std::move(request);
  InferenceLimits limits;
  limits.max_image_side = options.max_image_side;
  limits.max_body_bytes = options.max_body_bytes;
  limits.max_reply_bytes = options.max_reply_bytes;
  limits.spatial_context = options.spatial_context;
  limits.max_frames = options.max_frames;
  acquire_compute_slot();
  Result<InferenceReply> reply = Error(ErrorCode::kInternal, "not run");
  try {
    reply = compute(state, limits);
  } catch (...) {
    release_compute_slot();
    throw;
  }
  release_compute_slot();
  state.body = std::vector<char>();  // Not needed while the reply is sent.
  if (!reply) {
    const int status = reply.error().code() == ErrorCode::kInvalidArgument ? 400 : 500;
    return queue_simple(connection, error_reply(status, reply.error().message()));
  }
  const ReplyFault fault = take_reply_fault(reply->is_tensor);
  return queue_inference_reply(connection, std::move(reply).value(), fault, std::move(token));
}

Result<InferenceReply> ReferenceEndpoint::Impl::compute(const RequestState& state,
                                                        const InferenceLimits& limits) {
  if (state.oip) {
    const std::optional<OipModel> model = find_oip_model(*state.model);
    OipDatatypes datatypes;
    datatypes.decoder_output = options.oip_decoder_output_datatype;
    {
      std::lock_guard<std::mutex> lock(mutex);
      datatypes.input = oip_input_datatype;
    }
    OipParseLimits parse_limits;
    parse_limits.max_json_header_bytes = options.max_json_header_bytes;
    parse_limits.max_json_body_bytes = options.max_json_body_bytes;
    return run_oip_infer(*model, datatypes, state.request.body, state.header_length, limits,
                         parse_limits);
  }
  const StandInVae* vae = find_stand_in_vae(*state.model);
  return state.role == EndpointRole::kDecode ? run_decode(*vae, state.request, limits)
                                             : run_encode(*vae, state.request, limits);
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

MHD_Result ReferenceEndpoint::Impl::queue_inference_reply(MHD_Connection* connection,
                                                          InferenceReply reply, ReplyFault fault,
                                                          std::shared_ptr<void> token) {
  auto body = std::make_unique<ReplyBody>();
  body->wait_for_release = [this] { return wait_for_release(); };
  body->fault = fault;
  body->token = std::move(token);
  body->bytes = std::move(reply.body);
  // A chunked reply is what lets kCloseMidReply end without the terminating chunk.
  const std::uint64_t size =
      fault == ReplyFault::kCloseMidReply ? MHD_SIZE_UNKNOWN : body->bytes.size();
  MHD_Response* response = MHD_create_response_from_callback(size, 64 * 1024, &Impl::read_reply,
                                                             body.get(), &free_reply);
  if (response == nullptr) return MHD_NO;
  body.release();  // Owned by the response now (free_reply).
  MHD_add_response_header(response, "Content-Type", reply.content_type.c_str());
  for (const auto& [name, value] : reply.headers)
    MHD_add_response_header(response, name.c_str(), value.c_str());
  if (reply.is_tensor) {
    Shape shape = reply.shape;
    if (fault == ReplyFault::kWrongShapeHeader) shape.back() += 1;
    const DType dtype =
        fault == ReplyFault::kWrongDtypeHeader ? wrong_dtype(reply.dtype) : reply.dtype;
    MHD_add_response_header(response, "shape", shape_to_string(shape).c_str());
    MHD_add_response_header(response, "dtype", std::string(dtype_name(dtype)).c_str());
  }
  const MHD_Result result = MHD_queue_response(connection, MHD_HTTP_OK, response);
  MHD_destroy_response(response);
  return result;
}

// ---- ReferenceEndpoint

ReferenceEndpoint::ReferenceEndpoint(ReferenceEndpointOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

ReferenceEndpoint::~ReferenceEndpoint() {
  stop();
}

Result<void> ReferenceEndpoint::start() {
  std::lock_guard<std::mutex> lifecycle(impl_->stop_mutex);
  return impl_->bind_and_serve();
}

Result<void> ReferenceEndpoint::run() {
  {
    std::lock_guard<std::mutex> lifecycle(impl_->stop_mutex);
    Result<void> serving = impl_->bind_and_serve();
    if (!serving) return serving;
  }
  // libmicrohttpd serves from its own threads; this thread only waits for stop().
  std::unique_lock<std::mutex> lock(impl_->mutex);
  impl_->changed.wait(lock, [&] { return impl_->daemon_stopped; });
  return {};
}

void ReferenceEndpoint::stop() {
  std::lock_guard<std::mutex> stop_lock(impl_->stop_mutex);
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stopping = true;
  }
  // Releases stalled and delayed replies, whose threads MHD_stop_daemon joins.
  impl_->changed.notify_all();
  if (impl_->daemon != nullptr) {
    MHD_stop_daemon(impl_->daemon);  // Also closes the listening socket.
    impl_->daemon = nullptr;
  }
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->daemon_stopped = true;
  }
  impl_->changed.notify_all();
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

void ReferenceEndpoint::set_model_loading(std::string_view model, bool loading) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (loading) {
    impl_->loading_models.emplace(model);
  } else if (const auto it = impl_->loading_models.find(model); it != impl_->loading_models.end()) {
    impl_->loading_models.erase(it);
  }
}

Result<void> ReferenceEndpoint::set_input_datatype(DType dtype) {
  if (dtype != DType::kFloat16 && dtype != DType::kFloat32 && dtype != DType::kBFloat16) {
    return Error(ErrorCode::kInvalidArgument, "an input datatype must be FP16, FP32 or BF16");
  }
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->oip_input_datatype = dtype;
  return {};
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
    impl_->loading_models.clear();
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

}  // namespace rvae::reference
