// Decode and encode over the Open Inference Protocol: the model's metadata first (once per
// endpoint, see ModelCatalog), then one infer request planned from it; a refusal that says the
// model changed (a reloaded model) reads the metadata again, once.
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "api/engine.hpp"
#include "api/open_inference_stream_sink.hpp"
#include "api/pending_call.hpp"
#include "api/reply_streamer.hpp"
#include "api/split_reply_sink.hpp"
#include "api/streamed_decode.hpp"
#include "core/try.hpp"
#include "protocol/latent_normalization.hpp"
#include "protocol/open_inference.hpp"
#include "tensor/latent_normalization.hpp"

namespace rvae::detail {

namespace oip = protocol::oip;
using transport::Clock;

namespace {

// Triton answers a model that is not loaded (yet) with 404 "unknown model"/"no available
// versions", or 503 while it loads; both mean another replica may serve it.
bool replica_not_ready(const http::HttpResponse& response) {
  return response.status == 404 || response.status == 503;
}

// The latents as the model takes them: unpacked and de-normalised, in `dtype` when a conversion
// is needed anyway. Borrowed from the caller when nothing had to change.
// The de-normalised latents go back to the pool with the call, for the next call's.
struct RawLatents {
  explicit RawLatents(std::shared_ptr<BufferPool> pool) : buffers(std::move(pool)) {}
  ~RawLatents() {
    if (buffers && !owned.empty()) buffers->give(std::move(owned).release_bytes());
  }
  RawLatents(const RawLatents&) = delete;
  RawLatents& operator=(const RawLatents&) = delete;

  std::shared_ptr<BufferPool> buffers;
  Tensor owned;
  TensorView view;
};

Result<std::shared_ptr<RawLatents>> raw_latents(const TensorView& latents,
                                                const DecodeOptions& options, DType dtype,
                                                const std::shared_ptr<BufferPool>& buffers) {
  RVAE_TRY(latents.validate());
  auto raw = std::make_shared<RawLatents>(buffers);
  raw->view = latents;
  if (latents.shape.size() == 3) {
    if (!options.height || !options.width) {
      return Error(ErrorCode::kInvalidArgument,
                   "packed latents (3 dimensions) need the image's height and width");
    }
    RVAE_ASSIGN_OR_RETURN(raw->owned, unpack_latents(latents, *options.height, *options.width));
    raw->view = raw->owned.view();
  }
  if (options.do_scaling && !options.scaling_factor) {
    return Error(ErrorCode::kInvalidArgument,
                 "server-side default scaling (do_scaling) exists only on the Hugging Face "
                 "protocol: give the model's factors (--model or --scaling-factor) instead");
  }
  RVAE_ASSIGN_OR_RETURN(std::optional<LatentNormalization> norm,
                        protocol::normalization_of(options));
  if (norm) {
    Bytes storage = buffers->take_unzeroed(raw->view.numel() * dtype_size(dtype));
    RVAE_ASSIGN_OR_RETURN(Tensor denormalized, internal::denormalize_latents_into(
                                                   raw->view, *norm, dtype, std::move(storage)));
    raw->owned = std::move(denormalized);
    raw->view = raw->owned.view();
  }
  return raw;
}

// What plan_decode sees: the request's options without the normalisation already applied.
DecodeOptions without_normalization(DecodeOptions options) {
  options.scaling_factor.reset();
  options.shift_factor.reset();
  options.do_scaling = false;
  options.latents_mean.clear();
  options.latents_std.clear();
  options.control = {};
  return options;
}

// An image to encode is read before encode_async returns, as over the other protocol: when the
// request can only be planned later (the metadata is not known yet), it is copied.
struct EncodeInput {
  std::shared_ptr<const Image> copy;
  ImageView view;
};

EncodeInput keep_input(ImageView image, bool planned_now) {
  if (planned_now || image.validate().has_value() == false) return {nullptr, image};
  auto copy = std::make_shared<Image>();
  copy->width = image.width;
  copy->height = image.height;
  copy->channels = image.channels;
  copy->pixels.assign(image.pixels, image.pixels + image.size_bytes);
  return {copy, ImageView(*copy)};
}

// A pixel tensor stays the caller's until the result is taken (Client::encode_async says so).
TensorView keep_input(const TensorView& pixels, bool) {
  return pixels;
}
ImageView input_view(const EncodeInput& input) {
  return input.view;
}
const TensorView& input_view(const TensorView& pixels) {
  return pixels;
}

// The reply's output tensor, from the reply as the sink split it (or as buffered whole).
Result<Tensor> parse_output(http::HttpResponse&& response, Bytes&& json_header,
                            const oip::InferExpectation& expect) {
  if (json_header.empty()) return oip::parse_infer_reply(std::move(response), expect);
  return oip::parse_infer_reply(std::move(response), std::move(json_header), expect);
}

std::string catalog_key(const Endpoint& endpoint) {
  std::string key;
  for (const std::string& url : endpoint.urls())
    key += url + '\n';
  return key;
}

}  // namespace

Result<std::vector<oip::ModelRoute>> open_inference_routes(const Endpoint& endpoint) {
  std::vector<oip::ModelRoute> routes;
  for (std::size_t i = 0; i < endpoint.urls().size(); ++i) {
    std::optional<oip::ModelRoute> route = oip::parse_model_route(endpoint.urls()[i]);
    if (!route) {
      std::string which = endpoint.urls().size() == 1 ? std::string("the endpoint")
                                                      : "replica " + std::to_string(i + 1);
      return Error(ErrorCode::kInvalidArgument,
                   which +
                       " is not an Open Inference model URL: its path must end in "
                       "/v2/models/NAME or /v2/models/NAME/versions/N");
    }
    routes.push_back(std::move(*route));
  }
  return routes;
}

Result<bool> speaks_open_inference(const Endpoint& endpoint) {
  switch (endpoint.protocol()) {
    case WireProtocol::kHuggingFace:
      return false;
    case WireProtocol::kOpenInference:
      return true;
    case WireProtocol::kAuto:
      break;
  }
  if (endpoint.urls().empty()) return false;
  const bool first = oip::parse_model_route(endpoint.urls()[0]).has_value();
  for (std::size_t i = 1; i < endpoint.urls().size(); ++i) {
    if (oip::parse_model_route(endpoint.urls()[i]).has_value() != first) {
      return Error(ErrorCode::kInvalidArgument,
                   "the replicas of one endpoint must speak one protocol: replica " +
                       std::to_string(i + 1) +
                       " and replica 1 differ (an Open Inference model "
                       "URL ends in /v2/models/NAME)");
    }
  }
  return first;
}

// One call over the protocol, from the metadata to the reply handed to the Pending.
template <typename Plan>
struct OpenInferenceCall : std::enable_shared_from_this<OpenInferenceCall<Plan>> {
  using Planner = std::function<Result<Plan>(const oip::ModelMetadata&, const oip::TensorChoice&)>;

