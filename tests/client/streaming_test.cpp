// Decode replies used as they arrive (DecodeOptions::stream) against the reference endpoint, on
// both protocols: frames, chunks and the caller's buffer hold exactly what the held-whole reply
// holds; replies cut short, running long or failing part-way; callbacks that throw or cancel;
// retries after a partial delivery; a slow consumer pausing its transfer while others go on.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "rvae/rvae.hpp"
#include "rvae/testing/reference_endpoint.hpp"
#include "support/result_matchers.hpp"
#include "support/scripted_server.hpp"

namespace rvae {
namespace {

using reference::ReferenceEndpoint;
using reference::ReferenceEndpointOptions;
using reference::ReplyFault;
using ::testing::HasSubstr;
using testing_support::IsError;
using testing_support::IsOk;

ClientOptions quiet_options(int attempts = 1) {
  ClientOptions options;
  options.token_from_environment = false;
  options.retry.max_attempts = attempts;
  options.retry.initial_backoff = std::chrono::milliseconds(1);
  options.retry.max_backoff = std::chrono::milliseconds(2);
  options.deadline = std::chrono::seconds(30);
  return options;
}

Tensor video_latents(std::int64_t frames = 5, std::int64_t h = 4, std::int64_t w = 5) {
  const Shape shape{1, 16, frames, h, w};
  std::vector<float> values(static_cast<std::size_t>(16 * frames * h * w));
  for (std::size_t i = 0; i < values.size(); ++i)
    values[i] = std::sin(static_cast<float>(i) * 0.37f) * 2.0f;
  return convert(Tensor::from_floats(shape, values).value().view(), DType::kFloat16).value();
}

const ModelPreset& hunyuan() {
  static const PresetRegistry presets = PresetRegistry::builtin();
  return *presets.find("hunyuan-video");
}

DecodeOptions video_options(OutputType type) {
  DecodeOptions options = hunyuan().decode_options();
  options.output_type = type;
  return options;
}

// What the callbacks saw, thread-safely.
struct Received {
  std::mutex mutex;
  std::vector<std::int64_t> indices;
  std::vector<Bytes> frames;
  std::vector<ReplyLayout> layouts;
  Bytes chunks;
  std::vector<std::uint64_t> offsets;
  bool layout_first = true;

  void attach_frames(ReplyStream& stream) {
    stream.on_layout = [this](const ReplyLayout& layout) {
      std::lock_guard<std::mutex> lock(mutex);
      layouts.push_back(layout);
    };
    stream.on_frame = [this](const FrameView& frame) {
      std::lock_guard<std::mutex> lock(mutex);
      if (layouts.empty()) layout_first = false;
      indices.push_back(frame.index);
      frames.emplace_back(frame.image.pixels, frame.image.pixels + frame.image.size_bytes);
    };
  }
  void attach_chunks(ReplyStream& stream) {
    stream.on_layout = [this](const ReplyLayout& layout) {
      std::lock_guard<std::mutex> lock(mutex);
      layouts.push_back(layout);
    };
    stream.on_chunk = [this](const ReplyChunk& chunk) {
      std::lock_guard<std::mutex> lock(mutex);
      offsets.push_back(chunk.offset);
      EXPECT_EQ(chunk.offset, chunks.size()) << "chunks come in order, without gaps";
      chunks.insert(chunks.end(), chunk.data, chunk.data + chunk.size);
    };
  }
};

class StreamingTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(endpoint_.start()); }
  std::string hf() const { return endpoint_.url("/hunyuan-video/decode/"); }
  std::string oip() const { return endpoint_.url("/v2/models/hunyuan-video_decoder"); }

  // The same decode held whole.
  DecodeOutput whole(const std::string& url, const Tensor& latents, OutputType type) {
    Client client(quiet_options());
    Result<DecodeOutput> out = client.decode(url, latents.view(), video_options(type));
    EXPECT_THAT(out, IsOk());
    return out ? std::move(out).value() : DecodeOutput{};
  }

