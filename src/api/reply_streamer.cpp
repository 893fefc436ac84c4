#include "api/reply_streamer.hpp"

#include <algorithm>
#include <cstring>
#include <exception>
#include <utility>
#include <vector>

namespace rvae::detail {
namespace {

using Flow = transport::ReplySink::Flow;

// on_chunk blocks: large enough for few calls (and few writes to a file), small enough that the
// budget holds several, so the network and the consumer overlap.
constexpr std::size_t kMinChunk = std::size_t{4} << 10;
constexpr std::size_t kMaxChunk = std::size_t{8} << 20;

Error data_loss(std::string message) {
  return Error(ErrorCode::kDataLoss, std::move(message));
}

bool same_layout(const ReplyLayout& a, const ReplyLayout& b) {
  return a.type == b.type && a.dtype == b.dtype && a.shape == b.shape && a.bytes == b.bytes;
}

std::string layout_text(const ReplyLayout& layout) {
  if (layout.shape.empty()) return "an encoded file";
  return shape_to_string(layout.shape) + " " +
         (layout.dtype ? std::string(dtype_name(*layout.dtype)) : std::string("float"));
}

Error callback_error(const char* what, const std::exception& thrown) {
  if (const auto* error = dynamic_cast<const Error*>(&thrown)) {
    return Error(error->code(), std::string(what) + " failed: " + error->message());
  }
  return Error(ErrorCode::kInvalidArgument, std::string(what) + " failed: " + thrown.what());
}

}  // namespace

const char* ReplyStreamer::callback_name(Item::Kind kind) {
  switch (kind) {
    case Item::Kind::kLayout:
      return "the layout callback";
    case Item::Kind::kFrame:
      return "the frame callback";
    case Item::Kind::kChunk:
      break;
  }
  return "the chunk callback";
}

ReplyStreamer::ReplyStreamer(ReplyStream stream, std::shared_ptr<WorkerPool> workers,
                             std::shared_ptr<BufferPool> buffers, CancelToken cancel,
                             std::uint64_t max_unsized_bytes)
    : stream_(std::move(stream)),
      workers_(std::move(workers)),
      buffers_(std::move(buffers)),
      cancel_(std::move(cancel)),
      max_unsized_bytes_(max_unsized_bytes) {}

Result<void> ReplyStreamer::check_request(const ReplyStream& stream, const ReplyLayout& layout) {
  const int set = (stream.on_frame ? 1 : 0) + (stream.on_chunk ? 1 : 0) + (stream.into ? 1 : 0);
  if (set > 1) {
    return Error(ErrorCode::kInvalidArgument,
                 "a decode stream takes one of a frame callback, a chunk callback or a buffer");
  }
  if (layout.type == OutputType::kImage) {
    return Error(ErrorCode::kInvalidArgument,
                 "an encoded image reply is decoded whole: stream uint8, tensor or mp4 output");
  }
  if (stream.on_frame && layout.type != OutputType::kUInt8) {
    return Error(ErrorCode::kInvalidArgument,
                 "a frame callback needs uint8 output (frames of a float tensor are only complete "
                 "at its end); use a chunk callback or a buffer for tensors");
  }
  if (stream.into != nullptr) {
    if (layout.type == OutputType::kMp4) {
      return Error(ErrorCode::kInvalidArgument,
                   "an MP4 reply's size is unknown before it arrives: use a chunk callback");
    }
    if (stream.into_size < layout.bytes) {
      return Error(ErrorCode::kInvalidArgument, "the buffer to decode into holds " +
                                                    std::to_string(stream.into_size) +
                                                    " bytes; the reply " + layout_text(layout) +
                                                    " needs " + std::to_string(layout.bytes));
    }
  }
  return {};
}

std::size_t ReplyStreamer::unit_bytes() const {
  if (stream_.on_frame) return static_cast<std::size_t>(layout_->frame_bytes);
  return std::clamp(stream_.max_buffered_bytes / 4, kMinChunk, kMaxChunk);
}

Result<void> ReplyStreamer::begin_attempt(const ReplyLayout& layout, transport::Resume resume) {
  bool post = false;
  Result<void> begun = begin_locked(layout, std::move(resume), post);
  if (post) post_drain();
  return begun;
}

Result<void> ReplyStreamer::begin_locked(const ReplyLayout& layout, transport::Resume resume,
                                         bool& post) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (error_) return *error_;
  if (layout_) {
    if (!same_layout(*layout_, layout)) {
      return data_loss("the retried decode reply is " + layout_text(layout) +
                       ", but the first reply was " + layout_text(*layout_));
    }
  } else {
    if (stream_.into != nullptr && stream_.into_size < layout.bytes) {
      return data_loss("the decode reply " + layout_text(layout) + " needs " +
                       std::to_string(layout.bytes) + " bytes; the buffer holds " +
                       std::to_string(stream_.into_size));
    }
    layout_ = layout;
    if (stream_.on_layout) {
      Item item;
      item.kind = Item::Kind::kLayout;
      post = enqueue_locked(std::move(item));
    }
  }
  resume_ = std::move(resume);
  paused_ = false;
  received_ = 0;
  staging_.clear();
  first_byte_ = Clock::time_point{};
  return {};
}

