#include "api/engine.hpp"

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "api/open_inference_calls.hpp"
#include "api/pending_call.hpp"
#include "api/reply_streamer.hpp"
#include "api/streamed_decode.hpp"
#include "api/streamed_decode_sink.hpp"
#include "api/token_source.hpp"
#include "core/try.hpp"
#include "protocol/protocol.hpp"

namespace rvae::detail {

using transport::Clock;

namespace {

// Parsing replies and running callbacks; decoding a large JPEG may use a second thread of its
// own (ClientOptions::decode_threads).
constexpr std::size_t kWorkerThreads = 2;
// Buffers kept for reuse: enough for every transfer of a busy client to receive into one whose
// pages are already mapped, bounded so an idle client does not pin much memory.
constexpr std::size_t kMaxPooledBuffers = 32;
constexpr std::size_t kMaxPooledBytes = std::size_t{256} << 20;
constexpr std::size_t kMaxPooledLatents = 8;
constexpr std::size_t kMaxPooledLatentBytes = std::size_t{64} << 20;

// The token is looked up once, when the Client is made.
ScopedToken client_token(const ClientOptions& options) {
  if (!options.token.empty()) return {options.token, TokenScope::kAnyEndpoint};
  if (options.token_from_environment) return find_token({}, process_env());
  return {};
}

ClientOptions with_token(ClientOptions options, const ScopedToken& token) {
  options.token = token.token;
  return options;
}

transport::TransportConfig transport_config(const ClientOptions& options,
                                            std::shared_ptr<BufferPool> buffers) {
  transport::TransportConfig config;
  config.user_agent = options.user_agent;
  config.token = options.token;
  config.max_in_flight = options.max_in_flight;
  config.max_reply_bytes = options.max_reply_bytes;
  config.ca_file = options.ca_file;
  config.buffers = std::move(buffers);
  return config;
}

std::uint64_t default_random_bits() {
  // Jitter only needs to decorrelate clients; one generator per thread suffices.
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return generator();
}

Result<DecodeOutput> finish_decode(transport::TransferResult&& result, const CallInfo& info,
                                   const protocol::DecodeExpectation& expect,
                                   const protocol::ReplyLimits& limits) {
  if (!result.response) return annotate_failure(std::move(result.response).error(), info);
  const auto start = Clock::now();
  Result<DecodeOutput> output =
      protocol::parse_decode_reply(std::move(result.response).value(), expect, limits);
  if (!output) return annotate_failure(std::move(output).error(), info);
  output->timings = make_timings(result.timings, info, Clock::now() - start);
  return output;
}

Result<EncodeOutput> finish_encode(transport::TransferResult&& result, const CallInfo& info,
                                   const protocol::EncodeExpectation& expect) {
  if (!result.response) return annotate_failure(std::move(result.response).error(), info);
  const auto start = Clock::now();
  Result<Tensor> latents = protocol::parse_encode_reply(std::move(result.response).value(), expect);
  if (!latents) return annotate_failure(std::move(latents).error(), info);
  EncodeOutput output;
  output.latents = std::move(latents).value();
  output.timings = make_timings(result.timings, info, Clock::now() - start);
  return output;
}

}  // namespace

Engine::Engine(ClientOptions options, EngineSeams seams)
    : options_(with_token(options, client_token(options))),
      token_(client_token(options)),
      replicas_(options_.replica_cooldown),
      now_(seams.now ? std::move(seams.now) : [] { return Clock::now(); }),
      random_bits_(seams.random_bits ? std::move(seams.random_bits) : &default_random_bits),
      buffers_(seams.buffers ? std::move(seams.buffers)
                             : std::make_shared<BufferPool>(kMaxPooledBuffers, kMaxPooledBytes)),
      latent_buffers_(std::make_shared<BufferPool>(kMaxPooledLatents, kMaxPooledLatentBytes)),
      workers_(std::make_shared<WorkerPool>(kWorkerThreads)),
      transport_(seams.transport
                     ? std::move(seams.transport)
                     : transport::make_curl_transport(transport_config(options_, buffers_))) {}

Engine::~Engine() {
  shutdown();
}

void Engine::shutdown() {
  {
    std::lock_guard<std::mutex> lock(closing_mutex_);
    if (closed_) return;
    closed_ = true;
  }
  // Ends what still runs (each call delivers Cancelled) while the state its completions use is
  // alive; then the workers run the callbacks left.
  transport_.reset();
  workers_->shutdown();
}

std::optional<Error> Engine::check_call(const Endpoint& endpoint) const {
  if (Result<void> valid = validate_endpoints(endpoint.urls()); !valid) {
    return std::move(valid).error();
  }
  if (!token_.token.empty() && !is_valid_token(token_.token)) {
    return Error(ErrorCode::kInvalidArgument,
                 "the token has characters an HTTP header cannot carry (whitespace or control "
                 "characters)");
  }
  const CallContext context{&options_, nullptr, nullptr, nullptr, &token_, now_, random_bits_};
  if (Result<void> allowed = check_token_destinations(context, endpoint.urls()); !allowed) {
    return std::move(allowed).error();
  }
  return std::nullopt;
}

CallContext Engine::call_context() {
  return {&options_, transport_.get(), &replicas_, buffers_.get(), &token_, now_, random_bits_};
}

bool Engine::start_if_open(const std::function<void(const CallContext&)>& start) {
  std::lock_guard<std::mutex> lock(closing_mutex_);
  if (closed_) return false;
  start(call_context());
  return true;
}

template <typename T, typename Built>
Pending<T> Engine::launch(
    Clock::time_point started, const Endpoint& endpoint, Result<Built>&& built,
    const RequestControl& control,
    typename std::function<Result<T>(transport::TransferResult&&, const CallInfo&)> finisher,
    CallRoute route, const std::function<void(const CancelToken&)>& on_token) {
  auto pending = std::make_shared<PendingCall<T>>(std::move(finisher), workers_);
  if (control.cancel) pending->token.follow(*control.cancel);
  if (on_token) on_token(pending->token);
  auto deliver = [pending](transport::TransferResult&& result, const CallInfo& info) {
    pending->deliver(std::move(result), info);
  };
  if (std::optional<Error> refused = check_call(endpoint)) {
    deliver({std::move(*refused), {}}, {});
    return Pending<T>(pending);
  }
  if (!built) {
    deliver({std::move(built).error(), {}}, {});
    return Pending<T>(pending);
  }
  auto http = std::make_shared<http::HttpRequest>(std::move(built->http));
  if (options_.scale_up_timeout) protocol::add_scale_up_timeout(*http, *options_.scale_up_timeout);
  route.query = std::move(built->query);
  const bool started_call = start_if_open([&](const CallContext& context) {
    start_call(context, endpoint.urls(), std::move(route), std::move(http), control, pending->token,
               started, deliver);
  });
  if (started_call) return Pending<T>(pending);
  deliver({Error(ErrorCode::kCancelled, "the client is shutting down"), {}}, {});
  return Pending<T>(pending);
}

Pending<DecodeOutput> Engine::decode_async(const Endpoint& endpoint, const TensorView& latents,
                                           const DecodeOptions& options) {
  const Clock::time_point started = now_();
  Result<bool> open_inference = speaks_open_inference(endpoint);
  if (open_inference && *open_inference) {
    return decode_open_inference(started, endpoint, latents, options);
  }
  Result<void> valid = open_inference ? validate_endpoints(endpoint.urls())
                                      : Result<void>(std::move(open_inference).error());
  Result<protocol::DecodeRequest> built =
      valid ? protocol::build_decode_request(latents, options)
            : Result<protocol::DecodeRequest>(std::move(valid).error());
  const protocol::DecodeExpectation expect = built ? built->expect : protocol::DecodeExpectation{};
  protocol::ReplyLimits limits;
  limits.max_pixels = options_.max_reply_pixels;
  limits.decode_threads = options_.decode_threads;
  // Decoded pixels go into recycled buffers when there are any (no page faults, no zero-fill).
  limits.image_storage = [buffers = buffers_](std::size_t expected) {
    return buffers->take_unzeroed(expected);
  };
  if (built && options.stream.active()) {
    Result<ReplyLayout> layout = protocol::decode_reply_layout(expect);
    Result<void> streamable = layout ? ReplyStreamer::check_request(options.stream, *layout)
                                     : Result<void>(std::move(layout).error());
    if (!streamable) {
      built = std::move(streamable).error();
    } else {
      auto streamer = std::make_shared<ReplyStreamer>(options.stream, workers_, buffers_,
                                                      CancelToken(), options_.max_reply_bytes);
      CallRoute route;
      route.sink = std::make_shared<StreamedDecodeSink>(streamer, expect, limits);
      route.retry_refused = [streamer] { return streamer->retry_refusal(); };
      return launch<DecodeOutput>(
          started, endpoint, std::move(built), options.control,
          [streamer](transport::TransferResult&& result, const CallInfo& info) {
            return finish_streamed_decode(std::move(result), info, *streamer);
          },
          std::move(route), [streamer](const CancelToken& token) { streamer->follow(token); });
    }
  }
  return launch<DecodeOutput>(
      started, endpoint, std::move(built), options.control,
      [expect, limits](transport::TransferResult&& result, const CallInfo& info) {
        return finish_decode(std::move(result), info, expect, limits);
      });
}

Result<ReplyLayout> Engine::reply_layout(const Endpoint& endpoint, const TensorView& latents,
                                         const DecodeOptions& options) {
  RVAE_ASSIGN_OR_RETURN(const bool open_inference, speaks_open_inference(endpoint));
  if (open_inference) return open_inference_layout(endpoint, latents, options);
  RVAE_TRY(validate_endpoints(endpoint.urls()));
  RVAE_ASSIGN_OR_RETURN(protocol::DecodeRequest built,
                        protocol::build_decode_request(latents, options));
  return protocol::decode_reply_layout(built.expect);
}

template <typename Input>
Pending<EncodeOutput> Engine::encode(const Endpoint& endpoint, const Input& input,
                                     const EncodeOptions& options) {
  const Clock::time_point started = now_();
  Result<bool> open_inference = speaks_open_inference(endpoint);
  if (open_inference && *open_inference) {
    return encode_open_inference(started, endpoint, input, options);
  }
  Result<void> valid = open_inference ? validate_endpoints(endpoint.urls())
                                      : Result<void>(std::move(open_inference).error());
  Result<protocol::EncodeRequest> built =
      valid ? protocol::build_encode_request(input, options)
            : Result<protocol::EncodeRequest>(std::move(valid).error());
  const protocol::EncodeExpectation expect = built ? built->expect : protocol::EncodeExpectation{};
  return launch<EncodeOutput>(started, endpoint, std::move(built), options.control,
                              [expect](transport::TransferResult&& result, const CallInfo& info) {
                                return finish_encode(std::move(result), info, expect);
                              });
}

Pending<EncodeOutput> Engine::encode_async(const Endpoint& endpoint, ImageView image,
                                           const EncodeOptions& options) {
  return encode(endpoint, image, options);
}

Pending<EncodeOutput> Engine::encode_async(const Endpoint& endpoint, const TensorView& pixels,
                                           const EncodeOptions& options) {
  return encode(endpoint, pixels, options);
}

}  // namespace rvae::detail