  ReferenceEndpoint endpoint_;
};

TEST_F(StreamingTest, FramesOfAUint8VideoArriveInOrderAsTheHeldReplyHoldsThem) {
  const Tensor latents = video_latents();
  for (const std::string& url : {hf(), oip()}) {
    SCOPED_TRACE(url);
    Client client(quiet_options());
    Received received;
    DecodeOptions options = video_options(OutputType::kUInt8);
    received.attach_frames(options.stream);
    Result<DecodeOutput> out = client.decode(url, latents.view(), options);
    ASSERT_THAT(out, IsOk());
    const DecodeOutput expected = whole(url, latents, OutputType::kUInt8);
    ASSERT_EQ(expected.images.size(), 17u);
    // Streamed: nothing held, everything handed out, in order, once.
    EXPECT_TRUE(out->images.empty());
    EXPECT_EQ(out->type, OutputType::kUInt8);
    EXPECT_EQ(out->delivered.frames, 17);
    EXPECT_EQ(out->delivered.bytes, 17u * 32 * 40 * 3);
    EXPECT_EQ(out->layout.shape, (Shape{17, 32, 40, 3}));
    ASSERT_EQ(received.layouts.size(), 1u);
    EXPECT_TRUE(received.layout_first);
    EXPECT_EQ(received.layouts[0].frames, 17);
    ASSERT_EQ(received.frames.size(), 17u);
    for (std::size_t i = 0; i < 17; ++i) {
      EXPECT_EQ(received.indices[i], static_cast<std::int64_t>(i));
      EXPECT_TRUE(received.frames[i] == expected.images[i].pixels) << "frame " << i;
    }
  }
}

TEST_F(StreamingTest, AFloatTensorStreamsAsChunksWithItsDtypeKnownFromTheReply) {
  const Tensor latents = video_latents();
  for (const std::string& url : {hf(), oip()}) {
    SCOPED_TRACE(url);
    Client client(quiet_options());
    Received received;
    DecodeOptions options = video_options(OutputType::kFloatTensor);
    options.stream.max_buffered_bytes = 256 << 10;  // Several chunks for this small reply.
    received.attach_chunks(options.stream);
    Result<DecodeOutput> out = client.decode(url, latents.view(), options);
    ASSERT_THAT(out, IsOk());
    const DecodeOutput expected = whole(url, latents, OutputType::kFloatTensor);
    EXPECT_TRUE(out->tensor.empty());
    ASSERT_TRUE(out->layout.dtype.has_value());
    EXPECT_EQ(*out->layout.dtype, expected.tensor.dtype());
    EXPECT_EQ(out->layout.shape, expected.tensor.shape());
    ASSERT_EQ(received.layouts.size(), 1u);
    EXPECT_EQ(received.layouts[0].dtype, expected.tensor.dtype());
    ASSERT_EQ(received.chunks.size(), expected.tensor.size_bytes());
    EXPECT_EQ(std::memcmp(received.chunks.data(), expected.tensor.data(), received.chunks.size()),
              0);
    EXPECT_EQ(out->delivered.bytes, expected.tensor.size_bytes());
  }
}

