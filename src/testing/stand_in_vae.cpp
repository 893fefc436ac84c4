// The reference endpoint's own model table: PROTOCOL.md §1's facts, §6's "latent preview"
// factors and §9's per-channel models, written out here as data. Deliberately not read from the
// client's PresetRegistry: a server that took its factors from the client would echo a wrong client
// value back, and every round trip would still pass.
#include "testing/stand_in_vae.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <iterator>
#include <string_view>
#include <utility>
#include <vector>

namespace rvae::reference {
namespace {

// One served model: PROTOCOL.md §1 (channels, default factors, dtype, encoder or not, time
// compression) and §6 (F and b).
struct VaeTable {
  const char* name;
  std::size_t channels;
  double scaling;  // s0
  double shift;    // t0; 0 for a model without a shift factor
  int temporal_compression;
  bool can_encode;
  DType dtype;
  const double* rows;  // channels x 3
  std::array<double, 3> bias;
  bool five_d_image = false;
  const double* mean = nullptr;  // channels values each; null for the scalar form
  const double* std = nullptr;
};

constexpr double kSd15Rows[] = {
    0.3512,  0.2297,  0.3227,   //
    0.3250,  0.4974,  0.2350,   //
    -0.2829, 0.1762,  0.2721,   //
    -0.2120, -0.2616, -0.7177,  //
};
constexpr std::array<double, 3> kSd15Bias = {0.0, 0.0, 0.0};

constexpr double kSdxlRows[] = {
    0.3651,  0.4232,  0.4341,   //
    -0.2533, -0.0042, 0.1068,   //
    0.1076,  0.1111,  -0.0362,  //
    -0.3165, -0.2492, -0.2188,  //
};
constexpr std::array<double, 3> kSdxlBias = {0.1084, -0.0175, -0.0011};

constexpr double kFluxRows[] = {
    -0.0346, 0.0244,  0.0681,   //
    0.0034,  0.0210,  0.0687,   //
    0.0275,  -0.0668, -0.0433,  //
    -0.0174, 0.0160,  0.0617,   //
    0.0859,  0.0721,  0.0329,   //
    0.0004,  0.0383,  0.0115,   //
    0.0405,  0.0861,  0.0915,   //
    -0.0236, -0.0185, -0.0259,  //
    -0.0245, 0.0250,  0.1180,   //
    0.1008,  0.0755,  -0.0421,  //
    -0.0515, 0.0201,  0.0011,   //
    0.0428,  -0.0012, -0.0036,  //
    0.0817,  0.0765,  0.0749,   //
    -0.1264, -0.0522, -0.1103,  //
    -0.0280, -0.0881, -0.0499,  //
    -0.1262, -0.0982, -0.0778,  //
};
constexpr std::array<double, 3> kFluxBias = {-0.0329, -0.0718, -0.0851};

constexpr double kHunyuanRows[] = {
    -0.0395, -0.0331, 0.0445,   //
    0.0696,  0.0795,  0.0518,   //
    0.0135,  -0.0945, -0.0282,  //
    0.0108,  -0.0250, -0.0765,  //
    -0.0209, 0.0032,  0.0224,   //
    -0.0804, -0.0254, -0.0639,  //
    -0.0991, 0.0271,  -0.0669,  //
    -0.0646, -0.0422, -0.0400,  //
    -0.0696, -0.0595, -0.0894,  //
    -0.0799, -0.0208, -0.0375,  //
    0.1166,  0.1627,  0.0962,   //
    0.1165,  0.0432,  0.0407,   //
    -0.2315, -0.1920, -0.1355,  //
    -0.0270, 0.0401,  -0.0821,  //
    -0.0616, -0.0997, -0.0727,  //
    0.0249,  -0.0469, -0.1703,  //
};
constexpr std::array<double, 3> kHunyuanBias = {0.0259, -0.0192, -0.0761};

// PROTOCOL.md §9: Wan 2.1's latent-preview F and b, shared by Qwen-Image (whose VAE derives from
// Wan's), and the per-channel statistics of both.
constexpr double kWanRows[] = {
    -0.1299, -0.1692, 0.2932,   //
    0.0671,  0.0406,  0.0442,   //
    0.3568,  0.2548,  0.1747,   //
    0.0372,  0.2344,  0.1420,   //
    0.0313,  0.0189,  -0.0328,  //
    0.0296,  -0.0956, -0.0665,  //
    -0.3477, -0.4059, -0.2925,  //
    0.0166,  0.1902,  0.1975,   //
    -0.0412, 0.0267,  -0.1364,  //
    -0.1293, 0.0740,  0.1636,   //
    0.0680,  0.3019,  0.1128,   //
    0.0032,  0.0581,  0.0639,   //
    -0.1251, 0.0927,  0.1699,   //
    0.0060,  -0.0633, 0.0005,   //
    0.3477,  0.2275,  0.2950,   //
    0.1984,  0.0913,  0.1861,   //
};
constexpr std::array<double, 3> kWanBias = {-0.1835, -0.0868, -0.3360};
constexpr double kWanMean[] = {-0.7571, -0.7089, -0.9113, 0.1075,  -0.1745, 0.9653,
                               -0.1517, 1.5508,  0.4134,  -0.0715, 0.5517,  -0.3632,
                               -0.1922, -0.9497, 0.2503,  -0.2921};
constexpr double kWanStd[] = {2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743,
                              3.2687, 2.1526, 2.8652, 1.5579, 1.6382, 1.1253, 2.8251, 1.9160};

// Columns: name, C, s0, t0, temporal compression, encoder, dtype, F, b. HunyuanVideo has no
// encode endpoint, and its T latent frames decode to 4(T-1)+1 frames.
constexpr VaeTable kTables[] = {
    {"sd15", 4, 0.18215, 0.0, 1, true, DType::kFloat16, kSd15Rows, kSd15Bias},
    {"sdxl", 4, 0.13025, 0.0, 1, true, DType::kFloat16, kSdxlRows, kSdxlBias},
    {"flux", 16, 0.3611, 0.1159, 1, true, DType::kBFloat16, kFluxRows, kFluxBias},
    {"hunyuan-video", 16, 0.476986, 0.0, 4, false, DType::kFloat16, kHunyuanRows, kHunyuanBias},
    // §9: per-channel statistics instead of s0 and t0; Qwen-Image is an image model whose VAE
    // takes 5-D latents with T = 1.
    {"wan2.1", 16, 1.0, 0.0, 4, true, DType::kBFloat16, kWanRows, kWanBias, false, kWanMean,
     kWanStd},
    {"qwen-image", 16, 1.0, 0.0, 1, true, DType::kBFloat16, kWanRows, kWanBias, true, kWanMean,
     kWanStd},
};
// The rows are reached through a pointer, so their count is checked here, against C.
static_assert(std::size(kSd15Rows) == 4 * 3 && std::size(kSdxlRows) == 4 * 3 &&
                  std::size(kFluxRows) == 16 * 3 && std::size(kHunyuanRows) == 16 * 3 &&
                  std::size(kWanRows) == 16 * 3 && std::size(kWanMean) == 16 &&
                  std::size(kWanStd) == 16,
              "F has C rows of R, G, B");

// pinv(F^T) = F (F^T F)^-1; F^T F is a 3x3 symmetric positive definite matrix for these tables.
std::vector<double> encode_map_of(const std::vector<double>& f, std::size_t channels) {
  double m[3][3] = {};
  for (std::size_t c = 0; c < channels; ++c) {
    for (std::size_t i = 0; i < 3; ++i) {
      for (std::size_t j = 0; j < 3; ++j)
        m[i][j] += f[c * 3 + i] * f[c * 3 + j];
    }
  }
  const double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
                     m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
                     m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  double inv[3][3];
  inv[0][0] = (m[1][1] * m[2][2] - m[1][2] * m[2][1]) / det;
  inv[0][1] = (m[0][2] * m[2][1] - m[0][1] * m[2][2]) / det;
  inv[0][2] = (m[0][1] * m[1][2] - m[0][2] * m[1][1]) / det;
  inv[1][0] = (m[1][2] * m[2][0] - m[1][0] * m[2][2]) / det;
  inv[1][1] = (m[0][0] * m[2][2] - m[0][2] * m[2][0]) / det;
  inv[1][2] = (m[0][2] * m[1][0] - m[0][0] * m[1][2]) / det;
  inv[2][0] = (m[1][0] * m[2][1] - m[1][1] * m[2][0]) / det;
  inv[2][1] = (m[0][1] * m[2][0] - m[0][0] * m[2][1]) / det;
  inv[2][2] = (m[0][0] * m[1][1] - m[0][1] * m[1][0]) / det;
  std::vector<double> p(channels * 3, 0.0);
  for (std::size_t c = 0; c < channels; ++c) {
    for (std::size_t j = 0; j < 3; ++j) {
      for (std::size_t i = 0; i < 3; ++i)
        p[c * 3 + j] += f[c * 3 + i] * inv[i][j];
    }
  }
  return p;
}

std::vector<StandInVae> build_models() {
  std::vector<StandInVae> models;
  for (const VaeTable& table : kTables) {
    StandInVae vae;
    vae.name = table.name;
    vae.channels = static_cast<int>(table.channels);
    vae.scaling = table.scaling;
    vae.shift = table.shift;
    vae.temporal_compression = table.temporal_compression;
    vae.can_encode = table.can_encode;
    vae.dtype = table.dtype;
    vae.f.assign(table.rows, table.rows + table.channels * 3);
    vae.bias = table.bias;
    vae.encode_map = encode_map_of(vae.f, table.channels);
    vae.five_d_image = table.five_d_image;
    if (table.mean != nullptr) {
      vae.mean.assign(table.mean, table.mean + table.channels);
      vae.std.assign(table.std, table.std + table.channels);
    }
    models.push_back(std::move(vae));
  }
  return models;
}

}  // namespace

void StandInVae::scaled_latent_to_rgb(const double* x, std::size_t stride,
                                      double* rgb) const noexcept {
  const auto c_count = static_cast<std::size_t>(channels);
  for (std::size_t k = 0; k < 3; ++k) {
    double sum = bias[k];
    for (std::size_t c = 0; c < c_count; ++c)
      sum += f[c * 3 + k] * x[c * stride];
    // std::clamp passes NaN through (every comparison with it is false).
    rgb[k] = std::isnan(sum) ? -1.0 : std::clamp(sum, -1.0, 1.0);
  }
}

void StandInVae::rgb_to_scaled_latent(const double* rgb, double* x,
                                      std::size_t stride) const noexcept {
  const double d[3] = {rgb[0] - bias[0], rgb[1] - bias[1], rgb[2] - bias[2]};
  const auto c_count = static_cast<std::size_t>(channels);
  for (std::size_t c = 0; c < c_count; ++c) {
    x[c * stride] =
        encode_map[c * 3] * d[0] + encode_map[c * 3 + 1] * d[1] + encode_map[c * 3 + 2] * d[2];
  }
}

const std::vector<StandInVae>& stand_in_vaes() {
  static const std::vector<StandInVae> models = build_models();
  return models;
}

const StandInVae* find_stand_in_vae(std::string_view name) {
  for (const StandInVae& vae : stand_in_vaes()) {
    if (vae.name == name) return &vae;
  }
  return nullptr;
}

}  // namespace rvae::reference
