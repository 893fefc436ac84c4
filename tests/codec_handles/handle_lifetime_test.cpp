// The codec libraries' handles (TurboJPEG decompressors, libdeflate compressors and
// decompressors) are never freed by a thread's exit: a handle held in thread_local storage is
// destroyed during the thread library's TLS teardown, which crashed under mingw-w64's
// winpthreads. The libraries' create and free functions are wrapped at link time
// (tests/CMakeLists.txt: --wrap) to count handles and to see on which thread, and when, each is
// freed. Every test works on many short-lived threads, started and joined one after another
// (or a few at a time), as a batch's worker threads come and go.
#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "codec/codec_test_util.hpp"
#include "codec/decoded_pixels.hpp"
#include "codec/image_layout.hpp"
#include "rvae/bytes.hpp"

#if defined(RVAE_HAVE_TURBOJPEG)
#include <turbojpeg.h>

#include "codec/jpeg_backend.hpp"
#endif
#if defined(RVAE_HAVE_LIBDEFLATE)
#include <libdeflate.h>

#include "codec/png_reader.hpp"
#include "codec/png_writer.hpp"
#endif

namespace {

// Set on a test thread once its work has returned: a handle freed after that is freed by the
// thread's exit. Trivially destructible, so it stays readable during TLS teardown.
thread_local bool work_returned = false;

struct Counts {
  std::atomic<int> created{0};
  std::atomic<int> freed{0};
  std::atomic<int> freed_at_thread_exit{0};

  void on_free() noexcept {
    freed.fetch_add(1);
    if (work_returned) freed_at_thread_exit.fetch_add(1);
  }
};

[[maybe_unused]] Counts turbo_decompressors;
[[maybe_unused]] Counts deflate_decompressors;
[[maybe_unused]] Counts deflate_compressors;

// What a thread saw right after its work returned: the handles created and not yet freed.
struct Snapshot {
  int created = 0;
  int freed = 0;
};

Snapshot snapshot(const Counts& counts) {
  return {counts.created.load(), counts.freed.load()};
}

// Runs `work` on `threads` threads `rounds` times, the threads of a round running at once and
// ending before the next round starts.
void on_short_lived_threads(int rounds, int threads, const std::function<void()>& work) {
  for (int round = 0; round < rounds; ++round) {
    std::vector<std::thread> running;
    for (int i = 0; i < threads; ++i) {
      running.emplace_back([&work] {
        work();
        work_returned = true;
      });
    }
    for (std::thread& thread : running)
      thread.join();
  }
}

}  // namespace

extern "C" {
#if defined(RVAE_HAVE_TURBOJPEG)
tjhandle __real_tjInitDecompress(void);
int __real_tjDestroy(tjhandle handle);

tjhandle __wrap_tjInitDecompress(void) {
  tjhandle handle = __real_tjInitDecompress();
  if (handle != nullptr) turbo_decompressors.created.fetch_add(1);
  return handle;
}

int __wrap_tjDestroy(tjhandle handle) {
  turbo_decompressors.on_free();
  return __real_tjDestroy(handle);
}
#endif

#if defined(RVAE_HAVE_LIBDEFLATE)
libdeflate_decompressor* __real_libdeflate_alloc_decompressor(void);
void __real_libdeflate_free_decompressor(libdeflate_decompressor* decompressor);
libdeflate_compressor* __real_libdeflate_alloc_compressor(int level);
void __real_libdeflate_free_compressor(libdeflate_compressor* compressor);

libdeflate_decompressor* __wrap_libdeflate_alloc_decompressor(void) {
  libdeflate_decompressor* decompressor = __real_libdeflate_alloc_decompressor();
  if (decompressor != nullptr) deflate_decompressors.created.fetch_add(1);
  return decompressor;
}

void __wrap_libdeflate_free_decompressor(libdeflate_decompressor* decompressor) {
  if (decompressor != nullptr) deflate_decompressors.on_free();
  __real_libdeflate_free_decompressor(decompressor);
}

libdeflate_compressor* __wrap_libdeflate_alloc_compressor(int level) {
  libdeflate_compressor* compressor = __real_libdeflate_alloc_compressor(level);
  if (compressor != nullptr) deflate_compressors.created.fetch_add(1);
  return compressor;
}

void __wrap_libdeflate_free_compressor(libdeflate_compressor* compressor) {
  if (compressor != nullptr) deflate_compressors.on_free();
  __real_libdeflate_free_compressor(compressor);
}
#endif
}

