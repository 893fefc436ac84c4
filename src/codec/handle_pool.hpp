// A bounded free list of a C library's handles, shared by the threads of the process.
//
// Why not thread_local: an object with a destructor in thread_local storage is destroyed during
// the thread library's TLS teardown, and under mingw-w64's winpthreads that teardown runs the
// destructor at a point where freeing the handle crashes. A pool owned by a never-destroyed static
// runs no destructor at thread exit nor at process exit, in any order; what it still holds at
// exit stays reachable from the static, which LeakSanitizer does not report.
#pragma once

#include <cstddef>
#include <mutex>
#include <new>
#include <utility>

namespace rvae::codec_detail {

/// Holds up to `Capacity` idle handles of type T*, destroyed with `Destroy` when one is given
/// back to a full pool. Construct it only through NeverDestroyed (below): it frees nothing when
/// it goes away.
template <typename T, void (*Destroy)(T*), std::size_t Capacity>
class HandlePool {
 public:
  static_assert(Capacity > 0, "a pool holds at least one handle");

  /// A handle taken from the pool for one call, given back when the lease ends.
  class Lease {
   public:
    Lease(HandlePool* pool, T* handle) noexcept : pool_(pool), handle_(handle) {}
    ~Lease() {
      if (handle_ != nullptr) pool_->give_back(handle_);
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    /// Null when the pool was empty and `create` failed.
    T* get() const noexcept { return handle_; }
    /// The handle, now the caller's to free: the lease no longer gives it back.
    T* release() noexcept {
      T* handle = handle_;
      handle_ = nullptr;
      return handle;
    }

   private:
    HandlePool* pool_;
    T* handle_;
  };

  /// An idle handle, or a new one from `create()` (which returns null on failure) when none is.
  template <typename Create>
  Lease acquire(Create&& create) noexcept {
    T* handle = take();
    if (handle == nullptr) handle = std::forward<Create>(create)();
    return Lease(this, handle);
  }

  /// How many idle handles the pool holds now (tests).
  std::size_t idle() const noexcept {
    const std::lock_guard<std::mutex> lock(mutex_);
    return idle_;
  }

 private:
  T* take() noexcept {
    const std::lock_guard<std::mutex> lock(mutex_);
    return idle_ == 0 ? nullptr : handles_[--idle_];
  }

  // Beyond the capacity a handle is freed: the pool stays bounded whatever the peak of
  // concurrent calls was.
  void give_back(T* handle) noexcept {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      if (idle_ < Capacity) {
        handles_[idle_++] = handle;
        return;
      }
    }
    Destroy(handle);
  }

  mutable std::mutex mutex_;
  std::size_t idle_ = 0;
  T* handles_[Capacity] = {};
};

/// Storage for a T constructed on first use and never destroyed: a function-local
/// `static NeverDestroyed<T>` has a trivial destructor, so no exit handler runs for it.
template <typename T>
class NeverDestroyed {
 public:
  template <typename... Args>
  explicit NeverDestroyed(Args&&... args) {
    new (storage_) T(std::forward<Args>(args)...);
  }
  NeverDestroyed(const NeverDestroyed&) = delete;
  NeverDestroyed& operator=(const NeverDestroyed&) = delete;

  T& get() noexcept { return *std::launder(reinterpret_cast<T*>(storage_)); }

 private:
  alignas(T) unsigned char storage_[sizeof(T)];
};

}  // namespace rvae::codec_detail
