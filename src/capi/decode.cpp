// rvae_decode, rvae_decode_full and rvae_decode_batch over rvae::Client::decode(_batch).
#include <cstddef>
#include <future>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "capi/capi.hpp"

namespace {

using rvae::ErrorCode;
using rvae::capi::fail;

// The size of rvae_decode_params in the first rvae.h, which ended with batch_max_in_flight; an
// older program's struct leaves the fields after it at their defaults (see read_params).
constexpr std::size_t kDecodeParamsV1 =
    RVAE_CAPI_SIZE_THROUGH(rvae_decode_params, batch_max_in_flight);
static_assert(sizeof(void*) != 8 || kDecodeParamsV1 == 112, "the first version's layout moved");
static_assert(rvae::capi::starts_after_padding(kDecodeParamsV1, alignof(rvae_decode_params),
                                               offsetof(rvae_decode_params, tile_mode)));
// The version before the stream fields ended with output_name; its programs' structs leave the
// stream fields unset (a reply held whole, as those programs expect).
constexpr std::size_t kDecodeParamsProtocol =
    RVAE_CAPI_SIZE_THROUGH(rvae_decode_params, output_name);
static_assert(sizeof(void*) != 8 || kDecodeParamsProtocol == 168,
              "the protocol version's layout moved");
static_assert(rvae::capi::starts_after_padding(kDecodeParamsProtocol, alignof(rvae_decode_params),
                                               offsetof(rvae_decode_params, frame_callback)));

// rvae_reply_layout's first version is today's whole struct.
constexpr std::size_t kReplyLayoutV1 = sizeof(rvae_reply_layout);
static_assert(sizeof(void*) != 8 || kReplyLayoutV1 == 88, "rvae_reply_layout's layout moved");
static_assert(RVAE_MAX_DIMS >= 5, "a video tensor reply [B,3,F,H,W] has 5 dims");

// Everything one decode call needs, checked.
struct DecodeCall {
  rvae::Endpoint endpoint{""};
  rvae_decode_params params;
  rvae::DecodeOptions options;
};

rvae::Result<DecodeCall> prepare(rvae_client* c, const char* endpoint, const rvae_decode_params* p,
                                 const char* function) {
  if (c == nullptr) {
    return rvae::Error(ErrorCode::kInvalidArgument, std::string(function) + ": client is NULL");
  }
  DecodeCall call;
  rvae_decode_params_init(&call.params, nullptr);
  if (rvae::Result<void> read = rvae::capi::read_params(p, kDecodeParamsV1, call.params, function,
                                                        "rvae_decode_params_init");
      !read) {
    return read.error();
  }
  rvae::Result<rvae::DecodeOptions> options = rvae::capi::decode_options_of(call.params, function);
  if (!options) return options.error();
  call.options = std::move(*options);
  rvae::Result<std::string> url =
      rvae::capi::resolve_endpoint(endpoint, call.params.model, true, function);
  if (!url) return url.error();
  rvae::Result<rvae::Endpoint> where =
      rvae::capi::endpoint_of(std::move(*url), rvae::capi::raw_enum(call.params.protocol),
                              call.params.input_name, call.params.output_name, function);
  if (!where) return where.error();
  call.endpoint = std::move(*where);
  return call;
}

// Refuses, before sending, a buffer too small for the reply `layout`.
rvae::Result<void> check_streamed(const DecodeCall& call, const rvae::ReplyLayout& layout,
                                  const char* function) {
  if (call.params.into != nullptr && call.params.into_size < layout.bytes) {
    return rvae::Error(ErrorCode::kInvalidArgument,
                       std::string(function) + ": params->into_size is " +
                           std::to_string(call.params.into_size) + " bytes; the reply " +
                           rvae::shape_to_string(layout.shape) + " needs " +
                           std::to_string(layout.bytes) + " (see rvae_decode_reply_layout)");
  }
  return {};
}

// A streamed decode, finished on a library worker: a blocking get() parses the reply on the
// calling thread, and a reply the library must hold whole before handing it out (an Open
// Inference reply in the JSON form, or float pixels quantised here) would then run the stream
// callbacks there, against what rvae.h promises.
rvae::Result<rvae::DecodeOutput> decode_on_worker(rvae_client& c, const DecodeCall& call,
                                                  const rvae::TensorView& latents) {
  auto done = std::make_shared<std::promise<rvae::Result<rvae::DecodeOutput>>>();
  std::future<rvae::Result<rvae::DecodeOutput>> result = done->get_future();
  c.client.decode_async(call.endpoint, latents, call.options)
      .then([done](rvae::Result<rvae::DecodeOutput> decoded) {
        done->set_value(std::move(decoded));
      });
  return result.get();
}

// Refuses the stream fields in calls that hold their replies (rvae_decode, rvae_decode_batch).
rvae::Result<void> refuse_stream(const DecodeCall& call, const char* function) {
  if (!rvae::capi::stream_requested(call.params)) return {};
  return rvae::Error(ErrorCode::kInvalidArgument,
                     std::string(function) +
                         ": the stream fields of params (frame_callback, chunk_callback, "
                         "layout_callback, into) are for rvae_decode_full");
}

}  // namespace

