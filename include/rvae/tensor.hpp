// Tensors: shape, dtype and contiguous little-endian bytes, plus the conversions and layouts the
// protocol needs (float16/bfloat16, Flux packing, client-side scaling).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "rvae/bytes.hpp"
#include "rvae/error.hpp"
#include "rvae/export.h"

namespace rvae {

/// Element types the wire protocol knows.
enum class DType : std::uint8_t { kFloat32, kFloat16, kBFloat16, kUInt8 };

/// Bytes per element: 4, 2, 2, 1.
RVAE_API std::size_t dtype_size(DType dtype) noexcept;
/// Wire name: "float32", "float16", "bfloat16", "uint8".
RVAE_API std::string_view dtype_name(DType dtype) noexcept;
/// Parses a wire name (exact spelling, as the server compares it); nullopt when unknown.
RVAE_API std::optional<DType> dtype_from_name(std::string_view name) noexcept;

/// Dimensions, outermost first (row-major / C order).
using Shape = std::vector<std::int64_t>;

/// Most dimensions any tensor here has ([B, C, T, h, w] video latents).
inline constexpr std::size_t kMaxDims = 5;

/// Checks 1..kMaxDims dims, each > 0, and that product(shape) * dtype_size fits in size_t and
/// in `max_bytes`. Returns the byte size. Overflow-safe.
RVAE_API Result<std::size_t> checked_byte_size(const Shape& shape, DType dtype,
                                               std::size_t max_bytes = SIZE_MAX);

/// "[1,4,64,64]" — the compact JSON form the server uses in its `shape` header.
RVAE_API std::string shape_to_string(const Shape& shape);

/// A non-owning view of a caller's tensor bytes. The caller keeps `data` alive while the view
/// is used. Not validated at construction; validate() or the functions taking it check it.
struct RVAE_API TensorView {
  const void* data = nullptr;
  std::size_t size_bytes = 0;
  Shape shape;
  DType dtype = DType::kFloat32;

  /// Checks the shape and that size_bytes equals product(shape) * dtype_size(dtype).
  Result<void> validate() const;
  /// product(shape): the number of elements.
  std::size_t numel() const noexcept;
};

/// An owned tensor: one contiguous buffer, little-endian elements, row-major.
class RVAE_API Tensor {
 public:
  /// An empty tensor (no dims, no bytes).
  Tensor() = default;

  /// Takes ownership of `bytes`; fails unless their length matches shape and dtype.
  static Result<Tensor> from_bytes(Shape shape, DType dtype, Bytes bytes);
  /// Copies the bytes of `view`.
  static Result<Tensor> copy_of(const TensorView& view);
  /// A zero-filled tensor.
  static Result<Tensor> zeros(Shape shape, DType dtype);
  /// A float32 tensor from values; fails unless values.size() == product(shape).
  static Result<Tensor> from_floats(Shape shape, const std::vector<float>& values);

  const Shape& shape() const noexcept { return shape_; }
  DType dtype() const noexcept { return dtype_; }
  /// product(shape): the number of elements.
  std::size_t numel() const noexcept;
  std::size_t size_bytes() const noexcept { return bytes_.size(); }
  bool empty() const noexcept { return bytes_.empty(); }

  const std::uint8_t* data() const noexcept { return bytes_.data(); }
  std::uint8_t* data() noexcept { return bytes_.data(); }
  /// The elements as T (float for kFloat32, std::uint16_t for kFloat16/kBFloat16, std::uint8_t
  /// for kUInt8). The buffer is aligned for any of them.
  template <typename T>
  const T* data_as() const noexcept {
    return reinterpret_cast<const T*>(bytes_.data());
  }
  /// Mutable access to the elements as T.
  template <typename T>
  T* data_as() noexcept {
    return reinterpret_cast<T*>(bytes_.data());
  }

  /// A view of this tensor's bytes, valid while the tensor lives and is not modified.
  TensorView view() const;
  /// Gives up the buffer without copying; the tensor is empty afterwards.
  Bytes release_bytes() && noexcept;

  /// All elements as float32 (a copy when dtype differs; uint8 becomes 0..255).
  std::vector<float> to_floats() const;

 private:
  Tensor(Shape shape, DType dtype, Bytes bytes)
      : shape_(std::move(shape)), dtype_(dtype), bytes_(std::move(bytes)) {}

