// The per-channel models as PROTOCOL.md §9 publishes them (Wan 2.1 and Qwen-Image: latent
// statistics, shapes, the stand-in's F and b), typed in by hand from the document, so that the
// client's presets and preview table are checked against the text and not against themselves.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "rvae/tensor.hpp"

namespace rvae::published {

/// §9: the 16 means and stds, identical for Wan 2.1 and Qwen-Image.
inline const std::vector<double>& per_channel_mean() {
  static const std::vector<double> mean = {-0.7571, -0.7089, -0.9113, 0.1075,  -0.1745, 0.9653,
                                           -0.1517, 1.5508,  0.4134,  -0.0715, 0.5517,  -0.3632,
                                           -0.1922, -0.9497, 0.2503,  -0.2921};
  return mean;
}
inline const std::vector<double>& per_channel_std() {
  static const std::vector<double> std = {2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708,
                                          2.6052, 2.0743, 3.2687, 2.1526, 2.8652, 1.5579,
                                          1.6382, 1.1253, 2.8251, 1.9160};
  return std;
}

/// §9's stand-in F (16 x 3, rows R G B per latent channel) and b, on x = (raw - mean) / std.
inline const std::vector<double>& per_channel_f() {
  static const std::vector<double> f = {
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
      0.1984,  0.0913,  0.1861,
  };
  return f;
}
inline constexpr std::array<double, 3> kPerChannelB = {-0.1835, -0.0868, -0.3360};

/// One per-channel model of §9.
struct PublishedPerChannelModel {
  std::string name;      ///< The preset key.
  std::string model_id;  ///< A Hugging Face id §9's sources name.
  int temporal_compression;
  bool packed_latents;
  DType dtype;
};

inline const std::vector<PublishedPerChannelModel>& published_per_channel_models() {
  static const std::vector<PublishedPerChannelModel> models = {
      {"wan2.1", "Wan-AI/Wan2.1", 4, false, DType::kBFloat16},
      {"qwen-image", "Qwen/Qwen-Image", 1, true, DType::kBFloat16},
  };
  return models;
}

}  // namespace rvae::published
