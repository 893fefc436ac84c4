// The stand-in VAE over whole tensors. Every handler converts its input to float32 [B, C, T, h, w]
// latents or [B, 3, F, H, W] pixels first, so this file is the only place the formulas of
// PROTOCOL.md §6, §7 and §9 meet a tensor layout.
#include "testing/stand_in_compute.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "rvae/tensor.hpp"
#include "tensor/float_io.hpp"
#include "testing/context_blur.hpp"
#include "testing/stand_in_vae.hpp"

namespace rvae::reference {
namespace {

// Latent frame 0 gives frame 0; latent frame k >= 1 gives frames tc(k-1)+1 ... tc*k.
std::size_t latent_frame_of(std::size_t frame, std::size_t tc) noexcept {
  return frame == 0 ? 0 : (frame - 1) / tc + 1;
}

// rgb in [-1, 1] to a level. The comparisons are written so that NaN (which the stand-in never
// produces, but a cast of it would be undefined) becomes 0, as in the library's float path.
std::uint8_t quantise(float value) noexcept {
  const double level = std::round((static_cast<double>(value) + 1.0) * 127.5);
  if (!(level > 0.0)) return 0;
  return static_cast<std::uint8_t>(level < 255.0 ? level : 255.0);
}

}  // namespace

std::size_t output_frames(const StandInVae& vae, std::size_t latent_frames) noexcept {
  if (!vae.is_video() || latent_frames == 0) return latent_frames;
  return static_cast<std::size_t>(vae.temporal_compression) * (latent_frames - 1) + 1;
}

std::size_t latent_frames_of(const StandInVae& vae, std::size_t frames) noexcept {
  if (!vae.is_video() || frames == 0) return frames;
  return (frames - 1) / static_cast<std::size_t>(vae.temporal_compression) + 1;
}

std::vector<float> latent_rgb(const StandInVae& vae, const LatentGrid& latents,
                              const RequestFactors& factors, bool spatial_context) {
  const std::size_t channels = latents.channels;
  const std::size_t plane = latents.height * latents.width;
  const std::size_t frames = latents.frames;
  const std::size_t channel_stride = frames * plane;
  const std::size_t frame_size = channels * plane;
  std::vector<float> rgb(latents.batch * frames * plane * 3);
  // A video model's context (§7.1) sees the whole clip: the normalised latent of one batch item,
  // [T][C][h][w]. Otherwise one image at a time, [C][h][w], is all §7 needs.
  const bool whole_clip = spatial_context && vae.is_video();
  std::vector<double> x((whole_clip ? frames : 1) * frame_size);
  auto normalise_frame = [&](const float* item, std::size_t t, double* dst) {
    for (std::size_t c = 0; c < channels; ++c) {
      for (std::size_t pixel = 0; pixel < plane; ++pixel) {
        double z = item[c * channel_stride + t * plane + pixel];
        if (factors.apply) z = z / factors.scaling + factors.shift;
        dst[c * plane + pixel] = vae.normalise(z, c);
      }
    }
  };
  auto to_rgb = [&](const double* frame_x, std::size_t b, std::size_t t) {
    for (std::size_t pixel = 0; pixel < plane; ++pixel) {
      double out[3];
      vae.scaled_latent_to_rgb(frame_x + pixel, plane, out);
      float* dst = rgb.data() + ((b * frames + t) * plane + pixel) * 3;
      for (std::size_t k = 0; k < 3; ++k)
        dst[k] = static_cast<float>(out[k]);
    }
  };
  for (std::size_t b = 0; b < latents.batch; ++b) {
    const float* item = latents.values + b * channels * channel_stride;
    if (whole_clip) {
      for (std::size_t t = 0; t < frames; ++t)
        normalise_frame(item, t, x.data() + t * frame_size);
      apply_temporal_context(x.data(), frames, channels, latents.height, latents.width);
      for (std::size_t t = 0; t < frames; ++t)
        to_rgb(x.data() + t * frame_size, b, t);
      continue;
    }
    for (std::size_t t = 0; t < frames; ++t) {
      normalise_frame(item, t, x.data());
      if (spatial_context) apply_spatial_context(x.data(), channels, latents.height, latents.width);
      to_rgb(x.data(), b, t);
    }
  }
  return rgb;
}

void write_float_pixels(const StandInVae& vae, const std::vector<float>& rgb,
                        const LatentGrid& latents, DType dtype, std::uint8_t* dst) {
  const std::size_t h = latents.height * 8;
  const std::size_t w = latents.width * 8;
  const std::size_t lw = latents.width;
  const std::size_t latent_plane = latents.height * lw;
  const std::size_t frames = output_frames(vae, latents.frames);
  const auto tc = static_cast<std::size_t>(vae.temporal_compression);
  std::size_t index = 0;
  for (std::size_t b = 0; b < latents.batch; ++b) {
    for (std::size_t k = 0; k < 3; ++k) {
      for (std::size_t f = 0; f < frames; ++f) {
        const float* plane =
            rgb.data() + (b * latents.frames + latent_frame_of(f, tc)) * latent_plane * 3;
        for (std::size_t y = 0; y < h; ++y) {
          const float* row = plane + (y / 8) * lw * 3;
          for (std::size_t x = 0; x < w; ++x)
            internal::store_float(dtype, dst, index++, row[(x / 8) * 3 + k]);
        }
      }
    }
  }
}

void write_uint8_pixels(const StandInVae& vae, const std::vector<float>& rgb,
                        const LatentGrid& latents, std::uint8_t* dst) {
  const std::size_t h = latents.height * 8;
  const std::size_t w = latents.width * 8;
  const std::size_t lw = latents.width;
  const std::size_t latent_plane = latents.height * lw;
  const std::size_t frames = output_frames(vae, latents.frames);
  const auto tc = static_cast<std::size_t>(vae.temporal_compression);
  for (std::size_t b = 0; b < latents.batch; ++b) {
    for (std::size_t f = 0; f < frames; ++f) {
      const float* plane =
          rgb.data() + (b * latents.frames + latent_frame_of(f, tc)) * latent_plane * 3;
      for (std::size_t y = 0; y < h; ++y) {
        const float* row = plane + (y / 8) * lw * 3;
        for (std::size_t x = 0; x < w; ++x) {
          for (std::size_t k = 0; k < 3; ++k)
            *dst++ = quantise(row[(x / 8) * 3 + k]);
        }
      }
    }
  }
}

void encode_pixels(const StandInVae& vae, const PixelGrid& pixels, const RequestFactors& factors,
                   bool spatial_context, DType dtype, std::uint8_t* dst) {
  const std::size_t channels = static_cast<std::size_t>(vae.channels);
  const std::size_t lh = pixels.height / 8;
  const std::size_t lw = pixels.width / 8;
  const std::size_t plane = pixels.height * pixels.width;
  const std::size_t latent_plane = lh * lw;
  const std::size_t latent_frames = latent_frames_of(vae, pixels.frames);
  const auto tc = static_cast<std::size_t>(vae.temporal_compression);
  const std::size_t channel_stride = pixels.frames * plane;  // between colour planes of an item
  // One latent frame's normalised latent, [C][lh][lw], so that §7 can see the whole plane.
  std::vector<double> x(channels * latent_plane);
  for (std::size_t b = 0; b < pixels.batch; ++b) {
    const float* item = pixels.values + b * 3 * channel_stride;
    for (std::size_t t = 0; t < latent_frames; ++t) {
      // Latent frame 0 from frame 0; latent frame k from frames tc(k-1)+1 ... tc*k.
      const std::size_t first = t == 0 ? 0 : tc * (t - 1) + 1;
      const std::size_t last = t == 0 ? 0 : tc * t;
      const double count = static_cast<double>((last - first + 1) * 64);
      for (std::size_t i = 0; i < lh; ++i) {
        for (std::size_t j = 0; j < lw; ++j) {
          double rgb[3] = {0.0, 0.0, 0.0};
          for (std::size_t k = 0; k < 3; ++k) {
            for (std::size_t f = first; f <= last; ++f) {
              for (std::size_t dy = 0; dy < 8; ++dy) {
                const float* row =
                    item + k * channel_stride + f * plane + (i * 8 + dy) * pixels.width + j * 8;
                for (std::size_t dx = 0; dx < 8; ++dx)
                  rgb[k] += row[dx];
              }
            }
            rgb[k] /= count;
          }
          vae.rgb_to_scaled_latent(rgb, x.data() + i * lw + j, latent_plane);
        }
      }
      if (spatial_context) apply_spatial_context(x.data(), channels, lh, lw);
      for (std::size_t c = 0; c < channels; ++c) {
        for (std::size_t pixel = 0; pixel < latent_plane; ++pixel) {
          double z = vae.denormalise(x[c * latent_plane + pixel], c);
          if (factors.apply) z = (z - factors.shift) * factors.scaling;
          const std::size_t index = ((b * channels + c) * latent_frames + t) * latent_plane + pixel;
          internal::store_float(dtype, dst, index, static_cast<float>(z));
        }
      }
    }
  }
}

}  // namespace rvae::reference