  Engine* engine = nullptr;
  Clock::time_point started;
  std::string key;
  std::vector<std::string> urls;
  std::vector<oip::ModelRoute> routes;
  std::string input_name;
  std::string output_name;
  RequestControl control;
  CancelToken token;
  Planner planner;
  CallDone deliver;
  // Receives the infer reply (its JSON header apart from the output's bytes).
  std::shared_ptr<SplitReplySink> sink;
  // A streamed decode's: receives the reply instead of `sink` (which it falls back to).
  std::shared_ptr<OpenInferenceStreamSink> stream_sink;
  std::shared_ptr<ReplyStreamer> streamer;
  // Set before the infer request starts; read by the Pending's finisher after delivery.
  std::shared_ptr<const Plan> plan;
  MetadataPtr metadata;
  bool metadata_reread = false;

  void fail(Error error, const CallInfo& info = {}) { finish({std::move(error), {}}, info); }

  // Once: `deliver` holds the Pending, whose finisher holds this call; dropping it here breaks
  // that cycle.
  void finish(transport::TransferResult&& result, const CallInfo& info) {
    CallDone done = std::move(deliver);
    deliver = nullptr;
    if (done) done(std::move(result), info);
  }

  void run() {
    auto self = this->shared_from_this();
    engine->catalog().get(
        key, [self](ModelCatalog::Ready ready) { self->read_metadata(std::move(ready)); },
        [self](Result<MetadataPtr> read) { self->with_metadata(std::move(read)); });
  }

