// Streamed decode replies through the C API against the reference endpoint, on both protocols:
// frames through frame_callback equal the held images, a float tensor lands in a caller's
// buffer sized by rvae_decode_reply_layout, a buffer too small is refused before sending, a
// callback's nonzero return stops the call, retries after a partial delivery, and the stream
// fields each call refuses.
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "capi/capi_fixture.hpp"
#include "rvae/rvae.hpp"

namespace {

using rvae_capi_test::CapiTest;
using rvae_capi_test::ErrorPtr;
using rvae_capi_test::expect_error;
using rvae_capi_test::ResultPtr;

constexpr std::size_t kFrameBytes = 32 * 40 * 3;

// HunyuanVideo latents [1,16,5,4,5] in float16: 17 frames of 32x40.
struct VideoLatents {
  VideoLatents() {
    std::vector<float> values(16 * 5 * 4 * 5);
    for (std::size_t i = 0; i < values.size(); ++i)
      values[i] = std::sin(static_cast<float>(i) * 0.37f) * 2.0f;
    const rvae::Shape dims(shape.begin(), shape.end());
    tensor =
        rvae::convert(rvae::Tensor::from_floats(dims, values).value().view(), rvae::DType::kFloat16)
            .value();
  }
  rvae_tensor_view view() const {
    return rvae_tensor_view{tensor.data(), shape.data(), static_cast<int>(shape.size()),
                            RVAE_DTYPE_FLOAT16};
  }
  std::vector<std::int64_t> shape{1, 16, 5, 4, 5};
  rvae::Tensor tensor;
};

// What the callbacks saw, and whether they ever overlapped or ran on the calling thread.
struct Seen {
  std::mutex mutex;
  std::thread::id caller = std::this_thread::get_id();
  std::atomic<int> running{0};
  bool overlapped = false;
  bool on_caller = false;
  std::vector<rvae_reply_layout> layouts;
  std::vector<std::int64_t> indices;
  std::vector<std::vector<std::uint8_t>> frames;
  std::vector<std::uint8_t> chunks;
  bool chunks_in_order = true;
  bool layout_first = true;
  int stop_at_frame = -1;  // frame_callback returns 7 at this index
  int stop_layout = 0;     // layout_callback returns this
  int stop_after_chunks = -1;

  void enter() {
    if (running.fetch_add(1) != 0) overlapped = true;
    if (std::this_thread::get_id() == caller) on_caller = true;
  }
  void leave() { running.fetch_sub(1); }
};

int on_layout(const rvae_reply_layout* layout, void* user_data) {
  Seen& seen = *static_cast<Seen*>(user_data);
  seen.enter();
  {
    std::lock_guard<std::mutex> lock(seen.mutex);
    seen.layouts.push_back(*layout);
  }
  seen.leave();
  return seen.stop_layout;
}

int on_frame(const rvae_frame* frame, void* user_data) {
  Seen& seen = *static_cast<Seen*>(user_data);
  seen.enter();
  {
    std::lock_guard<std::mutex> lock(seen.mutex);
    if (seen.layouts.empty()) seen.layout_first = false;
    seen.indices.push_back(frame->index);
    EXPECT_EQ(frame->width, 40);
    EXPECT_EQ(frame->height, 32);
    EXPECT_EQ(frame->channels, 3);
    EXPECT_EQ(frame->size, kFrameBytes);
    seen.frames.emplace_back(frame->pixels, frame->pixels + frame->size);
  }
  seen.leave();
  return frame->index == seen.stop_at_frame ? 7 : 0;
}

int on_chunk(uint64_t offset, const uint8_t* data, size_t size, void* user_data) {
  Seen& seen = *static_cast<Seen*>(user_data);
  seen.enter();
  int result = 0;
  {
    std::lock_guard<std::mutex> lock(seen.mutex);
    if (seen.layouts.empty()) seen.layout_first = false;
    if (offset != seen.chunks.size()) seen.chunks_in_order = false;
    seen.chunks.insert(seen.chunks.end(), data, data + size);
    if (seen.stop_after_chunks >= 0 && --seen.stop_after_chunks < 0) result = -1;
  }
  seen.leave();
  return result;
}

class CapiStreaming : public CapiTest {
 protected:
  std::string hf() const { return url("/hunyuan-video/decode/"); }
  std::string oip() const { return url("/v2/models/hunyuan-video_decoder"); }

