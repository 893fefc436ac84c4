// Shared pieces of the tiling tests: two reference endpoints in context mode (PROTOCOL.md §7),
// one with a small cap that forces tiling and one with the cap lifted for the whole-image
// reference; smooth latents; and the error measures the tolerances are stated in.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rvae/client.hpp"
#include "rvae/image.hpp"
#include "rvae/options.hpp"
#include "rvae/tensor.hpp"
#include "rvae/testing/reference_endpoint.hpp"
#include "rvae/tiled.hpp"

namespace rvae::tiling_test {

/// The cap of the "service" in these tests: small, so that tiled images stay small.
inline constexpr int kTestCap = 512;

/// Latents that vary smoothly over the image (a slow gradient plus long waves per channel), so
/// that every tile's mean differs: i.i.d. noise would give every tile the same mean and hide
/// colour drift. Amplitudes keep the decoded colours mostly inside [-1, 1] (little clamping).
/// Values are raw latents for a preset with scaling `scale` and shift `shift`.
inline std::vector<float> smooth_latents(std::int64_t channels, std::int64_t frames, int h, int w,
                                         double scale, double shift, int seed = 1) {
  // The 4-channel models' colour matrices are ~8x larger than the 16-channel ones'.
  const double amplitude = channels <= 4 ? 0.15 : 1.0;
  std::vector<float> v(static_cast<std::size_t>(channels * frames * h * w));
  std::size_t i = 0;
  for (std::int64_t c = 0; c < channels; ++c) {
    for (std::int64_t t = 0; t < frames; ++t) {
      for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
          const double u = static_cast<double>(x) / w, s = static_cast<double>(y) / h;
          const double phase =
              0.7 * static_cast<double>(c) + 0.3 * seed + 0.2 * static_cast<double>(t);
          const double scaled = 0.9 * (u - 0.5) * std::cos(phase) +
                                0.8 * (s - 0.5) * std::sin(phase) +
                                0.5 * std::sin(6.28 * (1.3 * u + 0.7 * s) + phase) +
                                0.3 * std::cos(6.28 * 2.1 * s - phase);
          v[i++] = static_cast<float>(amplitude * scaled / scale + shift);
        }
      }
    }
  }
  return v;
}

/// The two endpoints of a tiling test.
class ContextServers {
 public:
  ContextServers() {
    reference::ReferenceEndpointOptions capped;
    capped.spatial_context = true;
    capped.max_image_side = kTestCap;
    capped_ = std::make_unique<reference::ReferenceEndpoint>(capped);
    reference::ReferenceEndpointOptions lifted;
    lifted.spatial_context = true;
    lifted.max_image_side = 8192;
    lifted_ = std::make_unique<reference::ReferenceEndpoint>(lifted);
  }
  Result<void> start() {
    Result<void> a = capped_->start();
    if (!a) return a;
    return lifted_->start();
  }
  reference::ReferenceEndpoint& capped() { return *capped_; }
  reference::ReferenceEndpoint& lifted() { return *lifted_; }

 private:
  std::unique_ptr<reference::ReferenceEndpoint> capped_;
  std::unique_ptr<reference::ReferenceEndpoint> lifted_;
};

/// PSNR (dB, peak 255) and the largest difference (8-bit levels) of two equal-sized images.
struct ImageError {
  double psnr = 0;
  int max_levels = 0;
};

inline ImageError compare(const Image& a, const Image& b) {
  EXPECT_EQ(a.width, b.width);
  EXPECT_EQ(a.height, b.height);
  EXPECT_EQ(a.pixels.size(), b.pixels.size());
  ImageError e;
  double sum = 0;
  const std::size_t n = std::min(a.pixels.size(), b.pixels.size());
  for (std::size_t i = 0; i < n; ++i) {
    const int d = static_cast<int>(a.pixels[i]) - static_cast<int>(b.pixels[i]);
    sum += static_cast<double>(d) * d;
    e.max_levels = std::max(e.max_levels, std::abs(d));
  }
  const double mse = n == 0 ? 0 : sum / static_cast<double>(n);
  e.psnr = mse == 0 ? 200.0 : 10.0 * std::log10(255.0 * 255.0 / mse);
  return e;
}

/// Every image of two decode outputs compared; the worst PSNR and largest error.
inline ImageError compare(const DecodeOutput& a, const DecodeOutput& b) {
  EXPECT_EQ(a.images.size(), b.images.size());
  ImageError worst{200.0, 0};
  for (std::size_t i = 0; i < std::min(a.images.size(), b.images.size()); ++i) {
    const ImageError e = compare(a.images[i], b.images[i]);
    worst.psnr = std::min(worst.psnr, e.psnr);
    worst.max_levels = std::max(worst.max_levels, e.max_levels);
  }
  return worst;
}

/// Decode options of the tests: uint8 pixels, the given factors, tiling for the test cap.
inline DecodeOptions test_decode_options(double scale, std::optional<double> shift) {
  DecodeOptions options;
  options.output_type = OutputType::kUInt8;
  options.scaling_factor = scale;
  options.shift_factor = shift;
  options.tiling.max_image_side = kTestCap;
  return options;
}

/// The tiling that the issue calls naive: abutting tiles, no colour treatment.
inline TilingOptions naive_tiling(TilingOptions tiling) {
  tiling.overlap = 0;
  tiling.colour_reference = false;
  return tiling;
}

}  // namespace rvae::tiling_test
