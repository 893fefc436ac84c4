// A local, instant, approximate image of latents: each latent pixel mapped to RGB by the model's
// "latent preview" factors (a C x 3 matrix and a bias, the table of PROTOCOL.md §6). No network
// and no VAE: what a UI shows while the real decode runs remotely.
#pragma once

#include <array>
#include <optional>
#include <string_view>
#include <vector>

#include "rvae/error.hpp"
#include "rvae/export.h"
#include "rvae/image.hpp"
#include "rvae/tensor.hpp"

namespace rvae {

/// One model's latent-to-RGB map: rgb = clamp(F^T x + b, -1, 1) for a scaled latent pixel x.
struct LatentRgbFactors {
  int channels = 0;
  std::vector<double> weights;   ///< F: channels x 3, row-major (rows: latent channels; R, G, B).
  std::array<double, 3> bias{};  ///< b.
};

/// The built-in factors for a preset name (sd15, sdxl, flux, hunyuan-video, wan2.1,
/// qwen-image); nullopt otherwise. For the per-channel models (PROTOCOL.md §9) they apply to the
/// normalised latent x = (raw - mean) / std, which is what their pipelines hold.
RVAE_API std::optional<LatentRgbFactors> latent_rgb_factors(std::string_view model);

/// How preview_latents draws.
struct PreviewOptions {
  int upscale = 8;      ///< Each latent pixel becomes an upscale x upscale block (1: latent size).
  int batch_index = 0;  ///< Which item of a batch.
  int frame = 0;        ///< Which latent frame of video latents [B,C,T,h,w].
  /// Image size for packed Flux latents [B,L,4C], which do not carry it.
  std::optional<int> height;
  std::optional<int> width;
};

/// An RGB image of `latents` as a diffusion pipeline holds them (scaled or normalised: what
/// `rvae decode` takes with the model's preset; [B,C,h,w], packed [B,L,4C] or video [B,C,T,h,w];
/// float16, bfloat16 or float32), each latent pixel mapped by `factors`. The reference endpoint's
/// stand-in VAE decodes exactly this way, so with upscale 8 the preview equals its decode.
/// InvalidArgument for a shape, dtype, channel count or option that does not fit.
RVAE_API Result<Image> preview_latents(const TensorView& latents, const LatentRgbFactors& factors,
                                       const PreviewOptions& options = {});

}  // namespace rvae