  void read_metadata(ModelCatalog::Ready ready) {
    CallRoute route;
    for (const oip::ModelRoute& model : routes)
      route.request_urls.push_back(model.metadata_url());
    route.replica_not_ready = &replica_not_ready;
    auto request = std::make_shared<const http::HttpRequest>(oip::get_request());
    RequestControl quiet = control;
    quiet.on_progress = nullptr;  // Progress is the infer request's.
    const bool started_read = engine->start_if_open([&](const CallContext& context) {
      start_call(context, urls, std::move(route), request, quiet, token, started,
                 [ready](transport::TransferResult&& result, const CallInfo& info) {
                   if (!result.response) {
                     ready(annotate_failure(std::move(result.response).error(), info));
                     return;
                   }
                   Result<oip::ModelMetadata> parsed =
                       oip::parse_metadata_reply(std::move(result.response).value());
                   if (!parsed) {
                     ready(annotate_failure(std::move(parsed).error(), info));
                     return;
                   }
                   ready(std::make_shared<const oip::ModelMetadata>(std::move(parsed).value()));
                 });
    });
    if (!started_read) ready(Error(ErrorCode::kCancelled, "the client is shutting down"));
  }

  void with_metadata(Result<MetadataPtr> read) {
    if (!read) return fail(std::move(read).error());
    metadata = std::move(read).value();
    Result<oip::TensorChoice> tensors = oip::choose_tensors(*metadata, input_name, output_name);
    if (!tensors) return fail(std::move(tensors).error());
    Result<Plan> planned = planner(*metadata, *tensors);
    if (!planned) return fail(std::move(planned).error());
    plan = std::make_shared<const Plan>(std::move(planned).value());
    CallRoute route;
    for (const oip::ModelRoute& model : routes)
      route.request_urls.push_back(model.infer_url());
    route.replica_not_ready = &replica_not_ready;
    route.sink = sink;
    if constexpr (std::is_same_v<Plan, oip::DecodePlan>) {
      if (stream_sink) {
        Result<void> streamable =
            ReplyStreamer::check_request(streamer->stream(), oip::reply_layout(*plan));
        if (!streamable) return fail(std::move(streamable).error());
        stream_sink->set_plan(plan);
        route.sink = stream_sink;
        route.retry_refused = [streamer = streamer] { return streamer->retry_refusal(); };
      }
    }
    std::shared_ptr<const http::HttpRequest> request(plan, &plan->http);
    auto self = this->shared_from_this();
    const bool started_infer = engine->start_if_open([&](const CallContext& context) {
      start_call(context, urls, std::move(route), std::move(request), control, token, started,
                 [self](transport::TransferResult&& result, const CallInfo& info) {
                   self->infer_done(std::move(result), info);
                 });
    });
    if (!started_infer) fail(Error(ErrorCode::kCancelled, "the client is shutting down"));
  }

