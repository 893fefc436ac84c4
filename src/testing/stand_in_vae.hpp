// The reference endpoint's stand-in VAE (PROTOCOL.md §6, §9): a per-model linear map between a
// normalised latent pixel and RGB in [-1, 1], and its pseudo-inverse for encoding.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "rvae/tensor.hpp"

namespace rvae::reference {

/// One model's stand-in VAE. Immutable after construction; safe to share between threads.
struct StandInVae {
  std::string name;
  int channels = 0;
  double scaling = 1.0;  ///< s0, the model's default scaling factor.
  double shift = 0.0;    ///< t0, the model's default shift factor (0 when it has none).
  int temporal_compression = 1;
  bool can_encode = true;
  /// An image model whose VAE takes 5-D latents [B, C, 1, h, w] (Qwen-Image, PROTOCOL.md §9).
  bool five_d_image = false;
  /// The dtype the VAE runs in (the preset's): the service's float replies, decode with
  /// partial_postprocess=False and every encode, come in it whatever the request's dtype.
  DType dtype = DType::kFloat16;
  std::vector<double> f;           ///< C x 3, row-major: F[c][k], k = R, G, B.
  std::array<double, 3> bias{};    ///< b.
  std::vector<double> encode_map;  ///< C x 3, row-major: pinv(F^T) = F (F^T F)^-1.
  /// PROTOCOL.md §9's per-channel statistics (C values each); empty for the scalar form.
  std::vector<double> mean;
  std::vector<double> std;

  bool is_video() const noexcept { return temporal_compression > 1; }
  /// True for Wan 2.1 and Qwen-Image: no scalar factors exist for them.
  bool per_channel() const noexcept { return !mean.empty(); }
  /// The rank of the VAE's own latents: 5 for video models and Qwen-Image, 4 otherwise.
  int latent_rank() const noexcept { return is_video() || five_d_image ? 5 : 4; }

  /// The normalised latent the stand-in's map takes, from a raw one of channel c:
  /// (raw - t0) * s0 (§6), or (raw - mean[c]) / std[c] (§9).
  double normalise(double raw, std::size_t c) const noexcept {
    return per_channel() ? (raw - mean[c]) / std[c] : (raw - shift) * scaling;
  }
  /// The inverse: x / s0 + t0, or x * std[c] + mean[c].
  double denormalise(double x, std::size_t c) const noexcept {
    return per_channel() ? x * std[c] + mean[c] : x / scaling + shift;
  }

  /// rgb = clamp(F^T x + b, -1, 1) for one scaled latent pixel x (C values `stride` apart). A NaN
  /// sum gives -1, the value the library's float path turns NaN into (level 0), so NaN latents
  /// come back as the same black pixel in every output type.
  void scaled_latent_to_rgb(const double* x, std::size_t stride, double* rgb) const noexcept;
  /// x = pinv(F^T) (rgb - b): the scaled latent pixel (C values, written `stride` apart).
  void rgb_to_scaled_latent(const double* rgb, double* x, std::size_t stride) const noexcept;
};

/// Every model served (sd15, sdxl, flux, hunyuan-video, wan2.1, qwen-image), from the endpoint's
/// own table of PROTOCOL.md §1, §6 and §9, independent of the client's presets. Built on first use;
/// thread-safe.
const std::vector<StandInVae>& stand_in_vaes();

/// One model of stand_in_vaes() by name; nullptr for an unknown name.
const StandInVae* find_stand_in_vae(std::string_view name);

}  // namespace rvae::reference
