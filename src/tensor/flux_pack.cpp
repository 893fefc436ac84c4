// Flux latent packing (PROTOCOL.md §3): [B, C, h, w] <-> [B, (h/2)*(w/2), 4*C].
//
// Element (b, c, 2i + di, 2j + dj) of the image layout is element
// (b, i * (w/2) + j, 4c + 2di + dj) of the packed layout. For fixed (b, c, row) the two elements
// dj = 0, 1 are adjacent on both sides, so the permutation moves pairs of elements.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

#include "core/try.hpp"
#include "rvae/error.hpp"
#include "rvae/tensor.hpp"

namespace rvae {
namespace {

struct LatentDims {
  std::size_t batch, channels, height, width;  // The [B, C, h, w] side, h and w even.
};

enum class Direction { kPack, kUnpack };

// A fixed copy size lets the compiler turn each memcpy into one load and one store.
template <std::size_t kElementSize>
void permute_pairs(const LatentDims& d, const std::uint8_t* src, std::uint8_t* dst,
                   Direction direction) noexcept {
  constexpr std::size_t kPair = 2 * kElementSize;
  const std::size_t half_w = d.width / 2;
  const std::size_t tokens = (d.height / 2) * half_w;
  const std::size_t token_len = 4 * d.channels;
  std::size_t image_index = 0;  // Element index on the [B, C, h, w] side, in row-major order.
  for (std::size_t b = 0; b < d.batch; ++b) {
    for (std::size_t c = 0; c < d.channels; ++c) {
      for (std::size_t y = 0; y < d.height; ++y) {
        const std::size_t row_base =
            (b * tokens + (y / 2) * half_w) * token_len + 4 * c + 2 * (y % 2);
        for (std::size_t j = 0; j < half_w; ++j, image_index += 2) {
          const std::size_t packed_index = row_base + j * token_len;
          if (direction == Direction::kPack) {
            std::memcpy(dst + packed_index * kElementSize, src + image_index * kElementSize, kPair);
          } else {
            std::memcpy(dst + image_index * kElementSize, src + packed_index * kElementSize, kPair);
          }
        }
      }
    }
  }
}

void permute(const LatentDims& dims, DType dtype, const void* src, void* dst,
             Direction direction) noexcept {
  const auto* from = static_cast<const std::uint8_t*>(src);
  auto* to = static_cast<std::uint8_t*>(dst);
  switch (dtype_size(dtype)) {
    case 1:
      permute_pairs<1>(dims, from, to, direction);
      return;
    case 2:
      permute_pairs<2>(dims, from, to, direction);
      return;
    default:
      permute_pairs<4>(dims, from, to, direction);
      return;
  }
}

Error bad_shape(const std::string& what, const Shape& shape) {
  return Error(ErrorCode::kInvalidArgument, what + ", got shape " + shape_to_string(shape));
}

}  // namespace

Result<Tensor> pack_latents(const TensorView& latents) {
  RVAE_TRY(latents.validate());
  const Shape& s = latents.shape;
  if (s.size() != 4) return bad_shape("pack_latents needs [B, C, h, w] latents", s);
  if (s[2] % 2 != 0 || s[3] % 2 != 0) {
    return bad_shape("pack_latents needs an even latent height and width", s);
  }
  const LatentDims dims{static_cast<std::size_t>(s[0]), static_cast<std::size_t>(s[1]),
                        static_cast<std::size_t>(s[2]), static_cast<std::size_t>(s[3])};
  Result<Tensor> out = Tensor::zeros({s[0], (s[2] / 2) * (s[3] / 2), 4 * s[1]}, latents.dtype);
  if (!out) return out;
  permute(dims, latents.dtype, latents.data, out->data(), Direction::kPack);
  return out;
}

Result<Tensor> unpack_latents(const TensorView& packed, int height, int width) {
  RVAE_TRY(packed.validate());
  const Shape& s = packed.shape;
  if (s.size() != 3) return bad_shape("unpack_latents needs packed [B, L, 4*C] latents", s);
  if (height <= 0 || width <= 0 || height % 16 != 0 || width % 16 != 0) {
    return Error(ErrorCode::kInvalidArgument,
                 "unpack_latents needs height and width that are positive multiples of 16, got " +
                     std::to_string(height) + "x" + std::to_string(width));
  }
  const std::int64_t rows = height / 16;
  const std::int64_t cols = width / 16;
  if (s[1] != rows * cols) {
    return bad_shape("unpack_latents: a " + std::to_string(height) + "x" + std::to_string(width) +
                         " image needs L = " + std::to_string(rows * cols) + " tokens",
                     s);
  }
  if (s[2] % 4 != 0) return bad_shape("unpack_latents needs a last dimension divisible by 4", s);
  const std::int64_t channels = s[2] / 4;
  const LatentDims dims{static_cast<std::size_t>(s[0]), static_cast<std::size_t>(channels),
                        static_cast<std::size_t>(2 * rows), static_cast<std::size_t>(2 * cols)};
  Result<Tensor> out = Tensor::zeros({s[0], channels, 2 * rows, 2 * cols}, packed.dtype);
  if (!out) return out;
  permute(dims, packed.dtype, packed.data, out->data(), Direction::kUnpack);
  return out;
}

}  // namespace rvae
