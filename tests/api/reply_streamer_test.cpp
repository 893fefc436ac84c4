// The ReplyStreamer alone, fed as the network thread feeds it: memory stays within the stream's
// budget whatever the reply's length (measured with the allocation tracker, not RSS), a paused
// transfer is resumed once the consumer caught up, a retry skips what was handed out, and a reply
// that ends early, runs long or changes its layout is refused.
#include "api/reply_streamer.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "files/alloc_tracker.hpp"
#include "support/result_matchers.hpp"

namespace rvae::detail {
namespace {

using ::testing::HasSubstr;
using testing_support::IsError;
using testing_support::IsOk;
using Flow = transport::ReplySink::Flow;

ReplyLayout frames_layout(std::int64_t frames, std::int64_t h, std::int64_t w) {
  ReplyLayout layout;
  layout.type = OutputType::kUInt8;
  layout.dtype = DType::kUInt8;
  layout.shape = {frames, h, w, 3};
  layout.frames = frames;
  layout.frame_bytes = static_cast<std::uint64_t>(h * w * 3);
  layout.bytes = layout.frame_bytes * static_cast<std::uint64_t>(frames);
  return layout;
}

// Frame i's pixels are all (i & 0xFF), so a frame handed out twice or out of place shows.
std::vector<std::uint8_t> payload_of(const ReplyLayout& layout) {
  std::vector<std::uint8_t> bytes(layout.bytes);
  for (std::uint64_t i = 0; i < bytes.size(); ++i)
    bytes[i] = static_cast<std::uint8_t>(i / layout.frame_bytes);
  return bytes;
}

// A transport's side: writes `bytes` in pieces, and waits for the resume when paused.
class FakeNetwork {
 public:
  transport::Resume resume() {
    return [this] {
      std::lock_guard<std::mutex> lock(mutex_);
      resumed_ = true;
      cv_.notify_all();
    };
  }
  Result<void> send(ReplyStreamer& streamer, const std::vector<std::uint8_t>& bytes,
                    std::size_t from, std::size_t to, std::size_t piece) {
    for (std::size_t at = from; at < to;) {
      const std::size_t n = std::min(piece, to - at);
      Result<Flow> flow = streamer.write(bytes.data() + at, n);
      if (!flow) return flow.error();
      if (*flow == Flow::kPause) {
        ++pauses;
        std::unique_lock<std::mutex> lock(mutex_);
        if (!cv_.wait_for(lock, std::chrono::seconds(20), [&] { return resumed_; })) {
          return Error(ErrorCode::kDeadlineExceeded, "never resumed");
        }
        resumed_ = false;
        continue;
      }
      at += n;
    }
    return {};
  }
  int pauses = 0;

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool resumed_ = false;
};

struct Fixture {
  std::shared_ptr<WorkerPool> workers = std::make_shared<WorkerPool>(2);
  std::shared_ptr<BufferPool> buffers = std::make_shared<BufferPool>(4, std::size_t{1} << 20);
};

TEST(ReplyStreamer, MemoryStaysWithinTheBudgetHoweverLongTheReply) {
  Fixture f;
  // 400 frames of 64x64: 4.9 MB through a 128 KiB budget, consumed slower than they arrive.
  const ReplyLayout layout = frames_layout(400, 64, 64);
  const std::vector<std::uint8_t> payload = payload_of(layout);
  std::atomic<std::int64_t> next{0};
  std::atomic<bool> in_order{true};
  ReplyStream stream;
  stream.max_buffered_bytes = 128 << 10;
  stream.on_frame = [&](const FrameView& frame) {
    if (frame.index != next.load() || frame.image.pixels[0] != (frame.index & 0xFF) ||
        frame.image.size_bytes != layout.frame_bytes) {
      in_order = false;
    }
    ++next;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  };
  auto streamer = std::make_shared<ReplyStreamer>(stream, f.workers, f.buffers, CancelToken());
  FakeNetwork network;
  testing_support::reset_peak_heap();
  ASSERT_THAT(streamer->begin_attempt(layout, network.resume()), IsOk());
  ASSERT_THAT(network.send(*streamer, payload, 0, payload.size(), 16 << 10), IsOk());
  Result<Delivered> delivered = streamer->finish(true);
  const std::size_t peak = testing_support::peak_heap_growth();
  ASSERT_THAT(delivered, IsOk());
  EXPECT_EQ(delivered->frames, 400);
  EXPECT_EQ(delivered->bytes, layout.bytes);
  EXPECT_TRUE(in_order.load());
  EXPECT_GT(network.pauses, 0) << "a slow consumer pauses the transfer";
  // The budget, the frame being filled and the pool's buffers; nowhere near the 4.9 MB reply.
  EXPECT_LT(peak, std::size_t{1} << 20) << "peak heap growth " << peak;
}

TEST(ReplyStreamer, ChunksAreConsecutiveAndTheLastOneIsFlushedAtTheEnd) {
  Fixture f;
  ReplyLayout layout = frames_layout(3, 50, 70);  // 31500 bytes: not a multiple of the chunk.
  layout.type = OutputType::kFloatTensor;
  const std::vector<std::uint8_t> payload = payload_of(layout);
  std::vector<std::uint8_t> got;
  std::mutex mutex;
  ReplyStream stream;
  stream.max_buffered_bytes = 4;  // The smallest chunk (4 KiB) anyway: 8 of them.
  stream.on_chunk = [&](const ReplyChunk& chunk) {
    std::lock_guard<std::mutex> lock(mutex);
    EXPECT_EQ(chunk.offset, got.size());
    got.insert(got.end(), chunk.data, chunk.data + chunk.size);
  };
  auto streamer = std::make_shared<ReplyStreamer>(stream, f.workers, f.buffers, CancelToken());
  FakeNetwork network;
  ASSERT_THAT(streamer->begin_attempt(layout, network.resume()), IsOk());
  ASSERT_THAT(network.send(*streamer, payload, 0, payload.size(), 1000), IsOk());
  ASSERT_THAT(streamer->finish(true), IsOk());
  EXPECT_TRUE(got == payload);
}

TEST(ReplyStreamer, ARetrySkipsWhatWasHandedOutAndNothingComesTwice) {
  Fixture f;
  const ReplyLayout layout = frames_layout(10, 8, 8);
  const std::vector<std::uint8_t> payload = payload_of(layout);
  std::vector<std::int64_t> indices;
  std::mutex mutex;
  ReplyStream stream;
  stream.on_frame = [&](const FrameView& frame) {
    std::lock_guard<std::mutex> lock(mutex);
    indices.push_back(frame.index);
    EXPECT_EQ(frame.image.pixels[0], frame.index);
  };
  auto streamer = std::make_shared<ReplyStreamer>(stream, f.workers, f.buffers, CancelToken());
  FakeNetwork network;
  ASSERT_THAT(streamer->begin_attempt(layout, network.resume()), IsOk());
  // The first attempt breaks 4.5 frames in.
  ASSERT_THAT(network.send(*streamer, payload, 0, layout.frame_bytes * 9 / 2, 50), IsOk());
  EXPECT_EQ(streamer->retry_refusal(), std::nullopt);
  // The second starts over from the first byte.
  ASSERT_THAT(streamer->begin_attempt(layout, network.resume()), IsOk());
  ASSERT_THAT(network.send(*streamer, payload, 0, payload.size(), 77), IsOk());
  Result<Delivered> delivered = streamer->finish(true);
  ASSERT_THAT(delivered, IsOk());
  EXPECT_EQ(delivered->frames, 10);
  EXPECT_EQ(indices, (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(ReplyStreamer, WithoutResumingAPartialDeliveryRefusesTheRetry) {
  Fixture f;
  const ReplyLayout layout = frames_layout(4, 8, 8);
  const std::vector<std::uint8_t> payload = payload_of(layout);
  ReplyStream stream;
  stream.resume_after_partial_delivery = false;
  stream.on_frame = [](const FrameView&) {};
  auto streamer = std::make_shared<ReplyStreamer>(stream, f.workers, f.buffers, CancelToken());
  FakeNetwork network;
  ASSERT_THAT(streamer->begin_attempt(layout, network.resume()), IsOk());
  ASSERT_THAT(network.send(*streamer, payload, 0, 10, 10), IsOk());
  EXPECT_EQ(streamer->retry_refusal(), std::nullopt) << "no whole frame yet";
  ASSERT_THAT(network.send(*streamer, payload, 10, layout.frame_bytes + 5, 10), IsOk());
  EXPECT_THAT(streamer->retry_refusal().value_or(""), HasSubstr("already handed out"));
  EXPECT_THAT(streamer->finish(false), IsOk());
}

TEST(ReplyStreamer, ARetriedReplyOfAnotherLayoutIsDataLoss) {
  Fixture f;
  ReplyStream stream;
  stream.on_frame = [](const FrameView&) {};
  auto streamer = std::make_shared<ReplyStreamer>(stream, f.workers, f.buffers, CancelToken());
  ASSERT_THAT(streamer->begin_attempt(frames_layout(4, 8, 8), nullptr), IsOk());
  EXPECT_THAT(streamer->begin_attempt(frames_layout(4, 8, 16), nullptr),
              IsError(ErrorCode::kDataLoss, HasSubstr("the first reply was [4,8,8,3] uint8")));
  EXPECT_THAT(streamer->finish(false), IsOk());
}

TEST(ReplyStreamer, AReplyEndingEarlyOrRunningLongIsDataLoss) {
  Fixture f;
  const ReplyLayout layout = frames_layout(2, 4, 4);
  const std::vector<std::uint8_t> payload = payload_of(layout);
  std::vector<std::uint8_t> buffer(layout.bytes);
  ReplyStream stream;
  stream.into = buffer.data();
  stream.into_size = buffer.size();
  {
    auto streamer = std::make_shared<ReplyStreamer>(stream, f.workers, f.buffers, CancelToken());
    ASSERT_THAT(streamer->begin_attempt(layout, nullptr), IsOk());
    ASSERT_THAT(streamer->write(payload.data(), 50), IsOk());
    EXPECT_THAT(streamer->finish(true),
                IsError(ErrorCode::kDataLoss, HasSubstr("ended after 50 of the 96 bytes")));
  }
  {
    auto streamer = std::make_shared<ReplyStreamer>(stream, f.workers, f.buffers, CancelToken());
    ASSERT_THAT(streamer->begin_attempt(layout, nullptr), IsOk());
    ASSERT_THAT(streamer->write(payload.data(), 90), IsOk());
    EXPECT_THAT(streamer->write(payload.data(), 7),
                IsError(ErrorCode::kDataLoss, HasSubstr("runs past the 96 bytes")));
    EXPECT_EQ(buffer[90], 0) << "nothing past the layout is written";
  }
}

TEST(ReplyStreamer, AnMp4IsCutAtTheClientsReplyLimit) {
  Fixture f;
  ReplyLayout mp4;
  mp4.type = OutputType::kMp4;
  std::vector<std::uint8_t> file(100, 0);
  std::memcpy(file.data() + 4, "ftyp", 4);
  ReplyStream stream;
  stream.on_chunk = [](const ReplyChunk&) {};
  auto streamer = std::make_shared<ReplyStreamer>(stream, f.workers, f.buffers, CancelToken(), 150);
  ASSERT_THAT(streamer->begin_attempt(mp4, nullptr), IsOk());
  ASSERT_THAT(streamer->write(file.data(), file.size()), IsOk());
  EXPECT_THAT(streamer->write(file.data(), file.size()),
              IsError(ErrorCode::kResourceExhausted, HasSubstr("reply limit of 150 bytes")));
  EXPECT_THAT(streamer->finish(false), IsOk());
  // And a file that is not an MP4 is refused as soon as its first 8 bytes are in.
  auto other = std::make_shared<ReplyStreamer>(stream, f.workers, f.buffers, CancelToken());
  ASSERT_THAT(other->begin_attempt(mp4, nullptr), IsOk());
  const std::vector<std::uint8_t> html{'<', 'h', 't', 'm', 'l', '>', '<', 'b', 'o'};
  EXPECT_THAT(other->write(html.data(), html.size()),
              IsError(ErrorCode::kDataLoss, HasSubstr("not an MP4")));
  EXPECT_THAT(other->finish(false), IsOk());
}

TEST(ReplyStreamer, RequestsAStreamCannotServeAreRefused) {
  ReplyLayout image;
  image.type = OutputType::kImage;
  ReplyStream frames;
  frames.on_frame = [](const FrameView&) {};
  EXPECT_THAT(ReplyStreamer::check_request(frames, image),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("decoded whole")));
  ReplyLayout mp4;
  mp4.type = OutputType::kMp4;
  std::uint8_t byte = 0;
  ReplyStream into;
  into.into = &byte;
  into.into_size = 1;
  EXPECT_THAT(ReplyStreamer::check_request(into, mp4),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("chunk callback")));
  EXPECT_THAT(ReplyStreamer::check_request(into, frames_layout(1, 1, 1)),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("holds 1 bytes")));
  into.into_size = 3;
  EXPECT_THAT(ReplyStreamer::check_request(into, frames_layout(1, 1, 1)), IsOk());
}

}  // namespace
}  // namespace rvae::detail
