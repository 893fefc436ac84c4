// Float decoder output (planar, in [-1, 1]) to interleaved RGB8 in one pass over memory,
// quantised as the reference endpoint does for `partial_postprocess=True`.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "protocol/open_inference_internal.hpp"
#include "tensor/float_io.hpp"

namespace rvae::protocol::oip::internal {
namespace {

constexpr std::size_t kChunk = rvae::internal::kFloatChunk;

// A fixed-length loop over non-aliasing buffers: the compiler vectorises it at -O2; a loop
// storing straight to interleaved bytes it does not.
void quantise_chunk(const float* __restrict in, std::uint8_t* __restrict out) noexcept {
  for (std::size_t i = 0; i < kChunk; ++i)
    out[i] = quantise_pixel(in[i]);
}

}  // namespace

void planes_to_rgb8(DType dtype, const std::uint8_t* first_plane, std::size_t plane_stride,
                    std::size_t count, std::uint8_t* out) noexcept {
  const std::size_t size = dtype_size(dtype);
  // Chunks stay in L1: each plane's floats, then its levels, then three bytes per pixel.
  float floats[kChunk] = {};
  std::uint8_t levels[3][kChunk];
  for (std::size_t first = 0; first < count; first += kChunk) {
    const std::size_t n = std::min(kChunk, count - first);
    for (std::size_t k = 0; k < 3; ++k) {
      rvae::internal::load_floats(first_plane + k * plane_stride * size, dtype, first, n, floats);
      quantise_chunk(floats, levels[k]);
    }
    std::uint8_t* dst = out + 3 * first;
    for (std::size_t i = 0; i < n; ++i) {
      dst[3 * i] = levels[0][i];
      dst[3 * i + 1] = levels[1][i];
      dst[3 * i + 2] = levels[2][i];
    }
  }
}

}  // namespace rvae::protocol::oip::internal