TEST_F(StreamingTest, TheReplyLandsInTheCallersBufferSizedByReplyLayout) {
  const Tensor latents = video_latents();
  for (const std::string& url : {hf(), oip()}) {
    for (OutputType type : {OutputType::kUInt8, OutputType::kFloatTensor}) {
      SCOPED_TRACE(url + (type == OutputType::kUInt8 ? " uint8" : " float"));
      Client client(quiet_options());
      DecodeOptions options = video_options(type);
      Result<ReplyLayout> layout = client.reply_layout(url, latents.view(), options);
      ASSERT_THAT(layout, IsOk());
      const DecodeOutput expected = whole(url, latents, type);
      std::vector<std::uint8_t> buffer(layout->bytes, 0xAB);
      options.stream.into = buffer.data();
      options.stream.into_size = buffer.size();
      Result<DecodeOutput> out = client.decode(url, latents.view(), options);
      ASSERT_THAT(out, IsOk());
      if (type == OutputType::kUInt8) {
        EXPECT_EQ(layout->shape, (Shape{17, 32, 40, 3}));
        EXPECT_EQ(layout->dtype, DType::kUInt8);
        EXPECT_EQ(out->delivered.frames, 17);
        for (std::size_t i = 0; i < 17; ++i) {
          EXPECT_EQ(std::memcmp(buffer.data() + i * 32 * 40 * 3, expected.images[i].pixels.data(),
                                32 * 40 * 3),
                    0)
              << "frame " << i;
        }
      } else {
        EXPECT_EQ(layout->shape, expected.tensor.shape());
        // The Hugging Face protocol does not say the float dtype before the reply: the layout
        // bounds it by float32; over the other protocol it is the model's.
        if (url == hf()) {
          EXPECT_FALSE(layout->dtype.has_value());
          EXPECT_EQ(layout->bytes, expected.tensor.numel() * 4);
        } else {
          EXPECT_EQ(layout->dtype, expected.tensor.dtype());
          EXPECT_EQ(layout->bytes, expected.tensor.size_bytes());
        }
        EXPECT_EQ(out->layout.dtype, expected.tensor.dtype());
        EXPECT_EQ(std::memcmp(buffer.data(), expected.tensor.data(), expected.tensor.size_bytes()),
                  0);
      }
    }
  }
}

TEST_F(StreamingTest, ABufferTooSmallIsRefusedBeforeAnythingIsSent) {
  const Tensor latents = video_latents();
  for (const std::string& url : {hf(), oip()}) {
    SCOPED_TRACE(url);
    Client client(quiet_options());
    DecodeOptions options = video_options(OutputType::kUInt8);
    std::vector<std::uint8_t> buffer(17 * 32 * 40 * 3 - 1);
    options.stream.into = buffer.data();
    options.stream.into_size = buffer.size();
    const std::uint64_t before = endpoint_.stats().inference_requests;
    EXPECT_THAT(client.decode(url, latents.view(), options),
                IsError(ErrorCode::kInvalidArgument, HasSubstr("needs 65280")));
    EXPECT_EQ(endpoint_.stats().inference_requests, before);
  }
}

TEST_F(StreamingTest, StreamsThatCannotServeTheOutputAreRefused) {
  const Tensor latents = video_latents();
  Client client(quiet_options());
  DecodeOptions frames_of_floats = video_options(OutputType::kFloatTensor);
  frames_of_floats.stream.on_frame = [](const FrameView&) {};
  EXPECT_THAT(client.decode(hf(), latents.view(), frames_of_floats),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("needs uint8 output")));
  DecodeOptions two = video_options(OutputType::kUInt8);
  two.stream.on_frame = [](const FrameView&) {};
  two.stream.on_chunk = [](const ReplyChunk&) {};
  EXPECT_THAT(client.decode(hf(), latents.view(), two),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("one of")));
  std::vector<std::uint8_t> buffer(1 << 20);
  DecodeOptions mp4_into = video_options(OutputType::kMp4);
  mp4_into.stream.into = buffer.data();
  mp4_into.stream.into_size = buffer.size();
  EXPECT_THAT(client.decode(hf(), latents.view(), mp4_into),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("chunk callback")));
}

