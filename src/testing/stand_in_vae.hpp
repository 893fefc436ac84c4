// The reference endpoint's stand-in VAE (PROTOCOL.md §6): a per-model linear map between a scaled
// latent pixel and RGB in [-1, 1], and its pseudo-inverse for encoding.
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
  /// The dtype the VAE runs in (the preset's): the service's float replies, decode with
  /// partial_postprocess=False and every encode, come in it whatever the request's dtype.
  DType dtype = DType::kFloat16;
  std::vector<double> f;           ///< C x 3, row-major: F[c][k], k = R, G, B.
  std::array<double, 3> bias{};    ///< b.
  std::vector<double> encode_map;  ///< C x 3, row-major: pinv(F^T) = F (F^T F)^-1.

  bool is_video() const noexcept { return temporal_compression > 1; }

  /// rgb = clamp(F^T x + b, -1, 1) for one scaled latent pixel x (C values `stride` apart). A NaN
  /// sum gives -1, the value the library's float path turns NaN into (level 0), so NaN latents
  /// come back as the same black pixel in every output type.
  void scaled_latent_to_rgb(const double* x, std::size_t stride, double* rgb) const noexcept;
  /// x = pinv(F^T) (rgb - b): the scaled latent pixel (C values, written `stride` apart).
  void rgb_to_scaled_latent(const double* rgb, double* x, std::size_t stride) const noexcept;
};

/// Every model served (sd15, sdxl, flux, hunyuan-video), from the endpoint's own table of
/// PROTOCOL.md §1 and §6, independent of the client's presets. Built on first use; thread-safe.
const std::vector<StandInVae>& stand_in_vaes();

/// One model of stand_in_vaes() by name; nullptr for an unknown name.
const StandInVae* find_stand_in_vae(std::string_view name);

}  // namespace rvae::reference
