// Slicing copies whole planes of raw bytes; averaging goes through float32 (as the spatial
// downsample does) and back to the caller's dtype.
#include "tiling/chunk_latents.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "tensor/float_io.hpp"

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

Result<Tensor> average_frames(const TensorView& latents, int factor) {
  const Shape& s = latents.shape;
  const auto frames = static_cast<std::size_t>(s[2]);
  const auto f = static_cast<std::size_t>(factor);
  const std::size_t out_frames = (frames + f - 1) / f;
  Result<Tensor> out =
      Tensor::zeros({s[0], s[1], static_cast<std::int64_t>(out_frames), s[3], s[4]}, latents.dtype);
  if (!out) return out;
  const auto plane = static_cast<std::size_t>(s[3] * s[4]);
  const auto channels = static_cast<std::size_t>(s[0] * s[1]);
  const auto* src = static_cast<const std::uint8_t*>(latents.data);
  std::vector<double> sum(plane);
  for (std::size_t c = 0; c < channels; ++c) {
    for (std::size_t j = 0; j < out_frames; ++j) {
      const std::size_t first = j * f, last = std::min(frames, first + f);
      std::fill(sum.begin(), sum.end(), 0.0);
      for (std::size_t t = first; t < last; ++t) {
        const std::size_t base = (c * frames + t) * plane;
        for (std::size_t p = 0; p < plane; ++p)
          sum[p] += internal::load_float(latents.dtype, src, base + p);
      }
      const std::size_t base = (c * out_frames + j) * plane;
      for (std::size_t p = 0; p < plane; ++p)
        internal::store_float(latents.dtype, out->data(), base + p,
                              static_cast<float>(sum[p] / static_cast<double>(last - first)));
    }
  }
  return out;
}

}  // namespace rvae::detail