TEST_F(StreamingTest, AReplyCutMidFrameFailsAndSaysWhichFramesWereHandedOut) {
  const Tensor latents = video_latents();
  const DecodeOutput expected = whole(hf(), latents, OutputType::kUInt8);
  for (ReplyFault fault : {ReplyFault::kTruncateBody, ReplyFault::kCloseMidReply}) {
    endpoint_.set_reply_fault(fault, 1);
    Client client(quiet_options(1));
    Received received;
    DecodeOptions options = video_options(OutputType::kUInt8);
    received.attach_frames(options.stream);
    Result<DecodeOutput> out = client.decode(hf(), latents.view(), options);
    // Half the body came: frames 0-7 of 17 are whole (8.5 frames' bytes).
    ASSERT_FALSE(out.has_value());
    EXPECT_THAT(out.error().message(), HasSubstr("frames 0-7 of 17 were handed out"));
    ASSERT_EQ(received.frames.size(), 8u);
    for (std::size_t i = 0; i < received.frames.size(); ++i)
      EXPECT_TRUE(received.frames[i] == expected.images[i].pixels) << "frame " << i;
    endpoint_.clear_faults();
  }
}

TEST_F(StreamingTest, ARetryAfterAPartialDeliveryHandsOutEachFrameOnce) {
  const Tensor latents = video_latents();
  const DecodeOutput expected = whole(hf(), latents, OutputType::kUInt8);
  endpoint_.set_reply_fault(ReplyFault::kTruncateBody, 1);
  Client client(quiet_options(3));
  Received received;
  DecodeOptions options = video_options(OutputType::kUInt8);
  received.attach_frames(options.stream);
  Result<DecodeOutput> out = client.decode(hf(), latents.view(), options);
  ASSERT_THAT(out, IsOk());
  EXPECT_EQ(out->timings.attempts, 2);
  EXPECT_EQ(out->delivered.frames, 17);
  ASSERT_EQ(received.frames.size(), 17u);
  for (std::size_t i = 0; i < 17; ++i) {
    EXPECT_EQ(received.indices[i], static_cast<std::int64_t>(i));
    EXPECT_TRUE(received.frames[i] == expected.images[i].pixels) << "frame " << i;
  }
  EXPECT_EQ(received.layouts.size(), 1u);
}

TEST_F(StreamingTest, WithoutResumingAPartialDeliveryEndsTheCall) {
  const Tensor latents = video_latents();
  endpoint_.set_reply_fault(ReplyFault::kTruncateBody, 1);
  Client client(quiet_options(3));
  Received received;
  DecodeOptions options = video_options(OutputType::kUInt8);
  options.stream.resume_after_partial_delivery = false;
  received.attach_frames(options.stream);
  Result<DecodeOutput> out = client.decode(hf(), latents.view(), options);
  ASSERT_FALSE(out.has_value());
  EXPECT_THAT(out.error().message(), HasSubstr("not retried: part of the reply was already"));
  EXPECT_EQ(received.frames.size(), 8u);
  EXPECT_EQ(endpoint_.stats().faulted_replies, 1u);
}

TEST_F(StreamingTest, AReplyWhoseHeaderDisagreesIsRefusedBeforeAnyFrame) {
  const Tensor latents = video_latents();
  endpoint_.set_reply_fault(ReplyFault::kWrongShapeHeader, 1);
  Client client(quiet_options(1));
  Received received;
  DecodeOptions options = video_options(OutputType::kUInt8);
  received.attach_frames(options.stream);
  EXPECT_THAT(client.decode(hf(), latents.view(), options),
              IsError(ErrorCode::kDataLoss, HasSubstr("but the request expects")));
  EXPECT_TRUE(received.frames.empty());
  EXPECT_TRUE(received.layouts.empty());
}

TEST(StreamingScripted, AReplyLongerThanItsHeaderDeclaresIsDataLoss) {
  testing_support::ScriptedServer server;
  const std::size_t frame = 32 * 40 * 3;
  server.set_handler([&](const httplib::Request&, httplib::Response& response) {
    response.set_header("shape", "[17, 32, 40, 3]");
    response.set_header("dtype", "uint8");
    response.set_content(std::string(17 * frame + 100, 'x'), "tensor/binary");
  });
  Client client(quiet_options(1));
  Received received;
  DecodeOptions options = video_options(OutputType::kUInt8);
  received.attach_frames(options.stream);
  Result<DecodeOutput> out = client.decode(server.url("/"), video_latents().view(), options);
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().code(), ErrorCode::kDataLoss);
  EXPECT_THAT(out.error().message(), HasSubstr("runs past the 65280 bytes"));
  EXPECT_LE(received.frames.size(), 17u);
}