  void infer_done(transport::TransferResult&& result, const CallInfo& info) {
    if (!metadata_reread && result.response && oip::is_metadata_mismatch(*result.response)) {
      // The model may have been reloaded with another datatype or shape: read it again once.
      metadata_reread = true;
      engine->catalog().forget(key, metadata);
      run();
      return;
    }
    finish(std::move(result), info);
  }
};

// A streamed decode's result: as any streamed call's, or, when the reply had to be held whole
// (the JSON form, float pixels to quantise), parsed as usual and then handed out.
template <typename Finisher>
Result<DecodeOutput> finish_streamed(OpenInferenceCall<oip::DecodePlan>& call,
                                     transport::TransferResult&& result, const CallInfo& info,
                                     const Finisher& finisher) {
  ReplyStreamer& streamer = *call.streamer;
  const bool held_whole = result.response && result.response->status >= 200 &&
                          result.response->status < 300 && call.stream_sink->held_whole();
  if (!held_whole) return finish_streamed_decode(std::move(result), info, streamer);
  if (Result<Delivered> before = streamer.finish(false); !before) {
    return annotate_failure(with_delivery_note(std::move(before).error(), streamer), info);
  }
  const auto parse_start = Clock::now();
  http::HttpResponse response = std::move(result.response).value();
  response.body = call.sink->take_body();
  Result<DecodeOutput> output = finisher(std::move(response), call.sink->take_header(), *call.plan);
  if (!output)
    return annotate_failure(with_delivery_note(std::move(output).error(), streamer), info);
  output->layout = oip::reply_layout(*call.plan);
  Result<Delivered> delivered = streamer.deliver_whole(*output);
  if (!delivered) {
    return annotate_failure(with_delivery_note(std::move(delivered).error(), streamer), info);
  }
  DecodeOutput streamed;
  streamed.type = output->type;
  streamed.layout = streamer.layout();
  streamed.delivered = *delivered;
  streamed.timings = make_timings(result.timings, info, Clock::now() - parse_start);
  return streamed;
}

template <typename T, typename Plan>
Pending<T> Engine::start_open_inference(
    Clock::time_point started, const Endpoint& endpoint, const RequestControl& control,
    std::function<Result<Plan>(const oip::ModelMetadata&, const oip::TensorChoice&)> planner,
    std::function<Result<T>(http::HttpResponse&&, Bytes&&, const Plan&)> finisher,
    std::optional<Error> refused, std::shared_ptr<ReplyStreamer> streamer) {
  auto call = std::make_shared<OpenInferenceCall<Plan>>();
  const oip::InferReplyLimits reply_limits;
  call->sink =
      std::make_shared<SplitReplySink>(buffers_.get(), reply_limits.max_json_header_bytes,
                                       options_.max_reply_bytes, reply_limits.max_json_reply_bytes);
  if (streamer) {
    call->streamer = streamer;
    call->stream_sink = std::make_shared<OpenInferenceStreamSink>(
        streamer, call->sink, reply_limits.max_json_header_bytes);
  }
  auto pending = std::make_shared<PendingCall<T>>(
      [call, finisher = std::move(finisher)](transport::TransferResult&& result,
                                             const CallInfo& info) -> Result<T> {
        if constexpr (std::is_same_v<T, DecodeOutput>) {
          if (call->streamer) return finish_streamed(*call, std::move(result), info, finisher);
        }
        if (!result.response) return annotate_failure(std::move(result.response).error(), info);
        const auto parse_start = Clock::now();
        http::HttpResponse response = std::move(result.response).value();
        Bytes json_header;
        // A successful reply went to the sink; others were buffered whole.
        if (response.status >= 200 && response.status < 300) {
          response.body = call->sink->take_body();
          json_header = call->sink->take_header();
        }
        Result<T> output = finisher(std::move(response), std::move(json_header), *call->plan);
        if (!output) return annotate_failure(std::move(output).error(), info);
        output->timings = make_timings(result.timings, info, Clock::now() - parse_start);
        return output;
      },
      workers_);
  if (control.cancel) pending->token.follow(*control.cancel);
  if (streamer) streamer->follow(pending->token);
  call->deliver = [pending](transport::TransferResult&& result, const CallInfo& info) {
    pending->deliver(std::move(result), info);
  };
  if (!refused) refused = check_call(endpoint);
  Result<std::vector<oip::ModelRoute>> routes = open_inference_routes(endpoint);
  if (!refused && !routes) refused = std::move(routes).error();
  if (refused) {
    call->fail(std::move(*refused));
    return Pending<T>(pending);
  }
  call->engine = this;
  call->started = started;
  call->key = catalog_key(endpoint);
  call->urls = endpoint.urls();
  call->routes = std::move(routes).value();
  call->input_name = endpoint.input_name();
  call->output_name = endpoint.output_name();
  call->control = control;
  call->token = pending->token;
  call->planner = std::move(planner);
  call->run();
  return Pending<T>(pending);
}

Pending<DecodeOutput> Engine::decode_open_inference(Clock::time_point started,
                                                    const Endpoint& endpoint,
                                                    const TensorView& latents,
                                                    const DecodeOptions& options) {
  // De-normalised straight into the model's datatype when its metadata is known (one pass, and
  // the request borrows the result); else float32, converted once the metadata is read.
  DType sent_as = DType::kFloat32;
  if (const MetadataPtr metadata = catalog_.known(catalog_key(endpoint))) {
    Result<oip::TensorChoice> tensors =
        oip::choose_tensors(*metadata, endpoint.input_name(), endpoint.output_name());
    if (tensors) {
      const std::optional<DType> datatype = oip::dtype_from_datatype(tensors->input->datatype);
      if (datatype && *datatype != DType::kUInt8) sent_as = *datatype;
    }
  }
  Result<std::shared_ptr<RawLatents>> raw = raw_latents(latents, options, sent_as, latent_buffers_);
  std::optional<Error> refused;
  if (!raw) refused = std::move(raw).error();
  protocol::ReplyLimits limits;
  limits.max_pixels = options_.max_reply_pixels;
  limits.decode_threads = options_.decode_threads;
  const std::shared_ptr<RawLatents> latents_sent = raw ? *raw : nullptr;
  const DecodeOptions plain = without_normalization(options);
  return start_open_inference<DecodeOutput, oip::DecodePlan>(
      started, endpoint, options.control,
      [latents_sent, plain](const oip::ModelMetadata& metadata, const oip::TensorChoice& tensors) {
        return oip::plan_decode(metadata, tensors, latents_sent->view, plain);
      },
      [latents_sent, limits](http::HttpResponse&& response, Bytes&& json_header,
                             const oip::DecodePlan& plan) -> Result<DecodeOutput> {
        RVAE_ASSIGN_OR_RETURN(
            Tensor output, parse_output(std::move(response), std::move(json_header), plan.infer));
        return oip::decode_output_of(std::move(output), plan, limits);
      },
      std::move(refused),
      options.stream.active()
          ? std::make_shared<ReplyStreamer>(options.stream, workers_, buffers_, CancelToken(),
                                            options_.max_reply_bytes)
          : nullptr);
}

Result<ReplyLayout> Engine::open_inference_layout(const Endpoint& endpoint,
                                                  const TensorView& latents,
                                                  const DecodeOptions& options) {
  if (std::optional<Error> refused = check_call(endpoint)) return std::move(*refused);
  RVAE_ASSIGN_OR_RETURN(std::vector<oip::ModelRoute> routes, open_inference_routes(endpoint));
  auto call = std::make_shared<OpenInferenceCall<oip::DecodePlan>>();
  call->engine = this;
  call->started = now_();
  call->key = catalog_key(endpoint);
  call->urls = endpoint.urls();
  call->routes = std::move(routes);
  call->control = options.control;
  if (options.control.cancel) call->token.follow(*options.control.cancel);
  auto read = std::make_shared<std::promise<Result<MetadataPtr>>>();
  std::future<Result<MetadataPtr>> metadata_read = read->get_future();
  catalog_.get(
      call->key, [call](ModelCatalog::Ready ready) { call->read_metadata(std::move(ready)); },
      [read](Result<MetadataPtr> metadata) { read->set_value(std::move(metadata)); });
  RVAE_ASSIGN_OR_RETURN(const MetadataPtr metadata, metadata_read.get());
  RVAE_ASSIGN_OR_RETURN(
      oip::TensorChoice tensors,
      oip::choose_tensors(*metadata, endpoint.input_name(), endpoint.output_name()));
  const std::optional<DType> datatype = oip::dtype_from_datatype(tensors.input->datatype);
  const DType sent_as = datatype && *datatype != DType::kUInt8 ? *datatype : DType::kFloat32;
  RVAE_ASSIGN_OR_RETURN(std::shared_ptr<RawLatents> raw,
                        raw_latents(latents, options, sent_as, latent_buffers_));
  RVAE_ASSIGN_OR_RETURN(oip::DecodePlan plan, oip::plan_decode(*metadata, tensors, raw->view,
                                                               without_normalization(options)));
  return oip::reply_layout(plan);
}

template <typename Input>
Pending<EncodeOutput> Engine::encode_open_inference(Clock::time_point started,
                                                    const Endpoint& endpoint, const Input& input,
                                                    const EncodeOptions& options) {
  std::optional<Error> refused;
  Result<std::optional<LatentNormalization>> norm = protocol::normalization_of(options);
  if (!norm) refused = std::move(norm).error();
  const std::optional<LatentNormalization> normalization = norm ? *norm : std::nullopt;
  auto kept = keep_input(input, catalog_.known(catalog_key(endpoint)) != nullptr);
  return start_open_inference<EncodeOutput, oip::EncodePlan>(
      started, endpoint, options.control,
      [kept](const oip::ModelMetadata& metadata, const oip::TensorChoice& tensors) {
        return oip::plan_encode(metadata, tensors, input_view(kept));
      },
      [normalization](http::HttpResponse&& response, Bytes&& json_header,
                      const oip::EncodePlan& plan) -> Result<EncodeOutput> {
        RVAE_ASSIGN_OR_RETURN(
            Tensor raw, parse_output(std::move(response), std::move(json_header), plan.infer));
        EncodeOutput output;
        if (normalization) {
          RVAE_ASSIGN_OR_RETURN(output.latents,
                                normalize_latents(raw.view(), *normalization, DType::kFloat32));
        } else {
          output.latents = std::move(raw);
        }
        return output;
      },
      std::move(refused));
}

template Pending<EncodeOutput> Engine::encode_open_inference(Clock::time_point, const Endpoint&,
                                                             const ImageView&,
                                                             const EncodeOptions&);
template Pending<EncodeOutput> Engine::encode_open_inference(Clock::time_point, const Endpoint&,
                                                             const TensorView&,
                                                             const EncodeOptions&);

}  // namespace rvae::detail