Result<transport::ReplySink::Flow> ReplyStreamer::write(const std::uint8_t* data, std::size_t size,
                                                        bool may_pause) {
  const ReplyLayout& layout = *layout_;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (first_byte_ == Clock::time_point{}) first_byte_ = Clock::now();
  }
  if (layout.bytes > 0 && size > layout.bytes - received_) {
    return data_loss("the decode reply runs past the " + std::to_string(layout.bytes) +
                     " bytes its header declares (" + layout_text(layout) + ")");
  }
  if (layout.bytes == 0 && size > max_unsized_bytes_ - std::min(max_unsized_bytes_, received_)) {
    return Error(ErrorCode::kResourceExhausted,
                 "the decode reply grew past the client's reply limit of " +
                     std::to_string(max_unsized_bytes_) + " bytes");
  }
  if (stream_.into != nullptr) {
    // The buffer is the caller's: bytes land where they belong, and a retry rewrites them.
    std::memcpy(stream_.into + received_, data, size);
    received_ += size;
    std::lock_guard<std::mutex> lock(mutex_);
    if (error_) return *error_;
    if (delivered_.bytes == 0 && size > 0) {
      delivered_.first_delivery =
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - first_byte_);
    }
    delivered_.bytes = std::max<std::uint64_t>(delivered_.bytes, received_);
    if (layout.frame_bytes > 0) {
      delivered_.frames = std::max<std::int64_t>(
          delivered_.frames, static_cast<std::int64_t>(received_ / layout.frame_bytes));
    }
    return Flow::kTaken;
  }

  const std::size_t unit = unit_bytes();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (error_) return *error_;
    if (may_pause && !queue_.empty() && queued_bytes_ + unit > stream_.max_buffered_bytes) {
      paused_ = true;
      return Flow::kPause;
    }
  }
  std::size_t at = 0;
  // A retry's reply starts over: what the callbacks already have is skipped.
  if (received_ < handed_) {
    const auto skip = static_cast<std::size_t>(std::min<std::uint64_t>(handed_ - received_, size));
    received_ += skip;
    at = skip;
  }
  while (at < size) {
    if (staging_.empty()) staging_ = buffers_->take_unzeroed(unit), staging_.clear();
    const std::size_t take = std::min(size - at, unit - staging_.size());
    staging_.insert(staging_.end(), data + at, data + at + take);
    at += take;
    received_ += take;
    if (layout.type == OutputType::kMp4 && handed_ == 0 && staging_.size() >= 8 &&
        received_ - take < 8 && std::memcmp(staging_.data() + 4, "ftyp", 4) != 0) {
      return data_loss("decode reply is not an MP4 file (no 'ftyp' box at byte 4)");
    }
    if (staging_.size() == unit) {
      Item item;
      item.kind = stream_.on_frame ? Item::Kind::kFrame : Item::Kind::kChunk;
      item.offset = handed_;
      item.index = next_frame_;
      handed_ += unit;
      if (stream_.on_frame) ++next_frame_;
      item.bytes = std::move(staging_);
      staging_ = Bytes();
      std::unique_lock<std::mutex> lock(mutex_);
      const bool post = enqueue_locked(std::move(item));
      lock.unlock();
      if (post) post_drain();
    }
  }
  return Flow::kTaken;
}

bool ReplyStreamer::enqueue_locked(Item item) {
  queued_bytes_ += item.bytes.size();
  queue_.push_back(std::move(item));
  return schedule_locked();
}

bool ReplyStreamer::schedule_locked() {
  if (scheduled_ || draining_) return false;
  scheduled_ = true;
  return true;
}

void ReplyStreamer::post_drain() {
  // Never under mutex_: a pool that has shut down (the Client is gone) runs the job right here.
  workers_->post([self = shared_from_this()] { self->drain(); });
}