namespace {

// The preset's factors, when `model` names one (an unknown model is reported by the call the
// params are given to).
void fill_preset_factors(rvae_decode_params* p, const char* model) noexcept {
  try {
    const rvae::ModelPreset* preset = rvae::capi::builtin_presets().find(model);
    if (preset == nullptr) return;  // reported by the call these params are given to
    const rvae::DecodeOptions options = preset->decode_options();
    p->has_scaling_factor = options.scaling_factor ? 1 : 0;
    p->scaling_factor = options.scaling_factor.value_or(0.0);
    p->has_shift_factor = options.shift_factor ? 1 : 0;
    p->shift_factor = options.shift_factor.value_or(0.0);
    p->temporal_compression = options.temporal_compression;
  } catch (...) {
    // Out of memory building the presets: the defaults stay, and the call reports the model.
  }
}

}  // namespace

extern "C" {

void rvae_decode_params_init_sized(rvae_decode_params* out, std::size_t size, const char* model) {
  rvae_decode_params p{};
  p.model = model;
  p.output_type = RVAE_OUTPUT_IMAGE;
  p.image_format = RVAE_IMAGE_JPEG;
  p.temporal_compression = rvae::DecodeOptions{}.temporal_compression;
  p.batch_max_in_flight = rvae::BatchOptions{}.max_in_flight;
  if (model != nullptr) fill_preset_factors(&p, model);
  rvae::capi::store_params(p, out, size, kDecodeParamsV1);
}

// For programs built before the sized init: their struct may be the first version's.
void(rvae_decode_params_init)(rvae_decode_params* p, const char* model) {
  rvae_decode_params_init_sized(p, kDecodeParamsV1, model);
}

int rvae_decode_full(rvae_client* c, const char* endpoint, const rvae_tensor_view* latents,
                     const rvae_decode_params* p, rvae_decode_result** out, rvae_error** err) {
  const char* fn = "rvae_decode_full";
  return rvae::capi::guarded(err, fn, [&] {
    if (out == nullptr)
      return fail(err, ErrorCode::kInvalidArgument, "rvae_decode_full: out is NULL");
    *out = nullptr;
    rvae::Result<DecodeCall> call = prepare(c, endpoint, p, fn);
    if (!call) return fail(err, call.error());
    rvae::Result<rvae::TensorView> view = rvae::capi::tensor_view_of(latents, fn);
    if (!view) return fail(err, view.error());
    const bool streamed = call->options.stream.active();
    if (streamed) {
      rvae::Result<rvae::ReplyLayout> layout =
          c->client.reply_layout(call->endpoint, *view, call->options);
      if (!layout) return fail(err, layout.error());
      if (rvae::Result<void> ok = check_streamed(*call, *layout, fn); !ok) {
        return fail(err, ok.error());
      }
    }
    rvae::Result<rvae::DecodeOutput> decoded =
        streamed ? decode_on_worker(*c, *call, *view)
                 : c->client.decode(call->endpoint, *view, call->options);
    if (!decoded) return fail(err, decoded.error());
    *out = rvae::capi::copy_decode_output(*decoded, streamed);
    return rvae::capi::succeed(err);
  });
}

int rvae_decode_reply_layout(rvae_client* c, const char* endpoint, const rvae_tensor_view* latents,
                             const rvae_decode_params* p, rvae_reply_layout* out,
                             rvae_error** err) {
  const char* fn = "rvae_decode_reply_layout";
  return rvae::capi::guarded(err, fn, [&] {
    if (out == nullptr) {
      return fail(err, ErrorCode::kInvalidArgument, "rvae_decode_reply_layout: out is NULL");
    }
    // The library fills this struct, so it may grow: any size from the first version on.
    if (out->struct_size < kReplyLayoutV1) {
      return fail(err, ErrorCode::kInvalidArgument,
                  "rvae_decode_reply_layout: out->struct_size is " +
                      std::to_string(out->struct_size) + ", expected at least " +
                      std::to_string(kReplyLayoutV1) + " (set it to sizeof(rvae_reply_layout))");
    }
    rvae::Result<DecodeCall> call = prepare(c, endpoint, p, fn);
    if (!call) return fail(err, call.error());
    rvae::Result<rvae::TensorView> view = rvae::capi::tensor_view_of(latents, fn);
    if (!view) return fail(err, view.error());
    rvae::Result<rvae::ReplyLayout> layout =
        c->client.reply_layout(call->endpoint, *view, call->options);
    if (!layout) return fail(err, layout.error());
    rvae::capi::fill_layout(*layout, out);
    return rvae::capi::succeed(err);
  });
}

int rvae_decode(rvae_client* c, const char* endpoint, const rvae_tensor_view* latents,
                const rvae_decode_params* p, rvae_image* out, rvae_error** err) {
  const char* fn = "rvae_decode";
  return rvae::capi::guarded(err, fn, [&] {
    if (out == nullptr) return fail(err, ErrorCode::kInvalidArgument, "rvae_decode: out is NULL");
    *out = rvae_image{};
    rvae::Result<DecodeCall> call = prepare(c, endpoint, p, fn);
    if (!call) return fail(err, call.error());
    if (rvae::Result<void> held = refuse_stream(*call, fn); !held) return fail(err, held.error());
    const int output_type = rvae::capi::raw_enum(call->params.output_type);
    if (output_type != RVAE_OUTPUT_IMAGE && output_type != RVAE_OUTPUT_UINT8) {
      return fail(err, ErrorCode::kInvalidArgument,
                  "rvae_decode: output_type must be RVAE_OUTPUT_IMAGE or RVAE_OUTPUT_UINT8; "
                  "use rvae_decode_full for tensors and MP4");
    }
    rvae::Result<rvae::TensorView> view = rvae::capi::tensor_view_of(latents, fn);
    if (!view) return fail(err, view.error());
    // One image only: refuse batches and videos before sending, rather than drop frames.
    if (view->shape.size() == 5 || view->shape[0] != 1) {
      return fail(err, ErrorCode::kInvalidArgument,
                  "rvae_decode: latents " + rvae::shape_to_string(view->shape) +
                      " give more than one image; use rvae_decode_full");
    }
    rvae::Result<rvae::DecodeOutput> decoded =
        c->client.decode(call->endpoint, *view, call->options);
    if (!decoded) return fail(err, decoded.error());
    if (decoded->images.size() != 1) {
      return fail(err, ErrorCode::kDataLoss,
                  "rvae_decode: the reply holds " + std::to_string(decoded->images.size()) +
                      " images, expected 1");
    }
    rvae::capi::copy_image(decoded->images[0], out);
    return rvae::capi::succeed(err);
  });
}

int rvae_decode_batch(rvae_client* c, const char* endpoint, const rvae_tensor_view* latents,
                      size_t count, const rvae_decode_params* p, rvae_decode_result** results,
                      rvae_error** errors, rvae_error** err) {
  const char* fn = "rvae_decode_batch";
  std::size_t converted = 0;  // results[0..converted) hold allocations if an exception strikes
  const int status = rvae::capi::guarded(err, fn, [&] {
    if (results == nullptr) {
      return fail(err, ErrorCode::kInvalidArgument, "rvae_decode_batch: results is NULL");
    }
    for (std::size_t i = 0; i < count; ++i)
      results[i] = nullptr;
    if (errors != nullptr) {
      for (std::size_t i = 0; i < count; ++i)
        errors[i] = nullptr;
    }
    if (latents == nullptr && count > 0) {
      return fail(err, ErrorCode::kInvalidArgument, "rvae_decode_batch: latents is NULL");
    }
    rvae::Result<DecodeCall> call = prepare(c, endpoint, p, fn);
    if (!call) return fail(err, call.error());
    if (rvae::Result<void> held = refuse_stream(*call, fn); !held) return fail(err, held.error());
    if (call->params.batch_max_in_flight < 1) {
      return fail(err, ErrorCode::kInvalidArgument,
                  "rvae_decode_batch: params->batch_max_in_flight must be at least 1");
    }
    std::vector<rvae::TensorView> views;
    views.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      const std::string what = std::string(fn) + " (latents[" + std::to_string(i) + "])";
      rvae::Result<rvae::TensorView> view = rvae::capi::tensor_view_of(&latents[i], what.c_str());
      if (!view) return fail(err, view.error());
      views.push_back(std::move(*view));
    }
    rvae::BatchOptions batch;
    batch.max_in_flight = call->params.batch_max_in_flight;
    batch.cancel = call->options.control.cancel;
    // Several transfers run at once, so progress is reported per batch, not per transfer.
    call->options.control.on_progress = nullptr;
    if (call->params.progress != nullptr) {
      batch.on_progress = [fn_ptr = call->params.progress,
                           user_data =
                               call->params.progress_user_data](const rvae::BatchProgress& b) {
        rvae_progress progress{};
        progress.bytes_sent = b.bytes_sent;
        progress.bytes_received = b.bytes_received;
        progress.items_done = b.succeeded + b.failed;
        progress.items_failed = b.failed;
        progress.items_total = b.total;
        fn_ptr(&progress, user_data);
      };
    }
    std::vector<rvae::Result<rvae::DecodeOutput>> decoded =
        c->client.decode_batch(call->endpoint, views, call->options, batch);
    int first_failure = RVAE_OK;
    for (std::size_t i = 0; i < count; ++i) {
      if (decoded[i]) {
        results[i] = rvae::capi::copy_decode_output(*decoded[i]);
      } else {
        fail(errors ? &errors[i] : nullptr, decoded[i].error());
        if (first_failure == RVAE_OK) first_failure = fail(err, decoded[i].error());
      }
      converted = i + 1;
    }
    return first_failure == RVAE_OK ? rvae::capi::succeed(err) : first_failure;
  });
  if (status != RVAE_OK && converted < count && results != nullptr) {
    // An exception (out of memory) part-way through copying: free the partial results.
    for (std::size_t i = 0; i < count; ++i) {
      rvae_decode_result_free(results[i]);
      results[i] = nullptr;
    }
  }
  return status;
}

}  // extern "C"
