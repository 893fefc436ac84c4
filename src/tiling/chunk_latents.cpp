// Slicing copies whole planes of raw bytes, so chunks keep the caller's dtype bit for bit.
#include "tiling/chunk_latents.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace rvae::detail {

Result<Tensor> slice_frames(const TensorView& latents, int start, int count) {
  const Shape& s = latents.shape;
  Result<Tensor> out = Tensor::zeros({s[0], s[1], count, s[3], s[4]}, latents.dtype);
  if (!out) return out;
  const std::size_t plane = static_cast<std::size_t>(s[3] * s[4]) * dtype_size(latents.dtype);
  const auto frames = static_cast<std::size_t>(s[2]);
  const auto channels = static_cast<std::size_t>(s[0] * s[1]);
  const auto* src = static_cast<const std::uint8_t*>(latents.data);
  std::uint8_t* dst = out->data();
  for (std::size_t c = 0; c < channels; ++c) {
    std::memcpy(dst + c * static_cast<std::size_t>(count) * plane,
                src + (c * frames + static_cast<std::size_t>(start)) * plane,
                static_cast<std::size_t>(count) * plane);
  }
  return out;
}

}  // namespace rvae::detail
