// Decode replies used as they arrive: a selector picks the Hugging Face sink (shape/dtype headers)
// or the Open Inference one (JSON header, then the binary section), the output type and the
// stream's form (frames, chunks, the caller's buffer); the body comes in pieces whose sizes the
// input chooses, a paused transfer waits for its resume. Whatever the bytes, a finished stream
// handed out exactly what its layout says, in order, and never more than the buffer holds.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "api/open_inference_stream_sink.hpp"
#include "api/reply_streamer.hpp"
#include "api/split_reply_sink.hpp"
#include "api/streamed_decode_sink.hpp"
#include "api/worker_pool.hpp"
#include "core/buffer_pool.hpp"
#include "protocol/open_inference.hpp"
#include "reply_input.hpp"

namespace {

using rvae::transport::ReplySink;

struct Resumed {
  std::mutex mutex;
  std::condition_variable cv;
  bool resumed = false;
};

struct Seen {
  std::mutex mutex;
  std::uint64_t next_offset = 0;
  std::int64_t next_frame = 0;
  std::uint64_t frame_bytes = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace oip = rvae::protocol::oip;
  static auto workers = std::make_shared<rvae::detail::WorkerPool>(1);
  static auto buffers = std::make_shared<rvae::detail::BufferPool>(4, 1 << 20);
  rvae::fuzz::FuzzInput input(data, size);
  const std::uint8_t selector = input.byte();
  const bool open_inference = (selector & 1) != 0;
  const int form = (selector >> 1) % 3;  // frames, chunks, buffer
  const bool floats = (selector & 8) != 0;
  const std::int64_t frames = 1 + input.byte() % 5;
  const std::int64_t h = 1 + input.byte() % 8;
  const std::int64_t w = 1 + input.byte() % 8;
  const std::size_t piece = 1 + input.byte() % 64;
  rvae::protocol::DecodeExpectation expect;
  expect.type = floats ? rvae::OutputType::kFloatTensor : rvae::OutputType::kUInt8;
  expect.batch = 1;
  expect.frames = frames;
  expect.height = h;
  expect.width = w;

  auto seen = std::make_shared<Seen>();
  std::vector<std::uint8_t> buffer(static_cast<std::size_t>(frames * h * w * 3 * 4));
  rvae::ReplyStream stream;
  stream.max_buffered_bytes = 1 + input.byte() * 16;
  if (form == 0 && !floats) {
    stream.on_frame = [seen](const rvae::FrameView& frame) {
      std::lock_guard<std::mutex> lock(seen->mutex);
      if (frame.index != seen->next_frame++) __builtin_trap();
    };
  } else if (form <= 1) {
    stream.on_chunk = [seen](const rvae::ReplyChunk& chunk) {
      std::lock_guard<std::mutex> lock(seen->mutex);
      if (chunk.offset != seen->next_offset || chunk.size == 0) __builtin_trap();
      seen->next_offset += chunk.size;
    };
  } else {
    stream.into = buffer.data();
    stream.into_size = buffer.size();
  }

  auto streamer =
      std::make_shared<rvae::detail::ReplyStreamer>(stream, workers, buffers, rvae::CancelToken());
  std::shared_ptr<ReplySink> sink;
  if (open_inference) {
    oip::DecodePlan plan;
    plan.expect = expect;
    plan.infer.output_name = "sample";
    plan.infer.dtype = floats ? rvae::DType::kFloat16 : rvae::DType::kUInt8;
    plan.infer.shape = floats ? rvae::Shape{1, 3, frames, h, w} : rvae::Shape{1, frames, h, w, 3};
    auto whole =
        std::make_shared<rvae::detail::SplitReplySink>(buffers.get(), 1 << 16, 1 << 20, 1 << 20);
    auto stream_sink =
        std::make_shared<rvae::detail::OpenInferenceStreamSink>(streamer, whole, 1 << 16);
    stream_sink->set_plan(std::make_shared<const oip::DecodePlan>(std::move(plan)));
    sink = stream_sink;
  } else {
    sink = std::make_shared<rvae::detail::StreamedDecodeSink>(streamer, expect,
                                                              rvae::protocol::ReplyLimits{});
  }

  rvae::http::HttpResponse response = rvae::fuzz::take_response(input);
  auto resumed = std::make_shared<Resumed>();
  bool ok = static_cast<bool>(sink->begin(200, response.headers, [resumed] {
    std::lock_guard<std::mutex> lock(resumed->mutex);
    resumed->resumed = true;
    resumed->cv.notify_all();
  }));
  for (std::size_t at = 0; ok && at < response.body.size();) {
    const std::size_t n = std::min(piece, response.body.size() - at);
    auto flow = sink->write(response.body.data() + at, n);
    if (!flow) {
      ok = false;
      break;
    }
    if (*flow == ReplySink::Flow::kPause) {
      // The consumer runs on the worker and resumes this transfer once it caught up.
      std::unique_lock<std::mutex> lock(resumed->mutex);
      if (!resumed->cv.wait_for(lock, std::chrono::seconds(10), [&] { return resumed->resumed; })) {
        __builtin_trap();  // Paused for ever.
      }
      resumed->resumed = false;
      continue;
    }
    at += n;
  }
  auto delivered = streamer->finish(ok);
  if (ok && delivered) {
    const rvae::ReplyLayout layout = streamer->layout();
    if (layout.bytes == 0 || delivered->bytes != layout.bytes) __builtin_trap();
    if (stream.on_frame && delivered->frames != layout.frames) __builtin_trap();
    if (stream.on_chunk && seen->next_offset != layout.bytes) __builtin_trap();
    if (layout.bytes > buffer.size()) __builtin_trap();
  }
  return 0;
}
