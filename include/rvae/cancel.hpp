// Cancellation shared between a caller and the requests it started.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "rvae/export.h"

namespace RVAE_API rvae {

/// A flag that cancels every request it was given to; the requests end promptly with
/// ErrorCode::kCancelled. Copies share one flag. Thread-safe; cancel() may be called from any
/// thread (not from a signal handler).
class CancelToken {
 public:
  /// A new, uncancelled flag.
  CancelToken();

  /// Sets the flag and runs the registered callbacks (once; later calls do nothing).
  void cancel();
  /// True once cancel() was called on this token or a copy.
  bool cancelled() const noexcept;

  /// Runs `callback` when cancel() is called (at once when already cancelled). Returns an id for
  /// remove_callback. Callbacks run on the cancelling thread and must not block.
  std::uint64_t add_callback(std::function<void()> callback);
  /// Forgets a callback that has not run yet (no-op for an unknown id).
  void remove_callback(std::uint64_t id);

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace rvae
