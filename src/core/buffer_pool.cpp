#include "core/buffer_pool.hpp"

#include <utility>

namespace rvae::detail {

BufferPool::BufferPool(std::size_t max_buffers, std::size_t max_bytes)
    : max_buffers_(max_buffers), max_bytes_(max_bytes) {}

Bytes BufferPool::take(std::size_t expected) {
  Bytes out = take_unzeroed(expected);
  out.clear();
  return out;
}

Bytes BufferPool::take_unzeroed(std::size_t expected) {
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

void BufferPool::give(Bytes&& buffer) {
  Bytes kept = std::move(buffer);
  if (kept.capacity() == 0) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (idle_.size() >= max_buffers_ || kept.capacity() > max_bytes_ - idle_bytes_) return;
  idle_bytes_ += kept.capacity();
  idle_.push_back(std::move(kept));
}

std::size_t BufferPool::pooled_buffers() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return idle_.size();
}

}  // namespace rvae::detail
