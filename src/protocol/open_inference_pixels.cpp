// Float decoder output (planar, in [-1, 1]) to interleaved RGB8 in one pass, quantised as the
// reference endpoint does for `partial_postprocess=True`.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "protocol/open_inference_internal.hpp"
#include "tensor/float_io.hpp"

namespace rvae::protocol::oip::internal {
namespace {

// Planes of float32 to RGB8: plain loops the compiler vectorises.
void interleave(const float* r, const float* g, const float* b, std::size_t count,
                std::uint8_t* out) noexcept {
  for (std::size_t i = 0; i < count; ++i) {
    out[3 * i] = quantise_pixel(r[i]);
    out[3 * i + 1] = quantise_pixel(g[i]);
    out[3 * i + 2] = quantise_pixel(b[i]);
  }
}

}  // namespace

void planes_to_rgb8(DType dtype, const std::uint8_t* first_plane, std::size_t plane_stride,
                    std::size_t count, std::uint8_t* out) noexcept {
  const std::size_t size = dtype_size(dtype);
  const std::uint8_t* planes[3] = {first_plane, first_plane + plane_stride * size,
                                   first_plane + 2 * plane_stride * size};
  if (dtype == DType::kFloat32 &&
      reinterpret_cast<std::uintptr_t>(first_plane) % alignof(float) == 0 &&
      (plane_stride * size) % alignof(float) == 0) {
    interleave(reinterpret_cast<const float*>(planes[0]), reinterpret_cast<const float*>(planes[1]),
               reinterpret_cast<const float*>(planes[2]), count, out);
    return;
  }
  // Other dtypes go through float32 a chunk at a time, on the stack.
  float scratch[3][rvae::internal::kFloatChunk];
  for (std::size_t first = 0; first < count; first += rvae::internal::kFloatChunk) {
    const std::size_t n = std::min(rvae::internal::kFloatChunk, count - first);
    for (int k = 0; k < 3; ++k)
      rvae::internal::load_floats(planes[k], dtype, first, n, scratch[k]);
    interleave(scratch[0], scratch[1], scratch[2], n, out + 3 * first);
  }
}

}  // namespace rvae::protocol::oip::internal