namespace rvae::codec_detail {
namespace {

constexpr int kThreads = 24;

#if defined(RVAE_HAVE_TURBOJPEG)

// A decode's decompressor is freed by the decode itself, on its thread, before it returns.
TEST(CodecHandles, TurboJpegDecompressorFreedByTheDecodeNotByTheThreadExit) {
  const Bytes jpeg = test::read_test_file("rocket.jpg");
  const ImageLayout layout = scan_jpeg(jpeg.data(), jpeg.size());
  ASSERT_FALSE(layout.problem);
  const Snapshot before = snapshot(turbo_decompressors);
  std::atomic<int> decoded{0};
  std::atomic<int> held_after_decode{0};
  on_short_lived_threads(kThreads, 1, [&] {
    DecodedPixels pixels;
    // One thread: the whole-image decode, the one that uses a TurboJPEG handle.
    const Snapshot start = snapshot(turbo_decompressors);
    if (turbo_decode_jpeg_rgb(jpeg.data(), jpeg.size(), layout.jpeg, &pixels, 1).ok) ++decoded;
    const Snapshot end = snapshot(turbo_decompressors);
    held_after_decode += (end.created - start.created) - (end.freed - start.freed);
  });
  EXPECT_EQ(decoded.load(), kThreads);
  EXPECT_EQ(held_after_decode.load(), 0);
  EXPECT_EQ(turbo_decompressors.freed_at_thread_exit.load(), 0);
  const Snapshot after = snapshot(turbo_decompressors);
  EXPECT_EQ(after.created - before.created, after.freed - before.freed);
}

#endif  // RVAE_HAVE_TURBOJPEG

#if defined(RVAE_HAVE_LIBDEFLATE)

Bytes small_png() {
  std::vector<std::uint8_t> rgb(64 * 48 * 3);
  for (std::size_t i = 0; i < rgb.size(); ++i)
    rgb[i] = static_cast<std::uint8_t>(i * 7 + i / 191);
  Bytes png;
  EXPECT_TRUE(deflate_write_png(rgb.data(), 64, 48, 3, 6, &png));
  return png;
}

TEST(CodecHandles, DeflateDecompressorFreedByTheDecodeNotByTheThreadExit) {
  const Bytes png = small_png();
  const Snapshot before = snapshot(deflate_decompressors);
  std::atomic<int> decoded{0};
  std::atomic<int> held_after_decode{0};
  on_short_lived_threads(kThreads, 1, [&] {
    DecodedPixels pixels;
    const Snapshot start = snapshot(deflate_decompressors);
    if (fast_decode_png(png.data(), png.size(), 3, &pixels)) ++decoded;
    const Snapshot end = snapshot(deflate_decompressors);
    held_after_decode += (end.created - start.created) - (end.freed - start.freed);
  });
  EXPECT_EQ(decoded.load(), kThreads);
  EXPECT_EQ(held_after_decode.load(), 0);
  EXPECT_EQ(deflate_decompressors.freed_at_thread_exit.load(), 0);
  const Snapshot after = snapshot(deflate_decompressors);
  EXPECT_EQ(after.created - before.created, after.freed - before.freed);
}

// Compressors are kept for the next image, across threads: as many are made as encode at once,
// not one per thread, and a thread's exit frees none.
TEST(CodecHandles, DeflateCompressorsOutliveTheirThreadsAndStayBounded) {
  std::vector<std::uint8_t> rgb(32 * 32 * 3, 90);
  constexpr int kAtOnce = 2;
  const Snapshot before = snapshot(deflate_compressors);
  std::atomic<int> encoded{0};
  on_short_lived_threads(kThreads / kAtOnce, kAtOnce, [&] {
    Bytes png;
    if (deflate_write_png(rgb.data(), 32, 32, 3, 9, &png)) ++encoded;
  });
  EXPECT_EQ(encoded.load(), kThreads / kAtOnce * kAtOnce);
  EXPECT_EQ(deflate_compressors.freed_at_thread_exit.load(), 0);
  const Snapshot after = snapshot(deflate_compressors);
  EXPECT_LE(after.created - before.created, kAtOnce);
}

#endif  // RVAE_HAVE_LIBDEFLATE

}  // namespace
}  // namespace rvae::codec_detail
