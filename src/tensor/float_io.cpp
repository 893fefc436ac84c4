// load_floats / store_floats: the per-dtype element access behind every float-valued operation.
#include "tensor/float_io.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "rvae/tensor.hpp"

namespace rvae::internal {
namespace {

bool aligned_for_uint16(const void* pointer) noexcept {
  return reinterpret_cast<std::uintptr_t>(pointer) % alignof(std::uint16_t) == 0;
}

// A caller's view may start at any byte address; 16-bit elements there are first copied to an
// aligned scratch chunk, since reading them in place would be a misaligned access.
template <typename Convert>
void load_halves(const std::uint8_t* base, std::size_t count, float* out, Convert convert) {
  if (aligned_for_uint16(base)) {
    convert(reinterpret_cast<const std::uint16_t*>(base), out, count);
    return;
  }
  std::uint16_t scratch[kFloatChunk];
  for (std::size_t done = 0; done < count; done += kFloatChunk) {
    const std::size_t n = count - done < kFloatChunk ? count - done : kFloatChunk;
    std::memcpy(scratch, base + done * 2, n * 2);
    convert(scratch, out + done, n);
  }
}

template <typename Convert>
void store_halves(const float* in, std::size_t count, std::uint8_t* base, Convert convert) {
  if (aligned_for_uint16(base)) {
    convert(in, reinterpret_cast<std::uint16_t*>(base), count);
    return;
  }
  std::uint16_t scratch[kFloatChunk];
  for (std::size_t done = 0; done < count; done += kFloatChunk) {
    const std::size_t n = count - done < kFloatChunk ? count - done : kFloatChunk;
    convert(in + done, scratch, n);
    std::memcpy(base + done * 2, scratch, n * 2);
  }
}

}  // namespace

void load_floats(const void* src, DType dtype, std::size_t first, std::size_t count,
                 float* out) noexcept {
  if (count == 0) return;  // Empty tensors may have null buffers, which memcpy must not see.
  const auto* base = static_cast<const std::uint8_t*>(src) + first * dtype_size(dtype);
  switch (dtype) {
    case DType::kFloat32:
      std::memcpy(out, base, count * sizeof(float));
      return;
    case DType::kFloat16:
      load_halves(base, count, out, convert_float16_to_float32);
      return;
    case DType::kBFloat16:
      load_halves(base, count, out, convert_bfloat16_to_float32);
      return;
    case DType::kUInt8:
      for (std::size_t i = 0; i < count; ++i)
        out[i] = static_cast<float>(base[i]);
      return;
  }
}

void store_floats(const float* in, std::size_t count, DType dtype, void* dst,
                  std::size_t first) noexcept {
  if (count == 0) return;
  auto* base = static_cast<std::uint8_t*>(dst) + first * dtype_size(dtype);
  switch (dtype) {
    case DType::kFloat32:
      std::memcpy(base, in, count * sizeof(float));
      return;
    case DType::kFloat16:
      store_halves(in, count, base, convert_float32_to_float16);
      return;
    case DType::kBFloat16:
      store_halves(in, count, base, convert_float32_to_bfloat16);
      return;
    case DType::kUInt8:
      for (std::size_t i = 0; i < count; ++i)
        base[i] = float_to_uint8(in[i]);
      return;
  }
}

}  // namespace rvae::internal