void ReplyStreamer::drain() {
  std::unique_lock<std::mutex> lock(mutex_);
  scheduled_ = false;
  if (draining_) return;
  draining_ = true;
  while (!queue_.empty()) {
    Item item = std::move(queue_.front());
    queue_.pop_front();
    const bool skip = error_.has_value() || cancel_.cancelled();
    if (skip && !error_ && item.kind != Item::Kind::kLayout) cancelled_ = true;
    lock.unlock();
    if (!skip) deliver(item.kind, item.bytes.data(), item.bytes.size(), item.offset, item.index);
    const std::size_t size = item.bytes.size();
    if (item.bytes.capacity() > 0) buffers_->give(std::move(item.bytes));
    lock.lock();
    queued_bytes_ -= size;
    if (paused_ && (queue_.empty() || queued_bytes_ + unit_bytes() <= stream_.max_buffered_bytes)) {
      paused_ = false;
      transport::Resume resume = resume_;
      lock.unlock();
      if (resume) resume();
      lock.lock();
    }
  }
  draining_ = false;
  idle_.notify_all();
}

void ReplyStreamer::deliver(Item::Kind kind, const std::uint8_t* data, std::size_t size,
                            std::uint64_t offset, std::int64_t index) {
  try {
    switch (kind) {
      case Item::Kind::kLayout:
        stream_.on_layout(*layout_);
        return;
      case Item::Kind::kFrame: {
        const ReplyLayout& layout = *layout_;
        FrameView frame;
        frame.index = index;
        frame.image = ImageView(static_cast<int>(layout.shape[2]),
                                static_cast<int>(layout.shape[1]), 3, data, size);
        stream_.on_frame(frame);
        break;
      }
      case Item::Kind::kChunk:
        stream_.on_chunk(ReplyChunk{offset, data, size});
        break;
    }
  } catch (const std::exception& thrown) {
    std::lock_guard<std::mutex> lock(mutex_);
    fail_locked(callback_error(callback_name(kind), thrown));
    return;
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    fail_locked(Error(ErrorCode::kInvalidArgument, std::string(callback_name(kind)) + " threw"));
    return;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (!any_delivered_) {
    any_delivered_ = true;
    delivered_.first_delivery =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - first_byte_);
  }
  if (kind == Item::Kind::kFrame) ++delivered_.frames;
  delivered_.bytes += size;
}

void ReplyStreamer::fail_locked(Error error) {
  if (error_) return;
  error_ = std::move(error).with_retryable(false);
  // A paused transfer must run again to see the error and end.
  if (paused_ && resume_) {
    paused_ = false;
    transport::Resume resume = resume_;
    workers_->post([resume] { resume(); });
  }
}

std::optional<std::string> ReplyStreamer::retry_refusal() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (handed_ == 0 || stream_.into != nullptr) return std::nullopt;
  // A video encoder need not write the same file twice: its bytes cannot be resumed part-way.
  if (layout_ && layout_->type == OutputType::kMp4) {
    return "part of the MP4 was already handed out, and a second encode may not write the same "
           "bytes";
  }
  if (stream_.resume_after_partial_delivery) return std::nullopt;
  return "part of the reply was already handed out, and resuming after a partial delivery is off";
}

Result<Delivered> ReplyStreamer::finish(bool complete) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (complete && !layout_ && !error_) {
    fail_locked(data_loss("the decode reply ended before its header was complete"));
  }
  if (complete && layout_ && !error_) {
    const ReplyLayout& layout = *layout_;
    if (layout.bytes > 0 && received_ < layout.bytes) {
      fail_locked(data_loss("the decode reply ended after " + std::to_string(received_) +
                            " of the " + std::to_string(layout.bytes) +
                            " bytes its header declares"));
    } else if (layout.type == OutputType::kMp4 && received_ < 8) {
      fail_locked(
          data_loss("decode reply is not an MP4 file (" + std::to_string(received_) + " bytes)"));
    } else if (!staging_.empty() && stream_.into == nullptr) {
      // The last block of a chunked reply (a frame reply ends on a frame boundary).
      Item item;
      item.kind = Item::Kind::kChunk;
      item.offset = handed_;
      handed_ += staging_.size();
      item.bytes = std::move(staging_);
      staging_ = Bytes();
      if (enqueue_locked(std::move(item))) {
        lock.unlock();
        post_drain();
        lock.lock();
      }
    }
  }
  if (!staging_.empty()) buffers_->give(std::move(staging_));
  staging_ = Bytes();
  if (WorkerPool::on_worker_thread()) {
    // Waiting for a drain queued behind this job could wait for ever: run it here.
    idle_.wait(lock, [this] { return !draining_; });
    lock.unlock();
    drain();
    lock.lock();
  } else {
    if (schedule_locked()) {
      lock.unlock();
      post_drain();
      lock.lock();
    }
    idle_.wait(lock, [this] { return queue_.empty() && !draining_ && !scheduled_; });
  }
  if (error_) return *error_;
  if (cancelled_) return Error(ErrorCode::kCancelled, "the decode was cancelled");
  return delivered_;
}

