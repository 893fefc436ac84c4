#include "transport/reply_buffer.hpp"

#include <algorithm>
#include <utility>

namespace rvae::transport {

bool append_capped(Bytes& body, const std::uint8_t* data, std::size_t size, std::size_t cap) {
  if (size > cap || body.size() > cap - size) return false;
  const std::size_t needed = body.size() + size;
  if (needed > body.capacity()) {
    const std::size_t doubled =
        body.capacity() > cap / 2 ? cap : std::max(body.capacity() * 2, std::size_t{4096});
    body.reserve(std::min(cap, std::max(needed, doubled)));
  }
  body.insert(body.end(), data, data + size);
  return true;
}

ReplyBufferPool::ReplyBufferPool(std::size_t max_buffers, std::size_t max_bytes)
    : max_buffers_(max_buffers), max_bytes_(max_bytes) {}

Bytes ReplyBufferPool::take(std::size_t expected) {
  Bytes out = take_unzeroed(expected);
  out.clear();
  return out;
}

Bytes ReplyBufferPool::take_unzeroed(std::size_t expected) {
  Bytes out;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto best = idle_.end();
    for (auto it = idle_.begin(); it != idle_.end(); ++it) {
      if (expected == 0) {
        if (best == idle_.end() || it->capacity() > best->capacity()) best = it;
      } else if (it->capacity() >= expected &&
                 (best == idle_.end() || it->capacity() < best->capacity())) {
        best = it;
      }
    }
    if (best != idle_.end()) {
      out = std::move(*best);
      idle_bytes_ -= out.capacity();
      idle_.erase(best);
    }
  }
  if (expected > out.capacity()) out.reserve(expected);
  return out;
}

void ReplyBufferPool::give(Bytes&& buffer) {
  Bytes kept = std::move(buffer);
  if (kept.capacity() == 0) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (idle_.size() >= max_buffers_ || kept.capacity() > max_bytes_ - idle_bytes_) return;
  idle_bytes_ += kept.capacity();
  idle_.push_back(std::move(kept));
}

std::size_t ReplyBufferPool::pooled_buffers() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return idle_.size();
}

}  // namespace rvae::transport