  static rvae_decode_params params_of(rvae_output_type type) {
    rvae_decode_params params;
    rvae_decode_params_init(&params, "hunyuan-video");
    params.output_type = type;
    return params;
  }

  // The same decode held whole.
  ResultPtr held(const std::string& endpoint, rvae_output_type type) {
    const rvae_tensor_view view = latents_.view();
    const rvae_decode_params params = params_of(type);
    rvae_decode_result* raw = nullptr;
    rvae_error* err = nullptr;
    EXPECT_EQ(rvae_decode_full(client_, endpoint.c_str(), &view, &params, &raw, &err), RVAE_OK)
        << rvae_error_message(err);
    rvae_error_free(err);
    return ResultPtr(raw);
  }

  rvae_client* client_with_retries() {
    rvae_client_params params;
    rvae_client_params_init(&params);
    params.token_from_environment = 0;
    params.max_attempts = 3;
    return rvae_client_new(&params, nullptr);
  }

  VideoLatents latents_;
};

TEST_F(CapiStreaming, FramesThroughTheCallbackEqualTheHeldImages) {
  const rvae_tensor_view view = latents_.view();
  for (const std::string& endpoint : {hf(), oip()}) {
    SCOPED_TRACE(endpoint);
    Seen seen;
    rvae_decode_params params = params_of(RVAE_OUTPUT_UINT8);
    params.frame_callback = on_frame;
    params.layout_callback = on_layout;
    params.stream_user_data = &seen;
    params.stream_max_buffered_bytes = 1;  // one frame at a time
    rvae_decode_result* raw = nullptr;
    rvae_error* err = nullptr;
    ASSERT_EQ(rvae_decode_full(client_, endpoint.c_str(), &view, &params, &raw, &err), RVAE_OK)
        << rvae_error_message(err);
    EXPECT_EQ(err, nullptr);
    ResultPtr streamed(raw);
    const ResultPtr expected = held(endpoint, RVAE_OUTPUT_UINT8);
    ASSERT_NE(expected, nullptr);
    ASSERT_EQ(expected->image_count, 17u);

    // Nothing held, everything delivered once, in order, one callback at a time, off the
    // calling thread.
    EXPECT_EQ(streamed->type, RVAE_OUTPUT_UINT8);
    EXPECT_EQ(streamed->image_count, 0u);
    EXPECT_EQ(streamed->images, nullptr);
    EXPECT_EQ(streamed->tensor.data, nullptr);
    EXPECT_EQ(streamed->bytes, nullptr);
    EXPECT_EQ(streamed->streamed, 1);
    EXPECT_EQ(streamed->frames_delivered, 17);
    EXPECT_EQ(streamed->bytes_delivered, 17 * kFrameBytes);
    EXPECT_GE(streamed->first_delivery_us, 0);
    EXPECT_EQ(streamed->has_dtype, 1);
    EXPECT_EQ(streamed->dtype, RVAE_DTYPE_UINT8);
    EXPECT_FALSE(seen.overlapped);
    EXPECT_FALSE(seen.on_caller);
    EXPECT_TRUE(seen.layout_first);
    ASSERT_EQ(seen.layouts.size(), 1u);
    const rvae_reply_layout& layout = seen.layouts[0];
    EXPECT_EQ(layout.struct_size, sizeof(rvae_reply_layout));
    EXPECT_EQ(layout.type, RVAE_OUTPUT_UINT8);
    EXPECT_EQ(layout.ndim, 4);
    EXPECT_EQ(std::vector<std::int64_t>(layout.shape, layout.shape + 4),
              (std::vector<std::int64_t>{17, 32, 40, 3}));
    EXPECT_EQ(layout.frames, 17);
    EXPECT_EQ(layout.frame_bytes, kFrameBytes);
    ASSERT_EQ(seen.frames.size(), 17u);
    for (std::size_t i = 0; i < 17; ++i) {
      EXPECT_EQ(seen.indices[i], static_cast<std::int64_t>(i));
      const rvae_image& image = expected->images[i];
      ASSERT_EQ(std::size_t{image.width} * image.height * image.channels, kFrameBytes);
      EXPECT_EQ(std::memcmp(seen.frames[i].data(), image.data, kFrameBytes), 0) << "frame " << i;
    }
  }
}

TEST_F(CapiStreaming, ATiledDecodeHandsOutItsJoinedFramesOffTheCallingThread) {
  const rvae_tensor_view view = latents_.view();
  rvae_decode_params tiled = params_of(RVAE_OUTPUT_UINT8);
  tiled.tile_mode = RVAE_TILE_ON;
  tiled.tile_size = 16;  // 32x40 output: 2x3 tiles
  tiled.tile_overlap = RVAE_TILE_NONE;
  rvae_decode_result* raw = nullptr;
  rvae_error* err = nullptr;
  ASSERT_EQ(rvae_decode_full(client_, hf().c_str(), &view, &tiled, &raw, &err), RVAE_OK)
      << rvae_error_message(err);
  const ResultPtr expected(raw);
  ASSERT_EQ(expected->image_count, 17u);
  Seen seen;
  tiled.frame_callback = on_frame;
  tiled.stream_user_data = &seen;
  raw = nullptr;
  ASSERT_EQ(rvae_decode_full(client_, hf().c_str(), &view, &tiled, &raw, &err), RVAE_OK)
      << rvae_error_message(err);
  const ResultPtr streamed(raw);
  EXPECT_EQ(streamed->frames_delivered, 17);
  EXPECT_EQ(streamed->image_count, 0u);
  EXPECT_FALSE(seen.on_caller);
  ASSERT_EQ(seen.frames.size(), 17u);
  for (std::size_t i = 0; i < 17; ++i) {
    EXPECT_EQ(seen.indices[i], static_cast<std::int64_t>(i));
    EXPECT_EQ(std::memcmp(seen.frames[i].data(), expected->images[i].data, kFrameBytes), 0)
        << "frame " << i;
  }
}

TEST_F(CapiStreaming, AFloatTensorLandsInABufferSizedByTheReplyLayout) {
  const rvae_tensor_view view = latents_.view();
  for (const std::string& endpoint : {hf(), oip()}) {
    SCOPED_TRACE(endpoint);
    rvae_decode_params params = params_of(RVAE_OUTPUT_FLOAT_TENSOR);
    rvae_reply_layout layout;
    layout.struct_size = sizeof layout;
    rvae_error* err = nullptr;
    ASSERT_EQ(rvae_decode_reply_layout(client_, endpoint.c_str(), &view, &params, &layout, &err),
              RVAE_OK)
        << rvae_error_message(err);
    EXPECT_EQ(err, nullptr);
    const ResultPtr expected = held(endpoint, RVAE_OUTPUT_FLOAT_TENSOR);
    ASSERT_NE(expected, nullptr);
    const rvae_tensor& tensor = expected->tensor;
    ASSERT_EQ(tensor.ndim, 5);
    std::size_t numel = 1;
    for (int d = 0; d < tensor.ndim; ++d)
      numel *= static_cast<std::size_t>(tensor.shape[d]);
    const std::size_t element = tensor.dtype == RVAE_DTYPE_FLOAT32 ? 4 : 2;

    EXPECT_EQ(layout.type, RVAE_OUTPUT_FLOAT_TENSOR);
    ASSERT_EQ(layout.ndim, 5);
    EXPECT_EQ(std::vector<std::int64_t>(layout.shape, layout.shape + 5),
              std::vector<std::int64_t>(tensor.shape, tensor.shape + 5));
    EXPECT_EQ(layout.frames, 0);
    if (endpoint == hf()) {
      // The Hugging Face protocol says the float dtype only in the reply: bounded by float32.
      EXPECT_EQ(layout.has_dtype, 0);
      EXPECT_EQ(layout.bytes, numel * 4);
    } else {
      EXPECT_EQ(layout.has_dtype, 1);
      EXPECT_EQ(layout.dtype, tensor.dtype);
      EXPECT_EQ(layout.bytes, numel * element);
    }

    std::vector<std::uint8_t> buffer(layout.bytes, 0xAB);
    params.into = buffer.data();
    params.into_size = buffer.size();
    rvae_decode_result* raw = nullptr;
    ASSERT_EQ(rvae_decode_full(client_, endpoint.c_str(), &view, &params, &raw, &err), RVAE_OK)
        << rvae_error_message(err);
    ResultPtr streamed(raw);
    EXPECT_EQ(streamed->streamed, 1);
    EXPECT_EQ(streamed->tensor.data, nullptr);
    EXPECT_EQ(streamed->tensor.ndim, 0);
    EXPECT_EQ(streamed->has_dtype, 1);
    EXPECT_EQ(streamed->dtype, tensor.dtype);
    EXPECT_EQ(streamed->bytes_delivered, numel * element);
    EXPECT_EQ(std::memcmp(buffer.data(), tensor.data, numel * element), 0);
  }
}

TEST_F(CapiStreaming, AFloatTensorStreamsThroughTheChunkCallback) {
  const rvae_tensor_view view = latents_.view();
  Seen seen;
  rvae_decode_params params = params_of(RVAE_OUTPUT_FLOAT_TENSOR);
  params.chunk_callback = on_chunk;
  params.layout_callback = on_layout;
  params.stream_user_data = &seen;
  params.stream_max_buffered_bytes = 64 << 10;  // several chunks for this small reply
  rvae_decode_result* raw = nullptr;
  rvae_error* err = nullptr;
  ASSERT_EQ(rvae_decode_full(client_, hf().c_str(), &view, &params, &raw, &err), RVAE_OK)
      << rvae_error_message(err);
  ResultPtr streamed(raw);
  const ResultPtr expected = held(hf(), RVAE_OUTPUT_FLOAT_TENSOR);
  ASSERT_NE(expected, nullptr);
  std::size_t numel = 1;
  for (int d = 0; d < expected->tensor.ndim; ++d)
    numel *= static_cast<std::size_t>(expected->tensor.shape[d]);
  const std::size_t size = numel * (expected->tensor.dtype == RVAE_DTYPE_FLOAT32 ? 4 : 2);
  EXPECT_TRUE(seen.chunks_in_order);
  EXPECT_TRUE(seen.layout_first);
  EXPECT_FALSE(seen.overlapped);
  ASSERT_EQ(seen.layouts.size(), 1u);
  EXPECT_EQ(seen.layouts[0].has_dtype, 1);  // known from the reply's header
  EXPECT_EQ(seen.layouts[0].dtype, expected->tensor.dtype);
  ASSERT_EQ(seen.chunks.size(), size);
  EXPECT_EQ(std::memcmp(seen.chunks.data(), expected->tensor.data, size), 0);
  EXPECT_EQ(streamed->bytes_delivered, size);
  EXPECT_EQ(streamed->frames_delivered, 0);
}

TEST_F(CapiStreaming, ABufferTooSmallIsRefusedBeforeAnythingIsSent) {
  const rvae_tensor_view view = latents_.view();
  for (const std::string& endpoint : {hf(), oip()}) {
    SCOPED_TRACE(endpoint);
    rvae_decode_params params = params_of(RVAE_OUTPUT_UINT8);
    std::vector<std::uint8_t> buffer(17 * kFrameBytes - 1);
    params.into = buffer.data();
    params.into_size = buffer.size();
    const std::uint64_t before = endpoint_.stats().inference_requests;
    rvae_decode_result* raw = nullptr;
    rvae_error* err = nullptr;
    expect_error(rvae_decode_full(client_, endpoint.c_str(), &view, &params, &raw, &err), err,
                 RVAE_ERR_INVALID_ARGUMENT, "params->into_size is 65279 bytes");
    EXPECT_EQ(raw, nullptr);
    EXPECT_EQ(endpoint_.stats().inference_requests, before);
    // The uint8 layout it was refused against.
    rvae_reply_layout layout;
    layout.struct_size = sizeof layout;
    ASSERT_EQ(rvae_decode_reply_layout(client_, endpoint.c_str(), &view, &params, &layout, &err),
              RVAE_OK)
        << rvae_error_message(err);
    EXPECT_EQ(layout.has_dtype, 1);
    EXPECT_EQ(layout.dtype, RVAE_DTYPE_UINT8);
    EXPECT_EQ(layout.bytes, 17 * kFrameBytes);
    EXPECT_EQ(endpoint_.stats().inference_requests, before);
  }
}

TEST_F(CapiStreaming, AFrameCallbackReturningNonzeroStopsTheCall) {
  const rvae_tensor_view view = latents_.view();
  Seen seen;
  seen.stop_at_frame = 3;
  rvae_decode_params params = params_of(RVAE_OUTPUT_UINT8);
  params.frame_callback = on_frame;
  params.stream_user_data = &seen;
  rvae_decode_result* raw = nullptr;
  rvae_error* err = nullptr;
  expect_error(rvae_decode_full(client_, hf().c_str(), &view, &params, &raw, &err), err,
               RVAE_ERR_CANCELLED, "params->frame_callback returned 7");
  EXPECT_EQ(raw, nullptr);
  EXPECT_EQ(seen.frames.size(), 4u);  // nothing after the one that stopped it

  // The message says which frames were handed out.
  Seen again;
  again.stop_at_frame = 3;
  params.stream_user_data = &again;
  ASSERT_NE(rvae_decode_full(client_, hf().c_str(), &view, &params, &raw, &err), RVAE_OK);
  ErrorPtr error(err);
  EXPECT_NE(std::string(rvae_error_message(err)).find("frames 0-2 of 17"), std::string::npos)
      << rvae_error_message(err);
  EXPECT_EQ(rvae_error_retryable(err), 0);
}

TEST_F(CapiStreaming, ChunkAndLayoutCallbacksReturningNonzeroStopTheCall) {
  // 33 frames of 256x256 as a float tensor: megabytes, many chunks of at least 64 KiB.
  const std::int64_t big_shape[] = {1, 16, 9, 32, 32};
  const std::vector<std::uint16_t> zeros(16 * 9 * 32 * 32, 0);
  const rvae_tensor_view big{zeros.data(), big_shape, 5, RVAE_DTYPE_FLOAT16};
  Seen chunks;
  chunks.stop_after_chunks = 0;  // -1 from the first chunk
  rvae_decode_params params = params_of(RVAE_OUTPUT_FLOAT_TENSOR);
  params.chunk_callback = on_chunk;
  params.stream_user_data = &chunks;
  // The default budget (32 MiB: chunks of 8 MiB) holds this reply without pausing its transfer.
  rvae_decode_result* raw = nullptr;
  rvae_error* err = nullptr;
  expect_error(rvae_decode_full(client_, hf().c_str(), &big, &params, &raw, &err), err,
               RVAE_ERR_CANCELLED, "params->chunk_callback returned -1");
  // Exactly one chunk was handed out: none after the one that stopped it.
  EXPECT_EQ(chunks.chunks.size(), std::size_t{8} << 20);

  const rvae_tensor_view view = latents_.view();

  Seen layout;
  layout.stop_layout = 2;
  params = params_of(RVAE_OUTPUT_UINT8);
  params.frame_callback = on_frame;
  params.layout_callback = on_layout;
  params.stream_user_data = &layout;
  expect_error(rvae_decode_full(client_, hf().c_str(), &view, &params, &raw, &err), err,
               RVAE_ERR_CANCELLED, "params->layout_callback returned 2");
  EXPECT_EQ(layout.layouts.size(), 1u);
  EXPECT_TRUE(layout.frames.empty());
}

// What rvae.h allows a callback: cancelling its call's token, which stops further deliveries.
struct CancelAt {
  rvae_cancel_token* token;
  std::atomic<int> calls{0};
};

int cancel_at_second_frame(const rvae_frame* frame, void* user_data) {
  CancelAt& at = *static_cast<CancelAt*>(user_data);
  ++at.calls;
  if (frame->index == 1) rvae_cancel_token_cancel(at.token);
  return 0;
}

void expect_cancelled_at_second_frame(rvae_client* client, const std::string& endpoint,
                                      const rvae_tensor_view& view, rvae_decode_params params) {
  CancelAt at;
  at.token = rvae_cancel_token_new();
  ASSERT_NE(at.token, nullptr);
  params.cancel = at.token;
  params.frame_callback = cancel_at_second_frame;
  params.stream_user_data = &at;
  rvae_decode_result* raw = nullptr;
  rvae_error* err = nullptr;
  const int status = rvae_decode_full(client, endpoint.c_str(), &view, &params, &raw, &err);
  ErrorPtr error(err);
  ResultPtr result(raw);
  EXPECT_EQ(status, RVAE_ERR_CANCELLED) << rvae_error_message(err);
  EXPECT_EQ(raw, nullptr);
  EXPECT_EQ(at.calls.load(), 2);
  rvae_cancel_token_free(at.token);
}

TEST_F(CapiStreaming, CancellingTheTokenFromACallbackStopsTheDeliveries) {
  rvae_decode_params params = params_of(RVAE_OUTPUT_UINT8);
  params.stream_max_buffered_bytes = 1;  // one frame at a time: the rest is not yet received
  expect_cancelled_at_second_frame(client_, hf(), latents_.view(), params);
}

// The whole reply is in before the callback cancels (a budget larger than the reply): the
// frames not handed out still make the call fail.
TEST_F(CapiStreaming, CancellingAfterTheWholeReplyArrivedFailsTheCall) {
  expect_cancelled_at_second_frame(client_, hf(), latents_.view(), params_of(RVAE_OUTPUT_UINT8));
}

// A callback stopping a paused transfer: the call ends with the callback's error, not with how
// the transfer was ended.
TEST_F(CapiStreaming, ACallbackStoppingAPausedTransferReportsItself) {
  const std::int64_t big_shape[] = {1, 16, 9, 32, 32};
  const std::vector<std::uint16_t> zeros(16 * 9 * 32 * 32, 0);
  const rvae_tensor_view big{zeros.data(), big_shape, 5, RVAE_DTYPE_FLOAT16};
  Seen chunks;
  chunks.stop_after_chunks = 0;
  rvae_decode_params params = params_of(RVAE_OUTPUT_FLOAT_TENSOR);
  params.chunk_callback = on_chunk;
  params.stream_user_data = &chunks;
  params.stream_max_buffered_bytes = 256 << 10;  // chunks of 64 KiB; the transfer pauses
  rvae_decode_result* raw = nullptr;
  rvae_error* err = nullptr;
  expect_error(rvae_decode_full(client_, hf().c_str(), &big, &params, &raw, &err), err,
               RVAE_ERR_CANCELLED, "params->chunk_callback returned -1");
  EXPECT_EQ(chunks.chunks.size(), std::size_t{64} << 10);
}

TEST_F(CapiStreaming, ARetryAfterAPartialDeliveryHandsOutEachFrameOnceUnlessRefused) {
  const rvae_tensor_view view = latents_.view();
  const ResultPtr expected = held(hf(), RVAE_OUTPUT_UINT8);
  ASSERT_NE(expected, nullptr);
  rvae_client* client = client_with_retries();
  ASSERT_NE(client, nullptr);

  endpoint_.set_reply_fault(rvae::reference::ReplyFault::kTruncateBody, 1);
  Seen seen;
  rvae_decode_params params = params_of(RVAE_OUTPUT_UINT8);
  params.frame_callback = on_frame;
  params.stream_user_data = &seen;
  rvae_decode_result* raw = nullptr;
  rvae_error* err = nullptr;
  EXPECT_EQ(rvae_decode_full(client, hf().c_str(), &view, &params, &raw, &err), RVAE_OK)
      << rvae_error_message(err);
  ResultPtr resumed(raw);
  ASSERT_EQ(seen.frames.size(), 17u);
  for (std::size_t i = 0; i < 17; ++i) {
    EXPECT_EQ(seen.indices[i], static_cast<std::int64_t>(i));
    EXPECT_EQ(std::memcmp(seen.frames[i].data(), expected->images[i].data, kFrameBytes), 0);
  }

  endpoint_.set_reply_fault(rvae::reference::ReplyFault::kTruncateBody, 1);
  Seen refused;
  params.stream_user_data = &refused;
  params.fail_after_partial_delivery = 1;
  expect_error(rvae_decode_full(client, hf().c_str(), &view, &params, &raw, &err), err,
               RVAE_ERR_DATA_LOSS, "not retried");
  EXPECT_EQ(refused.frames.size(), 8u);
  rvae_client_free(client);
}

TEST_F(CapiStreaming, StreamFieldsThatCannotServeTheCallAreRefused) {
  const rvae_tensor_view view = latents_.view();
  std::vector<std::uint8_t> buffer(1 << 20);
  rvae_decode_result* raw = nullptr;
  rvae_error* err = nullptr;
  const std::uint64_t before = endpoint_.stats().inference_requests;

  rvae_decode_params two = params_of(RVAE_OUTPUT_UINT8);
  two.frame_callback = on_frame;
  two.into = buffer.data();
  two.into_size = buffer.size();
  expect_error(rvae_decode_full(client_, hf().c_str(), &view, &two, &raw, &err), err,
               RVAE_ERR_INVALID_ARGUMENT, "at most one of params->frame_callback");

  rvae_decode_params layout_alone = params_of(RVAE_OUTPUT_UINT8);
  layout_alone.layout_callback = on_layout;
  expect_error(rvae_decode_full(client_, hf().c_str(), &view, &layout_alone, &raw, &err), err,
               RVAE_ERR_INVALID_ARGUMENT, "params->layout_callback needs one of");

  rvae_decode_params size_alone = params_of(RVAE_OUTPUT_UINT8);
  size_alone.into_size = 10;
  expect_error(rvae_decode_full(client_, hf().c_str(), &view, &size_alone, &raw, &err), err,
               RVAE_ERR_INVALID_ARGUMENT, "params->into is NULL");

  rvae_decode_params frames_of_floats = params_of(RVAE_OUTPUT_FLOAT_TENSOR);
  frames_of_floats.frame_callback = on_frame;
  expect_error(rvae_decode_full(client_, hf().c_str(), &view, &frames_of_floats, &raw, &err), err,
               RVAE_ERR_INVALID_ARGUMENT, "params->frame_callback needs output_type");

  rvae_decode_params image = params_of(RVAE_OUTPUT_IMAGE);
  image.chunk_callback = on_chunk;
  expect_error(rvae_decode_full(client_, hf().c_str(), &view, &image, &raw, &err), err,
               RVAE_ERR_INVALID_ARGUMENT, "RVAE_OUTPUT_IMAGE reply is decoded whole");

  rvae_decode_params mp4_into = params_of(RVAE_OUTPUT_MP4);
  mp4_into.into = buffer.data();
  mp4_into.into_size = buffer.size();
  expect_error(rvae_decode_full(client_, hf().c_str(), &view, &mp4_into, &raw, &err), err,
               RVAE_ERR_INVALID_ARGUMENT, "use params->chunk_callback");

  rvae_decode_params flag = params_of(RVAE_OUTPUT_UINT8);
  flag.frame_callback = on_frame;
  flag.fail_after_partial_delivery = 2;
  expect_error(rvae_decode_full(client_, hf().c_str(), &view, &flag, &raw, &err), err,
               RVAE_ERR_INVALID_ARGUMENT, "fail_after_partial_delivery must be 0 or 1");

  // The calls that hold their replies refuse the stream fields.
  rvae_decode_params one = params_of(RVAE_OUTPUT_UINT8);
  one.frame_callback = on_frame;
  rvae_image image_out;
  expect_error(rvae_decode(client_, hf().c_str(), &view, &one, &image_out, &err), err,
               RVAE_ERR_INVALID_ARGUMENT, "are for rvae_decode_full");
  rvae_decode_result* results[1] = {nullptr};
  expect_error(rvae_decode_batch(client_, hf().c_str(), &view, 1, &one, results, nullptr, &err),
               err, RVAE_ERR_INVALID_ARGUMENT, "are for rvae_decode_full");
  EXPECT_EQ(results[0], nullptr);

  EXPECT_EQ(endpoint_.stats().inference_requests, before);
}

TEST_F(CapiStreaming, ReplyLayoutRefusesNullArgumentsAndOldStructs) {
  const rvae_tensor_view view = latents_.view();
  const rvae_decode_params params = params_of(RVAE_OUTPUT_UINT8);
  rvae_reply_layout layout;
  layout.struct_size = sizeof layout;
  rvae_error* err = nullptr;
  expect_error(rvae_decode_reply_layout(nullptr, hf().c_str(), &view, &params, &layout, &err), err,
               RVAE_ERR_INVALID_ARGUMENT, "rvae_decode_reply_layout: client is NULL");
  expect_error(rvae_decode_reply_layout(client_, hf().c_str(), nullptr, &params, &layout, &err),
               err, RVAE_ERR_INVALID_ARGUMENT, "rvae_decode_reply_layout: latents is NULL");
  expect_error(rvae_decode_reply_layout(client_, hf().c_str(), &view, &params, nullptr, &err), err,
               RVAE_ERR_INVALID_ARGUMENT, "rvae_decode_reply_layout: out is NULL");
  layout.struct_size = sizeof layout - 1;
  expect_error(rvae_decode_reply_layout(client_, hf().c_str(), &view, &params, &layout, &err), err,
               RVAE_ERR_INVALID_ARGUMENT, "out->struct_size is");
  rvae_decode_params unknown = params;
  unknown.model = "no-such-model";
  layout.struct_size = sizeof layout;
  expect_error(rvae_decode_reply_layout(client_, hf().c_str(), &view, &unknown, &layout, &err), err,
               RVAE_ERR_INVALID_ARGUMENT, "no-such-model");
  // NULL params and NULL err are allowed: default params (an image, no layout to speak of).
  const std::int64_t image_shape[] = {1, 4, 8, 6};
  const rvae_tensor_view image_view{latents_.tensor.data(), image_shape, 4, RVAE_DTYPE_FLOAT16};
  ASSERT_EQ(rvae_decode_reply_layout(client_, url("/sd15/decode/").c_str(), &image_view, nullptr,
                                     &layout, nullptr),
            RVAE_OK);
  EXPECT_EQ(layout.type, RVAE_OUTPUT_IMAGE);
  EXPECT_EQ(layout.ndim, 0);
  EXPECT_EQ(layout.has_dtype, 0);
}

// A program built against a newer rvae.h, whose rvae_reply_layout has grown: today's fields are
// filled, the bytes after them are left alone.
TEST_F(CapiStreaming, ALargerReplyLayoutGetsTodaysFields) {
  struct Newer {
    rvae_reply_layout today;
    double added_later;
  } newer;
  newer.added_later = 42.0;
  newer.today.struct_size = sizeof newer;
  const rvae_tensor_view view = latents_.view();
  const rvae_decode_params params = params_of(RVAE_OUTPUT_UINT8);
  rvae_error* err = nullptr;
  ASSERT_EQ(rvae_decode_reply_layout(client_, hf().c_str(), &view, &params, &newer.today, &err),
            RVAE_OK)
      << rvae_error_message(err);
  EXPECT_EQ(newer.today.struct_size, sizeof newer);
  EXPECT_EQ(newer.today.frames, 17);
  EXPECT_EQ(newer.added_later, 42.0);
}

}  // namespace