Result<Delivered> ReplyStreamer::deliver_whole(const DecodeOutput& output) {
  ReplyLayout layout = output.layout;
  const std::vector<Image>& images = output.images;
  std::vector<std::pair<const std::uint8_t*, std::size_t>> parts;
  if (output.type == OutputType::kUInt8) {
    for (const Image& image : images)
      parts.emplace_back(image.pixels.data(), image.pixels.size());
  } else if (output.type == OutputType::kFloatTensor) {
    layout.dtype = output.tensor.dtype();
    layout.shape = output.tensor.shape();
    layout.bytes = output.tensor.size_bytes();
    parts.emplace_back(output.tensor.data(), output.tensor.size_bytes());
  } else {
    parts.emplace_back(output.encoded.data(), output.encoded.size());
  }
  {
    std::unique_lock<std::mutex> lock(mutex_);
    if (error_) return *error_;
    if (stream_.into != nullptr && stream_.into_size < layout.bytes) {
      return data_loss("the decode reply " + layout_text(layout) + " needs " +
                       std::to_string(layout.bytes) + " bytes; the buffer holds " +
                       std::to_string(stream_.into_size));
    }
    layout_ = layout;
    first_byte_ = Clock::now();
  }
  if (stream_.on_layout) deliver(Item::Kind::kLayout, nullptr, 0, 0, 0);
  std::uint64_t offset = 0;
  std::int64_t index = 0;
  // What an earlier, streamed attempt handed out is not handed out again.
  const std::uint64_t skip = stream_.into != nullptr ? 0 : handed_;
  bool stopped = false;  // By a cancel, before everything was handed out.
  for (auto [data, size] : parts) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (error_) break;
      if (cancel_.cancelled()) {
        stopped = true;
        break;
      }
    }
    if (offset + size <= skip) {
      offset += size;
      ++index;
      continue;
    }
    if (offset < skip) {  // A chunk reply resumes within this part.
      const auto part = static_cast<std::size_t>(skip - offset);
      data += part;
      size -= part;
      offset = skip;
    }
    if (stream_.into != nullptr) {
      std::memcpy(stream_.into + offset, data, size);
      std::lock_guard<std::mutex> lock(mutex_);
      delivered_.bytes += size;
      if (output.type == OutputType::kUInt8) ++delivered_.frames;
    } else if (stream_.on_frame) {
      deliver(Item::Kind::kFrame, data, size, offset, index);
    } else {
      // Blocks as a streamed reply would come, so a consumer sees the same sizes either way.
      const std::size_t unit = std::clamp(stream_.max_buffered_bytes / 4, kMinChunk, kMaxChunk);
      for (std::size_t at = 0; at < size; at += unit) {
        deliver(Item::Kind::kChunk, data + at, std::min(unit, size - at), offset + at, 0);
        std::lock_guard<std::mutex> lock(mutex_);
        if (error_) break;
        if (cancel_.cancelled() && at + unit < size) {
          stopped = true;
          break;
        }
      }
    }
    offset += size;
    ++index;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (error_) return *error_;
  if (stopped) return Error(ErrorCode::kCancelled, "the decode was cancelled");
  return delivered_;
}

ReplyLayout ReplyStreamer::layout() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return layout_ ? *layout_ : ReplyLayout{};
}

std::string ReplyStreamer::partial_delivery_note() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!layout_) return "";
  if (layout_->frames > 0) {
    if (delivered_.frames == 0) {
      return " (none of the " + std::to_string(layout_->frames) + " frames was handed out)";
    }
    return " (frames 0-" + std::to_string(delivered_.frames - 1) + " of " +
           std::to_string(layout_->frames) + " were handed out before the failure)";
  }
  return " (" + std::to_string(delivered_.bytes) + " bytes were handed out before the failure)";
}

}  // namespace rvae::detail
