// PROTOCOL.md §9's per-channel models typed in again from the document (F, b, mean, std) and its
// formulas written out plainly, so the tests of wan2.1 and qwen-image on both protocols expect
// values that do not come from the endpoint's own table or code.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace rvae::testing_test::per_channel {

inline constexpr int kChannels = 16;

// §9: the Wan 2.1 latent-preview table (rows: channels; columns R, G, B) and its bias.
inline constexpr double kF[kChannels][3] = {
    {-0.1299, -0.1692, 0.2932},  {0.0671, 0.0406, 0.0442},  {0.3568, 0.2548, 0.1747},
    {0.0372, 0.2344, 0.1420},    {0.0313, 0.0189, -0.0328}, {0.0296, -0.0956, -0.0665},
    {-0.3477, -0.4059, -0.2925}, {0.0166, 0.1902, 0.1975},  {-0.0412, 0.0267, -0.1364},
    {-0.1293, 0.0740, 0.1636},   {0.0680, 0.3019, 0.1128},  {0.0032, 0.0581, 0.0639},
    {-0.1251, 0.0927, 0.1699},   {0.0060, -0.0633, 0.0005}, {0.3477, 0.2275, 0.2950},
    {0.1984, 0.0913, 0.1861}};
inline constexpr double kB[3] = {-0.1835, -0.0868, -0.3360};
// §9: latents_mean and latents_std, shared by Wan 2.1 and Qwen-Image.
inline constexpr double kMean[kChannels] = {-0.7571, -0.7089, -0.9113, 0.1075,  -0.1745, 0.9653,
                                            -0.1517, 1.5508,  0.4134,  -0.0715, 0.5517,  -0.3632,
                                            -0.1922, -0.9497, 0.2503,  -0.2921};
inline constexpr double kStd[kChannels] = {2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708,
                                           2.6052, 2.0743, 3.2687, 2.1526, 2.8652, 1.5579,
                                           1.6382, 1.1253, 2.8251, 1.9160};

/// rgb in [-1, 1] of one raw latent pixel: clamp(F^T x + b, -1, 1), x = (raw - mean) / std.
inline std::array<double, 3> decode_pixel(const std::array<double, kChannels>& raw) {
  std::array<double, 3> rgb{};
  for (int k = 0; k < 3; ++k) {
    double sum = kB[k];
    for (int c = 0; c < kChannels; ++c)
      sum += kF[c][k] * (raw[static_cast<std::size_t>(c)] - kMean[c]) / kStd[c];
    rgb[static_cast<std::size_t>(k)] = std::min(1.0, std::max(-1.0, sum));
  }
  return rgb;
}

/// The raw latent of a block-mean rgb: x = pinv(F^T)(rgb - b) = F (F^T F)^-1 (rgb - b) (solved by
/// Cramer's rule here), raw = x * std + mean.
inline std::array<double, kChannels> encode_pixel(const std::array<double, 3>& rgb) {
  double m[3][3] = {};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int c = 0; c < kChannels; ++c)
        m[i][j] += kF[c][i] * kF[c][j];
  const double d[3] = {rgb[0] - kB[0], rgb[1] - kB[1], rgb[2] - kB[2]};
  auto det3 = [](const double a[3][3]) {
    return a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) -
           a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) +
           a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
  };
  const double det = det3(m);
  double y[3];
  for (int col = 0; col < 3; ++col) {
    double a[3][3];
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j)
        a[i][j] = j == col ? d[i] : m[i][j];
    y[col] = det3(a) / det;
  }
  std::array<double, kChannels> raw{};
  for (int c = 0; c < kChannels; ++c) {
    const double x = kF[c][0] * y[0] + kF[c][1] * y[1] + kF[c][2] * y[2];
    raw[static_cast<std::size_t>(c)] = x * kStd[c] + kMean[c];
  }
  return raw;
}

/// Raw latents spread around each channel's mean, some far enough out to clamp.
inline std::vector<float> raw_latents(std::size_t count, std::size_t plane_stride, int seed) {
  std::vector<float> values(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t c = (i / plane_stride) % kChannels;
    const double phase = 0.613 * static_cast<double>(i) + 0.29 * seed;
    const double v = 1.3 * std::sin(phase) + 0.7 * std::cos(1.7 * phase);
    values[i] = static_cast<float>(kMean[c] + kStd[c] * v * (i % 23 == 5 ? 6.0 : 1.0));
  }
  return values;
}

/// §3's packing: [B, C, h, w] latents (h, w even) as [B, (h/2)(w/2), 4C]; element (c, 2i+dy,
/// 2j+dx) goes to token i*(w/2)+j, feature c*4 + dy*2 + dx.
inline std::vector<float> pack(const std::vector<float>& latents, int batch, int channels, int h,
                               int w) {
  std::vector<float> packed(latents.size());
  const int tokens_w = w / 2;
  for (int b = 0; b < batch; ++b)
    for (int c = 0; c < channels; ++c)
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          const int token = (y / 2) * tokens_w + x / 2;
          const int feature = c * 4 + (y % 2) * 2 + x % 2;
          packed[static_cast<std::size_t>((b * (h / 2) * tokens_w + token) * channels * 4 +
                                          feature)] =
              latents[static_cast<std::size_t>(((b * channels + c) * h + y) * w + x)];
        }
  return packed;
}

/// A bfloat16 value from its bits (the IEEE single's top half).
inline double from_bfloat16(const unsigned char* at) {
  std::uint32_t bits = static_cast<std::uint32_t>(at[0] | (at[1] << 8)) << 16;
  float value;
  std::memcpy(&value, &bits, 4);
  return value;
}

/// An IEEE half from its bits.
inline double from_float16(const unsigned char* at) {
  const unsigned bits = static_cast<unsigned>(at[0] | (at[1] << 8));
  const int exponent = static_cast<int>((bits >> 10) & 0x1f);
  const double mantissa = bits & 0x3ff;
  const double magnitude = exponent == 0
                               ? mantissa * std::ldexp(1.0, -24)
                               : (1.0 + mantissa / 1024.0) * std::ldexp(1.0, exponent - 15);
  return (bits & 0x8000) != 0 ? -magnitude : magnitude;
}

}  // namespace rvae::testing_test::per_channel
