# The library's layers, lowest first: each is a folder under src/ built as an OBJECT library, with
# its sources listed here and the layers it may use (its includes may point only at those, at
# itself and at the public headers of those layers: scripts/check-layers.py checks it in CI).
# `rvae` is their union. `request` is the public vocabulary of a request (rvae/options.hpp,
# rvae/tiling.hpp): headers only, for the layers that build, send or tile requests.
set(RVAE_LAYERS core tensor files codec model http protocol transport api tiling client capi)

# errors, cancellation, buffers, pending results: what every layer uses
set(RVAE_LAYER_DEPS_core)
set(RVAE_SOURCES_core
  src/core/buffer_pool.cpp
  src/core/cancel.cpp
  src/core/error.cpp
  src/core/file_io_common.cpp
  src/core/json_depth.cpp
)
# The file layer's system calls: one implementation per system.
if(WIN32)
  list(APPEND RVAE_SOURCES_core src/core/file_io_win32.cpp)
else()
  list(APPEND RVAE_SOURCES_core src/core/file_io_posix.cpp)
endif()

# dtypes, conversion, latent normalisation
set(RVAE_LAYER_DEPS_tensor core)
set(RVAE_SOURCES_tensor
  src/tensor/convert.cpp
  src/tensor/dtype.cpp
  src/tensor/float_io.cpp
  src/tensor/flux_pack.cpp
  src/tensor/half_float.cpp
  src/tensor/latent_normalization.cpp
  src/tensor/latent_scaling.cpp
  src/tensor/tensor.cpp
)

# latent files (safetensors, npy)
set(RVAE_LAYER_DEPS_files core tensor)
set(RVAE_SOURCES_files
  src/files/file_io.cpp
  src/files/npy.cpp
  src/files/safetensors.cpp
  src/files/strict_json.cpp
)

# images: JPEG/PNG decode and encode, resizing
set(RVAE_LAYER_DEPS_codec core tensor)
set(RVAE_SOURCES_codec
  src/codec/image.cpp
  src/codec/image_decode.cpp
  src/codec/image_encode.cpp
  src/codec/image_file.cpp
  src/codec/image_layout.cpp
  src/codec/image_probe.cpp
  src/codec/image_resize.cpp
  src/codec/jpeg_resume.cpp
  src/codec/jpeg_segments.cpp
  src/codec/jpeg_split.cpp
  src/codec/jpeg_turbo.cpp
  src/codec/png_reader.cpp
  src/codec/png_writer.cpp
  src/codec/stb_impl_jpeg.cpp
  src/codec/stb_impl_png.cpp
  src/codec/stb_impl_write.cpp
)
# Where the two-thread JPEG decode runs its helper thread: the layer's one platform file.
if(WIN32)
  list(APPEND RVAE_SOURCES_codec src/codec/pinned_thread_win32.cpp)
else()
  list(APPEND RVAE_SOURCES_codec src/codec/pinned_thread_posix.cpp)
endif()

# model knowledge: presets and preview factors, data with one home
set(RVAE_LAYER_DEPS_model core tensor files codec request)
set(RVAE_SOURCES_model
  src/model/presets.cpp
  src/model/preview.cpp
)

# the HTTP vocabulary the protocols and the transport share
set(RVAE_LAYER_DEPS_http core)
set(RVAE_SOURCES_http
  src/http/message.cpp
  src/http/retryable.cpp
)

# pure wire rules: inputs to requests, replies to validated outputs
set(RVAE_LAYER_DEPS_protocol core tensor files codec http request)
set(RVAE_SOURCES_protocol
  src/protocol/body_text.cpp
  src/protocol/decode_reply.cpp
  src/protocol/decode_request.cpp
  src/protocol/encode_reply.cpp
  src/protocol/encode_request.cpp
  src/protocol/endpoint.cpp
  src/protocol/error_reply.cpp
  src/protocol/latent_normalization.cpp
  src/protocol/open_inference_decode.cpp
  src/protocol/open_inference_metadata.cpp
  src/protocol/open_inference_pixels.cpp
  src/protocol/open_inference_plan.cpp
  src/protocol/open_inference_reply.cpp
  src/protocol/open_inference_reply_json.cpp
  src/protocol/open_inference_request.cpp
  src/protocol/open_inference_route.cpp
  src/protocol/query_format.cpp
  src/protocol/streamed_decode_reply.cpp
  src/protocol/tensor_reply.cpp
)

# libcurl behind submit(url, request, sink)
set(RVAE_LAYER_DEPS_transport core http)
set(RVAE_SOURCES_transport
  src/transport/curl_errors.cpp
  src/transport/curl_transfer.cpp
  src/transport/curl_transport.cpp
  src/transport/phases.cpp
  src/transport/redirect.cpp
  src/transport/reply_buffer.cpp
  src/transport/url.cpp
)

# the request engine: one wire request per call, retries, replicas, token
set(RVAE_LAYER_DEPS_api core tensor codec http protocol transport request)
set(RVAE_SOURCES_api
  src/api/call.cpp
  src/api/endpoint_check.cpp
  src/api/engine.cpp
  src/api/model_catalog.cpp
  src/api/open_inference_calls.cpp
  src/api/replica_tracker.cpp
  src/api/retry_schedule.cpp
  src/api/open_inference_stream_sink.cpp
  src/api/reply_streamer.cpp
  src/api/split_reply_sink.cpp
  src/api/streamed_decode.cpp
  src/api/streamed_decode_sink.cpp
  src/api/token_policy.cpp
  src/api/token_source.cpp
  src/api/worker_pool.cpp
)

# tiles past a size cap, on the engine's async interface
set(RVAE_LAYER_DEPS_tiling core tensor codec api request)
set(RVAE_SOURCES_tiling
  src/tiling/chunk_latents.cpp
  src/tiling/chunk_plan.cpp
  src/tiling/clip_mosaic.cpp
  src/tiling/chunked_decode.cpp
  src/tiling/joined_stream.cpp
  src/tiling/tile_images.cpp
  src/tiling/tile_latents.cpp
  src/tiling/tile_pixels.cpp
  src/tiling/tile_plan.cpp
  src/tiling/tiled_calls.cpp
  src/tiling/tiled_decode.cpp
  src/tiling/tiled_encode.cpp
)

# the public Client: every call form, routed through the tiler
set(RVAE_LAYER_DEPS_client core tensor codec api tiling request)
set(RVAE_SOURCES_client
  src/client/client.cpp
)

# the C API over the C++ one
set(RVAE_LAYER_DEPS_capi core tensor files codec model api tiling client request)
set(RVAE_SOURCES_capi
  src/capi/cancel.cpp
  src/capi/client.cpp
  src/capi/convert.cpp
  src/capi/decode.cpp
  src/capi/encode.cpp
  src/capi/errors.cpp
  src/capi/presets.cpp
  src/capi/stream.cpp
)