TEST_F(StreamingTest, AFrameCallbackThatThrowsEndsTheCallWithItsMessage) {
  const Tensor latents = video_latents();
  Client client(quiet_options(3));
  std::atomic<int> calls{0};
  DecodeOptions options = video_options(OutputType::kUInt8);
  options.stream.on_frame = [&](const FrameView& frame) {
    ++calls;
    if (frame.index == 3) throw std::runtime_error("disk full");
  };
  Result<DecodeOutput> out = client.decode(hf(), latents.view(), options);
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(out.error().message(), HasSubstr("the frame callback failed: disk full"));
  EXPECT_THAT(out.error().message(), HasSubstr("frames 0-2 of 17"));
  EXPECT_EQ(calls.load(), 4);  // Nothing after the failure.
  // An rvae::Error keeps its code.
  options.stream.on_frame = [](const FrameView&) {
    throw Error(ErrorCode::kResourceExhausted, "quota");
  };
  EXPECT_THAT(client.decode(hf(), latents.view(), options),
              IsError(ErrorCode::kResourceExhausted, HasSubstr("quota")));
}

TEST_F(StreamingTest, CancellingFromTheCallbackStopsTheDeliveries) {
  const Tensor latents = video_latents();
  Client client(quiet_options());
  CancelToken cancel;
  std::atomic<int> calls{0};
  DecodeOptions options = video_options(OutputType::kUInt8);
  options.control.cancel = cancel;
  options.stream.max_buffered_bytes = 1;  // One frame at a time: the rest is not yet received.
  options.stream.on_frame = [&](const FrameView& frame) {
    ++calls;
    if (frame.index == 1) cancel.cancel();
  };
  EXPECT_THAT(client.decode(hf(), latents.view(), options), IsError(ErrorCode::kCancelled));
  EXPECT_EQ(calls.load(), 2);
}

TEST_F(StreamingTest, ASlowConsumerPausesItsTransferWhileOthersGoOn) {
  // 33 frames of 256x256: 6.5 MB of reply, far more than the 1-frame budget.
  const Tensor latents = video_latents(9, 32, 32);
  Client client(quiet_options());
  std::atomic<int> frames{0};
  std::atomic<bool> other_done_while_streaming{false};
  DecodeOptions options = video_options(OutputType::kUInt8);
  options.stream.max_buffered_bytes = 1;
  options.stream.on_frame = [&](const FrameView&) {
    ++frames;
    std::this_thread::sleep_for(std::chrono::milliseconds(15));
  };
  Pending<DecodeOutput> streaming = client.decode_async(hf(), latents.view(), options);
  // A second call on the same client completes long before the slow one.
  const Tensor small = video_latents(2, 4, 4);
  Result<DecodeOutput> other = client.decode(hf(), small.view(), video_options(OutputType::kUInt8));
  ASSERT_THAT(other, IsOk());
  other_done_while_streaming = frames.load() < 33;
  Result<DecodeOutput> out = streaming.get();
  ASSERT_THAT(out, IsOk());
  EXPECT_EQ(out->delivered.frames, 33);
  EXPECT_TRUE(other_done_while_streaming.load());
}

