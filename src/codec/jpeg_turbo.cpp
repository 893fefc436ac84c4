// libjpeg-turbo through its TurboJPEG API (2.x, as Debian 12 ships it).
#include "codec/jpeg_backend.hpp"

#if defined(RVAE_HAVE_TURBOJPEG)

#include <turbojpeg.h>

#include "codec/jpeg_split.hpp"

#include <climits>
#include <memory>
#include <new>

namespace rvae::codec_detail {
namespace {

struct HandleCloser {
  void operator()(void* handle) const noexcept { tjDestroy(handle); }
};
using Handle = std::unique_ptr<void, HandleCloser>;

// One decompressor per call. Not thread_local: handle_pool.hpp says why. Nor pooled: making and
// freeing one costs about 0.2 us (rvae_bench, BM_DecoderHandle_turbojpeg; libjpeg-turbo 2.1.5),
// under 1% of decoding even a 64x64 image (27 us), and libjpeg allocates a decode's working
// memory anew every time anyway.
Handle new_handle() noexcept {
  return Handle(tjInitDecompress());
}

JpegStatus failure(tjhandle handle) {
  JpegStatus status;
  const char* reason = tjGetErrorStr2(handle);
  status.reason = reason != nullptr ? reason : "unknown libjpeg-turbo error";
  // libjpeg reports failed allocations as "Insufficient memory" (JERR_OUT_OF_MEMORY).
  status.resource_exhausted = status.reason.find("Insufficient memory") != std::string::npos;
  return status;
}

}  // namespace

JpegStatus turbo_decode_jpeg_rgb(const std::uint8_t* data, std::size_t size,
                                 const JpegHeader& header, DecodedPixels* out, int max_threads) {
#if defined(RVAE_HAVE_JPEG_SPLIT)
  const RunningJpegDecode running;
#endif
  if (size > ULONG_MAX) return {false, true, "JPEG too large for libjpeg-turbo"};
  const auto jpeg_size = static_cast<unsigned long>(size);
  // The size scan_jpeg read from the frame header, the one libjpeg-turbo reads too.
  const int width = header.width;
  const int height = header.height;
  try {
    out->pixels.resize(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * 3);
  } catch (const std::bad_alloc&) {
    return {false, true, "outofmem"};
  }
#if defined(RVAE_HAVE_JPEG_SPLIT)
  // A large sequential JPEG decodes on two threads when a core is free. When a part fails, the
  // whole-image decode below runs, so errors read the same either way.
  if (max_threads >= 2 && worth_splitting(width, height)) {
    const JpegSplitPlan plan = plan_jpeg_split(header);
    if (plan.splittable &&
        balanced_decode_jpeg_rgb(data, size, plan, out->pixels.data(), nullptr, nullptr)) {
      out->width = width;
      out->height = height;
      return {true, false, ""};
    }
  }
#else
  (void)max_threads;
#endif
  // Warnings (corrupt entropy data, which libjpeg would fill with grey) fail the decode, as
  // for stb: a reply is either intact or refused. LIMITSCANS caps progressive scans at 500,
  // against files made of millions of tiny scans.
  const int flags = TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS;
  const Handle owned = new_handle();
  tjhandle handle = owned.get();
  if (handle == nullptr) {
    out->pixels.clear();
    return {false, true, "cannot create a libjpeg-turbo decompressor"};
  }
  if (tjDecompress2(handle, data, jpeg_size, out->pixels.data(), width, 0, height, TJPF_RGB,
                    flags) != 0) {
    out->pixels.clear();
    return failure(handle);
  }
  out->width = width;
  out->height = height;
  return {true, false, ""};
}

const char* active_jpeg_backend() noexcept {
  return "libjpeg-turbo";
}

JpegStatus decode_jpeg_rgb(const std::uint8_t* data, std::size_t size, const JpegHeader& header,
                           DecodedPixels* out, int max_threads) {
  return turbo_decode_jpeg_rgb(data, size, header, out, max_threads);
}

}  // namespace rvae::codec_detail

#endif  // RVAE_HAVE_TURBOJPEG
