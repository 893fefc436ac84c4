// Cancellation shared between a caller and the requests it started.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "rvae/export.h"

namespace rvae {

/// A flag that cancels every request it was given to; the requests end promptly with
/// ErrorCode::kCancelled. Copies share one flag. Thread-safe; cancel() may be called from any
/// thread (not from a signal handler).
class RVAE_API CancelToken {
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

  /// A new token that is cancelled when this one is (and can be cancelled on its own without
  /// touching this one). The link ends when the last copy of the child is gone, so a
  /// long-lived parent does not collect its children's callbacks.
  CancelToken child() const;
  /// Makes this token cancelled when `parent` is, too (at once when it already is). A token may
  /// follow several parents; each link ends when the last copy of this token is gone.
  void follow(const CancelToken& parent);

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace rvae
