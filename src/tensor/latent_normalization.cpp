// Latent (de)normalisation of PROTOCOL.md §9, scalar or per channel, in one pass: each element
// becomes value * a + o with a and o of its channel (one pair for the scalar form), computed in
// float32 and written as the requested dtype.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/try.hpp"
#include "rvae/error.hpp"
#include "rvae/tensor.hpp"
#include "tensor/float_io.hpp"
#include "tensor/latent_normalization.hpp"

namespace rvae {
namespace {

enum class Direction { kDenormalize, kNormalize };

Error invalid(std::string message) {
  return Error(ErrorCode::kInvalidArgument, std::move(message));
}

// Values are used as float32, so they must stay finite (and nonzero where they divide) after
// the narrowing too.
bool usable(double value) {
  return std::isfinite(value) && std::isfinite(static_cast<float>(value));
}
bool usable_divisor(double value) {
  return usable(value) && static_cast<float>(value) != 0.0f;
}

Result<void> check(const TensorView& latents, const LatentNormalization& norm, DType to) {
  RVAE_TRY(latents.validate());
  if (latents.dtype == DType::kUInt8 || to == DType::kUInt8) {
    return invalid("latent normalisation needs float32, float16 or bfloat16 latents, not uint8");
  }
  if (!usable_divisor(norm.scaling_factor)) {
    return invalid("scaling_factor must be a nonzero finite float32 value, got " +
                   std::to_string(norm.scaling_factor));
  }
  if (!usable(norm.shift_factor)) {
    return invalid("shift_factor must be a finite float32 value, got " +
                   std::to_string(norm.shift_factor));
  }
  if (norm.mean.size() != norm.std.size()) {
    return invalid("per-channel latent statistics need as many means as stds; got " +
                   std::to_string(norm.mean.size()) + " means and " +
                   std::to_string(norm.std.size()) + " stds");
  }
  if (norm.mean.empty()) return {};
  if (norm.shift_factor != 0.0) {
    return invalid("shift_factor cannot be combined with per-channel latent statistics");
  }
  const Shape& s = latents.shape;
  if (s.size() < 4) {
    return invalid("per-channel latent statistics need [B,C,h,w] or [B,C,T,h,w] latents; got " +
                   shape_to_string(s) + " (unpack packed latents first)");
  }
  if (s[1] != static_cast<std::int64_t>(norm.mean.size())) {
    return invalid("latents " + shape_to_string(s) + " have " + std::to_string(s[1]) +
                   " channels but the statistics have " + std::to_string(norm.mean.size()));
  }
  for (std::size_t c = 0; c < norm.mean.size(); ++c) {
    if (!usable(norm.mean[c])) {
      return invalid("latent mean " + std::to_string(c) + " must be a finite float32 value");
    }
    if (!usable_divisor(norm.std[c])) {
      return invalid("latent std " + std::to_string(c) +
                     " must be a nonzero finite float32 value, got " + std::to_string(norm.std[c]));
    }
  }
  return {};
}

// `storage`: where the result goes (every byte is written, so a recycled buffer needs no
// zeroing); null for a new zero-filled one.
Result<Tensor> apply(const TensorView& latents, const LatentNormalization& norm, DType to,
                     Direction direction, Bytes* storage) {
  RVAE_TRY(check(latents, norm, to));
  Tensor out;
  if (storage != nullptr) {
    storage->resize(latents.numel() * dtype_size(to));
    RVAE_ASSIGN_OR_RETURN(out, Tensor::from_bytes(latents.shape, to, std::move(*storage)));
  } else {
    RVAE_ASSIGN_OR_RETURN(out, Tensor::zeros(latents.shape, to));
  }

  // Per channel c: denormalise raw = z * (std/s) + mean; normalise z = (raw - mean) * (s/std),
  // written as raw * (s/std) + (-mean * s/std) so both are one multiply-add.
  const bool per_channel = !norm.mean.empty();
  const std::size_t channels = per_channel ? norm.mean.size() : 1;
  std::vector<float> gain(channels), offset(channels);
  for (std::size_t c = 0; c < channels; ++c) {
    const double std_c = per_channel ? norm.std[c] : 1.0;
    const double mean_c = per_channel ? norm.mean[c] : norm.shift_factor;
    if (direction == Direction::kDenormalize) {
      gain[c] = static_cast<float>(std_c / norm.scaling_factor);
      offset[c] = static_cast<float>(mean_c);
    } else {
      gain[c] = static_cast<float>(norm.scaling_factor / std_c);
      offset[c] = static_cast<float>(-mean_c * norm.scaling_factor / std_c);
    }
  }

  // Elements of one channel are contiguous runs of `inner` (everything after axis 1).
  const std::size_t count = latents.numel();
  std::size_t inner = count;
  if (per_channel) {
    inner = 1;
    for (std::size_t d = 2; d < latents.shape.size(); ++d)
      inner *= static_cast<std::size_t>(latents.shape[d]);
  }
  float chunk[internal::kFloatChunk];
  for (std::size_t run = 0; inner != 0 && run * inner < count; ++run) {
    const std::size_t c = run % channels;
    const float a = gain[c];
    const float o = offset[c];
    const std::size_t first = run * inner;
    for (std::size_t done = 0; done < inner; done += internal::kFloatChunk) {
      const std::size_t n =
          inner - done < internal::kFloatChunk ? inner - done : internal::kFloatChunk;
      internal::load_floats(latents.data, latents.dtype, first + done, n, chunk);
      for (std::size_t i = 0; i < n; ++i)
        chunk[i] = chunk[i] * a + o;
      internal::store_floats(chunk, n, to, out.data(), first + done);
    }
  }
  return out;
}

}  // namespace

Result<Tensor> denormalize_latents(const TensorView& latents, const LatentNormalization& norm,
                                   DType to) {
  return apply(latents, norm, to, Direction::kDenormalize, nullptr);
}

namespace internal {

Result<Tensor> denormalize_latents_into(const TensorView& latents, const LatentNormalization& norm,
                                        DType to, Bytes storage) {
  return apply(latents, norm, to, Direction::kDenormalize, &storage);
}

}  // namespace internal

Result<Tensor> normalize_latents(const TensorView& raw, const LatentNormalization& norm, DType to) {
  return apply(raw, norm, to, Direction::kNormalize, nullptr);
}

}  // namespace rvae
