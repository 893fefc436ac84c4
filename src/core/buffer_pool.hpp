// Buffers of earlier replies and images kept for the next ones: a buffer whose pages were
// already touched receives without page faults. Shared by the transport (reply bodies) and the
// request engine (decoded pixels).
#pragma once

#include <cstddef>
#include <mutex>
#include <vector>

#include "rvae/bytes.hpp"

namespace rvae::detail {

/// Idle buffers kept for later. Thread-safe.
class BufferPool {
 public:
  /// Keeps at most `max_buffers` buffers and `max_bytes` of capacity in all.
  BufferPool(std::size_t max_buffers, std::size_t max_bytes);

  /// An empty buffer with room for `expected` bytes when one is pooled (the smallest that fits;
  /// for 0, "unknown", the largest); else a fresh one reserved to `expected`.
  Bytes take(std::size_t expected);
  /// The same, but a pooled buffer keeps the size (and bytes) it was given back with, so
  /// resizing it to at most that size writes nothing: for a decoder that overwrites every
  /// byte it keeps (a 3 MiB image saves a 3 MiB memset). The bytes are this process's own
  /// earlier replies or images.
  Bytes take_unzeroed(std::size_t expected);
  /// Keeps `buffer` for later when within the limits; else frees it.
  void give(Bytes&& buffer);

  std::size_t pooled_buffers() const;

 private:
  mutable std::mutex mutex_;
  std::vector<Bytes> idle_;
  std::size_t idle_bytes_ = 0;
  const std::size_t max_buffers_;
  const std::size_t max_bytes_;
};

}  // namespace rvae::detail
