// Client-side latent (un)scaling, element-wise in float32, written back in the input's dtype.
#include <cmath>
#include <cstddef>
#include <string>
#include <utility>

#include "core/try.hpp"
#include "rvae/error.hpp"
#include "rvae/tensor.hpp"
#include "tensor/float_io.hpp"

namespace rvae {
namespace {

enum class Op { kUnscale, kScale };

// Factors are used as float32 (the tensor's compute precision), so they must stay nonzero and
// finite after the narrowing too: 1e-50 or 1e300 are finite doubles but not usable floats.
Result<void> check_factors(double scaling, double shift) {
  const auto scaling_f = static_cast<float>(scaling);
  if (!std::isfinite(scaling) || scaling == 0.0 || !std::isfinite(scaling_f) || scaling_f == 0.0f) {
    return Error(
        ErrorCode::kInvalidArgument,
        "scaling_factor must be a nonzero finite float32 value, got " + std::to_string(scaling));
  }
  if (!std::isfinite(shift) || !std::isfinite(static_cast<float>(shift))) {
    return Error(ErrorCode::kInvalidArgument,
                 "shift_factor must be a finite float32 value, got " + std::to_string(shift));
  }
  return {};
}

Result<Tensor> apply(const TensorView& latents, double scaling, double shift, Op op) {
  RVAE_TRY(latents.validate());
  if (latents.dtype == DType::kUInt8) {
    return Error(ErrorCode::kInvalidArgument,
                 "latent scaling needs float32, float16 or bfloat16 latents, got uint8");
  }
  RVAE_TRY(check_factors(scaling, shift));
  Result<Tensor> out = Tensor::zeros(latents.shape, latents.dtype);
  if (!out) return out;

  const auto scaling_f = static_cast<float>(scaling);
  const auto shift_f = static_cast<float>(shift);
  const std::size_t count = latents.numel();
  float chunk[internal::kFloatChunk];
  for (std::size_t done = 0; done < count; done += internal::kFloatChunk) {
    const std::size_t n =
        count - done < internal::kFloatChunk ? count - done : internal::kFloatChunk;
    internal::load_floats(latents.data, latents.dtype, done, n, chunk);
    if (op == Op::kUnscale) {
      for (std::size_t i = 0; i < n; ++i)
        chunk[i] = chunk[i] / scaling_f + shift_f;
    } else {
      for (std::size_t i = 0; i < n; ++i)
        chunk[i] = (chunk[i] - shift_f) * scaling_f;
    }
    internal::store_floats(chunk, n, latents.dtype, out->data(), done);
  }
  return out;
}

}  // namespace

Result<Tensor> unscale_latents(const TensorView& latents, double scaling_factor,
                               double shift_factor) {
  return apply(latents, scaling_factor, shift_factor, Op::kUnscale);
}

Result<Tensor> scale_latents(const TensorView& latents, double scaling_factor,
                             double shift_factor) {
  return apply(latents, scaling_factor, shift_factor, Op::kScale);
}

}  // namespace rvae
