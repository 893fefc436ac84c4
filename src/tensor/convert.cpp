// rvae::convert: any dtype to any other, through float32 where the pair has no direct path.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

#include "core/try.hpp"
#include "rvae/error.hpp"
#include "rvae/tensor.hpp"
#include "tensor/float_io.hpp"

namespace rvae {

Result<Tensor> convert(const TensorView& src, DType to) {
  RVAE_TRY(src.validate());
  Result<Tensor> out = Tensor::zeros(src.shape, to);
  if (!out) return out;
  const std::size_t count = src.numel();

  if (src.dtype == to) {
    std::memcpy(out->data(), src.data, src.size_bytes);
  } else if (to == DType::kFloat32) {
    // The destination is our own aligned buffer, so the source decodes straight into it.
    internal::load_floats(src.data, src.dtype, 0, count, out->data_as<float>());
  } else if (src.dtype == DType::kFloat32 &&
             reinterpret_cast<std::uintptr_t>(src.data) % alignof(float) == 0) {
    internal::store_floats(static_cast<const float*>(src.data), count, to, out->data(), 0);
  } else {
    // Pairs without float32 on either side (or a misaligned float32 source) go through a small
    // float32 chunk so no full-size temporary is allocated.
    float chunk[internal::kFloatChunk];
    for (std::size_t done = 0; done < count; done += internal::kFloatChunk) {
      const std::size_t n =
          count - done < internal::kFloatChunk ? count - done : internal::kFloatChunk;
      internal::load_floats(src.data, src.dtype, done, n, chunk);
      internal::store_floats(chunk, n, to, out->data(), done);
    }
  }
  return out;
}

}  // namespace rvae
