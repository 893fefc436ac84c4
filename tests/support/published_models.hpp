// The models as PROTOCOL.md publishes them (§1: endpoints, channels, factors, dtype, time
// compression, the 2048-pixel cap; §6: the stand-in's F and b), typed in by hand from the
// document. Both the client's presets (tests/model) and the reference endpoint's own table
// (tests/testing) are checked against this, so neither can pass by agreeing with the other.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "rvae/tensor.hpp"

namespace rvae::published {

/// One row of PROTOCOL.md §1 with its §6 stand-in factors.
struct PublishedModel {
  std::string name;      ///< The preset key.
  std::string model_id;  ///< §1's model column, e.g. "stabilityai/sd-vae-ft-mse".
  std::string decode_endpoint;
  std::string encode_endpoint;  ///< Empty: "none" in §1.
  int latent_channels;
  double scaling_factor;
  std::optional<double> shift_factor;  ///< nullopt: "–" in §1.
  DType dtype;                         ///< §1's "typical dtype".
  int temporal_compression;            ///< 4 for HunyuanVideo, 1 otherwise.
  bool packed_latents;                 ///< §3: Flux's transformer layout.
  std::vector<double> f;               ///< §6: latent_channels x 3, rows R G B.
  std::array<double, 3> b;             ///< §6.
};

/// §1: 8x spatial compression for every model, and the service's 2048x2048 cap.
constexpr int kSpatialCompression = 8;
constexpr int kMaxImageSide = 2048;

inline const std::vector<PublishedModel>& published_models() {
  static const std::vector<PublishedModel> models = {
      {"sd15",
       "stabilityai/sd-vae-ft-mse",
       "https://q1bj3bpq6kzilnsu.us-east-1.aws.endpoints.huggingface.cloud/",
       "https://qc6479g0aac6qwy9.us-east-1.aws.endpoints.huggingface.cloud/",
       4,
       0.18215,
       std::nullopt,
       DType::kFloat16,
       1,
       false,
       {0.3512, 0.2297, 0.3227, 0.3250, 0.4974, 0.2350, -0.2829, 0.1762, 0.2721, -0.2120, -0.2616,
        -0.7177},
       {0.0, 0.0, 0.0}},
      {"sdxl",
       "madebyollin/sdxl-vae-fp16-fix",
       "https://x2dmsqunjd6k9prw.us-east-1.aws.endpoints.huggingface.cloud/",
       "https://xjqqhmyn62rog84g.us-east-1.aws.endpoints.huggingface.cloud/",
       4,
       0.13025,
       std::nullopt,
       DType::kFloat16,
       1,
       false,
       {0.3651, 0.4232, 0.4341, -0.2533, -0.0042, 0.1068, 0.1076, 0.1111, -0.0362, -0.3165, -0.2492,
        -0.2188},
       {0.1084, -0.0175, -0.0011}},
      {"flux",
       "FLUX.1-schnell",
       "https://whhx50ex1aryqvw6.us-east-1.aws.endpoints.huggingface.cloud/",
       "https://ptccx55jz97f9zgo.us-east-1.aws.endpoints.huggingface.cloud/",
       16,
       0.3611,
       0.1159,
       DType::kBFloat16,
       1,
       true,
       {-0.0346, 0.0244,  0.0681,  0.0034,  0.0210,  0.0687,  0.0275,  -0.0668, -0.0433, -0.0174,
        0.0160,  0.0617,  0.0859,  0.0721,  0.0329,  0.0004,  0.0383,  0.0115,  0.0405,  0.0861,
        0.0915,  -0.0236, -0.0185, -0.0259, -0.0245, 0.0250,  0.1180,  0.1008,  0.0755,  -0.0421,
        -0.0515, 0.0201,  0.0011,  0.0428,  -0.0012, -0.0036, 0.0817,  0.0765,  0.0749,  -0.1264,
        -0.0522, -0.1103, -0.0280, -0.0881, -0.0499, -0.1262, -0.0982, -0.0778},
       {-0.0329, -0.0718, -0.0851}},
      {"hunyuan-video",
       "HunyuanVideo",
       "https://o7ywnmrahorts457.us-east-1.aws.endpoints.huggingface.cloud/",
       "",
       16,
       0.476986,
       std::nullopt,
       DType::kFloat16,
       4,
       false,
       {-0.0395, -0.0331, 0.0445,  0.0696,  0.0795,  0.0518,  0.0135,  -0.0945, -0.0282, 0.0108,
        -0.0250, -0.0765, -0.0209, 0.0032,  0.0224,  -0.0804, -0.0254, -0.0639, -0.0991, 0.0271,
        -0.0669, -0.0646, -0.0422, -0.0400, -0.0696, -0.0595, -0.0894, -0.0799, -0.0208, -0.0375,
        0.1166,  0.1627,  0.0962,  0.1165,  0.0432,  0.0407,  -0.2315, -0.1920, -0.1355, -0.0270,
        0.0401,  -0.0821, -0.0616, -0.0997, -0.0727, 0.0249,  -0.0469, -0.1703},
       {0.0259, -0.0192, -0.0761}},
  };
  return models;
}

}  // namespace rvae::published