TEST_F(StreamingTest, APendingStreamTakenAfterItsClientIsGoneGivesCancelled) {
  const Tensor latents = video_latents();
  endpoint_.set_reply_fault(ReplyFault::kStallMidBody, 1);
  auto client = std::make_unique<Client>(quiet_options());
  std::atomic<int> frames{0};
  DecodeOptions options = video_options(OutputType::kUInt8);
  options.stream.on_frame = [&](const FrameView&) { ++frames; };
  Pending<DecodeOutput> pending = client->decode_async(hf(), latents.view(), options);
  ASSERT_TRUE(endpoint_.wait_until_stalled(1, std::chrono::seconds(10)));
  client.reset();  // Its workers are gone: the result is finished on this thread.
  auto taken = std::async(std::launch::async, [&] { return pending.get(); });
  ASSERT_EQ(taken.wait_for(std::chrono::seconds(20)), std::future_status::ready) << "hangs";
  Result<DecodeOutput> out = taken.get();
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().code(), ErrorCode::kCancelled);
  EXPECT_LE(frames.load(), 8);
  endpoint_.clear_faults();
}

TEST_F(StreamingTest, AnMp4StreamsToTheChunkCallback) {
  const Tensor latents = video_latents();
  Client client(quiet_options());
  Result<DecodeOutput> held = client.decode(hf(), latents.view(), video_options(OutputType::kMp4));
  if (!held) GTEST_SKIP() << "no MP4 from this endpoint: " << held.error().message();
  const DecodeOutput& expected = *held;
  Received received;
  DecodeOptions options = video_options(OutputType::kMp4);
  received.attach_chunks(options.stream);
  Result<DecodeOutput> out = client.decode(hf(), latents.view(), options);
  ASSERT_THAT(out, IsOk());
  EXPECT_TRUE(out->encoded.empty());
  EXPECT_TRUE(received.chunks == expected.encoded);
}

TEST_F(StreamingTest, AnMp4CutAfterPartOfItWasHandedOutIsNotResumed) {
  const Tensor latents = video_latents(9, 32, 32);
  Client client(quiet_options(3));
  Result<DecodeOutput> held = client.decode(hf(), latents.view(), video_options(OutputType::kMp4));
  if (!held) GTEST_SKIP() << "no MP4 from this endpoint: " << held.error().message();
  // Half of it must span a whole 4 KiB chunk, so that something is handed out before the cut.
  ASSERT_GT(held->encoded.size(), std::size_t{4} * (4 << 10));
  endpoint_.set_reply_fault(ReplyFault::kTruncateBody, 1);
  Received received;
  DecodeOptions options = video_options(OutputType::kMp4);
  options.stream.max_buffered_bytes = 1;  // 4 KiB chunks: some are handed out before the cut.
  received.attach_chunks(options.stream);
  Result<DecodeOutput> out = client.decode(hf(), latents.view(), options);
  ASSERT_FALSE(out.has_value());
  EXPECT_THAT(out.error().message(), HasSubstr("part of the MP4 was already handed out"));
  EXPECT_FALSE(received.chunks.empty());
}

TEST_F(StreamingTest, OpenInferenceUint8OutputStreamsFramesAsTheyArrive) {
  ReferenceEndpointOptions uint8_model;
  uint8_model.oip_decoder_output_datatype = DType::kUInt8;
  ReferenceEndpoint server(uint8_model);
  ASSERT_TRUE(server.start());
  const std::string url = server.url("/v2/models/hunyuan-video_decoder");
  const Tensor latents = video_latents();
  Client client(quiet_options());
  Received received;
  DecodeOptions options = video_options(OutputType::kUInt8);
  options.stream.max_buffered_bytes = 1;
  received.attach_frames(options.stream);
  Result<DecodeOutput> out = client.decode(url, latents.view(), options);
  ASSERT_THAT(out, IsOk());
  Result<DecodeOutput> held = client.decode(url, latents.view(), video_options(OutputType::kUInt8));
  ASSERT_THAT(held, IsOk());
  ASSERT_EQ(received.frames.size(), 17u);
  for (std::size_t i = 0; i < 17; ++i)
    EXPECT_TRUE(received.frames[i] == held->images[i].pixels) << "frame " << i;
}

}  // namespace
}  // namespace rvae
