// The stand-in VAE over whole tensors (PROTOCOL.md §6, §7, §9): what both wire protocols compute,
// so the Hugging Face routes and the Open Inference routes share one implementation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "rvae/tensor.hpp"
#include "testing/stand_in_vae.hpp"

namespace rvae::reference {

/// Latents as float32 [B, C, T, h, w], T = 1 for image latents (not owned).
struct LatentGrid {
  std::size_t batch = 0, channels = 0, frames = 1, height = 0, width = 0;
  const float* values = nullptr;
};

/// The Hugging Face request's own factors: raw = z / scaling + shift before decode, or
/// (raw - shift) * scaling after encode. Off: the latents are raw.
struct RequestFactors {
  bool apply = false;
  double scaling = 1.0;
  double shift = 0.0;
};

/// Output frames of `latent_frames` latent frames: 4(T - 1) + 1 for video models (§6), else T.
std::size_t output_frames(const StandInVae& vae, std::size_t latent_frames) noexcept;

/// Every latent pixel's rgb in [-1, 1], as [B, T, h, w, 3]: the request's factors undone, then
/// §6/§9's normalisation, context mode when asked (§7 per image; §7.1 over a video model's whole
/// clip), clamp(F^T x + b, -1, 1).
std::vector<float> latent_rgb(const StandInVae& vae, const LatentGrid& latents,
                              const RequestFactors& factors, bool spatial_context);

/// The decoder's float output [B, 3, F, H, W] (image models: F = 1, i.e. [B, 3, H, W]) in
/// `dtype` (a float dtype): each latent pixel fills an 8x8 block; `dst` holds the whole tensor.
void write_float_pixels(const StandInVae& vae, const std::vector<float>& rgb,
                        const LatentGrid& latents, DType dtype, std::uint8_t* dst);

/// Post-processed pixels [B, F, H, W, 3], levels round((v + 1) * 127.5) clamped to 0..255 (the
/// Hugging Face protocol's partial_postprocess=True).
void write_uint8_pixels(const StandInVae& vae, const std::vector<float>& rgb,
                        const LatentGrid& latents, std::uint8_t* dst);

/// Pixels as float32 [B, 3, F, H, W] in [-1, 1], F = 1 for an image (not owned).
struct PixelGrid {
  std::size_t batch = 0, frames = 1, height = 0, width = 0;
  const float* values = nullptr;
};

/// Latent frames an encode of `frames` frames gives: (F - 1) / 4 + 1 for video models (the
/// caller checks F = 4n + 1), else F.
std::size_t latent_frames_of(const StandInVae& vae, std::size_t frames) noexcept;

/// Encode (§6, §9): 8x8 block means (video: latent frame k from the mean of frames 4k-3 ... 4k),
/// x = pinv(F^T)(rgb - b), §7 per latent frame when asked, the raw latent, then the request's
/// factors. Writes [B, C, T, h, w] in `dtype` to `dst`.
void encode_pixels(const StandInVae& vae, const PixelGrid& pixels, const RequestFactors& factors,
                   bool spatial_context, DType dtype, std::uint8_t* dst);

}  // namespace rvae::reference