  Shape shape_;
  DType dtype_ = DType::kFloat32;
  Bytes bytes_;
};

// ---- Scalar conversions (round to nearest even; NaN stays NaN, Inf stays Inf, subnormals
// ---- are exact where representable).
/// IEEE half bits to float (exact).
RVAE_API float float16_to_float32(std::uint16_t bits) noexcept;
/// Float to IEEE half bits, rounded to nearest even; overflow gives Inf.
RVAE_API std::uint16_t float32_to_float16(float value) noexcept;
/// bfloat16 bits to float (exact).
RVAE_API float bfloat16_to_float32(std::uint16_t bits) noexcept;
/// Float to bfloat16 bits, rounded to nearest even; NaN stays NaN.
RVAE_API std::uint16_t float32_to_bfloat16(float value) noexcept;

// ---- Bulk conversions over n elements; src and dst must not overlap. Written as plain loops
// ---- over branch-free scalar code so the compiler vectorises them.
/// n halves to floats.
RVAE_API void convert_float16_to_float32(const std::uint16_t* src, float* dst,
                                         std::size_t n) noexcept;
/// n floats to halves.
RVAE_API void convert_float32_to_float16(const float* src, std::uint16_t* dst,
                                         std::size_t n) noexcept;
/// n bfloat16 values to floats.
RVAE_API void convert_bfloat16_to_float32(const std::uint16_t* src, float* dst,
                                          std::size_t n) noexcept;
/// n floats to bfloat16 values.
RVAE_API void convert_float32_to_bfloat16(const float* src, std::uint16_t* dst,
                                          std::size_t n) noexcept;

/// Converts a tensor to another dtype. Float to uint8 rounds and clamps to 0..255; uint8 to float
/// gives 0..255. Same dtype gives a copy.
RVAE_API Result<Tensor> convert(const TensorView& src, DType to);

/// Flux packing: [B, C, h, w] latents (h, w even) to the transformer layout
/// [B, (h/2)*(w/2), 4*C]. Any dtype.
RVAE_API Result<Tensor> pack_latents(const TensorView& latents);
/// Inverse of pack_latents: [B, (H/16)*(W/16), 4*C] to [B, C, H/8, W/8] given the image size in
/// pixels (multiples of 16). Fails when the sizes disagree with the shape.
RVAE_API Result<Tensor> unpack_latents(const TensorView& packed, int height, int width);

/// Client-side unscaling, what the server would do with factors: x / scaling_factor +
/// shift_factor, element-wise, result in the input's (float) dtype. Fails for uint8 input, a
/// zero or non-finite scaling factor, or a non-finite shift.
RVAE_API Result<Tensor> unscale_latents(const TensorView& latents, double scaling_factor,
                                        double shift_factor = 0.0);
/// The inverse, what encode applies: (x - shift_factor) * scaling_factor.
RVAE_API Result<Tensor> scale_latents(const TensorView& latents, double scaling_factor,
                                      double shift_factor = 0.0);

/// How a diffusion model's latents relate to its VAE's raw latents (PROTOCOL.md §9).
struct LatentNormalization {
  double scaling_factor = 1.0;
  double shift_factor = 0.0;  ///< Scalar form only; 0 with per-channel statistics.
  /// Per-channel form when non-empty: one value per latent channel (axis 1), both the same size.
  std::vector<double> mean;
  std::vector<double> std;
};

/// Raw latents from normalised ones, computed in float32 and written as `to` (a float dtype):
/// raw = z / scaling_factor + shift_factor, or raw[c] = z[c] * std[c] / scaling_factor + mean[c]
/// along axis 1 of [B, C, ...]. InvalidArgument for uint8 input or output, a channel count other
/// than mean.size(), mean and std of different sizes, a zero or non-finite factor or std, a
/// non-finite mean, or a shift beside per-channel statistics.
RVAE_API Result<Tensor> denormalize_latents(const TensorView& latents,
                                            const LatentNormalization& norm, DType to);
/// The inverse: z = (raw - shift_factor) * scaling_factor, or
/// z[c] = (raw[c] - mean[c]) * scaling_factor / std[c]; the same checks.
RVAE_API Result<Tensor> normalize_latents(const TensorView& raw, const LatentNormalization& norm,
                                          DType to);

}  // namespace rvae
