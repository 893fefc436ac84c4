// The latent preview: the factor table (PROTOCOL.md §6, from public latent-preview tables) and
// the per-pixel map.
#include "rvae/preview.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/try.hpp"
#include "rvae/error.hpp"
#include "rvae/image.hpp"
#include "rvae/tensor.hpp"

namespace rvae {
namespace {

struct Table {
  std::string_view name;
  int channels;
  std::array<double, 3> bias;
  std::vector<double> weights;
};

const std::vector<Table>& tables() {
  static const std::vector<double> kWan21Weights = {
      -0.1299, -0.1692, 0.2932, 0.0671, 0.0406,  0.0442, 0.3568,  0.2548,  0.1747,  0.0372,
      0.2344,  0.1420,  0.0313, 0.0189, -0.0328, 0.0296, -0.0956, -0.0665, -0.3477, -0.4059,
      -0.2925, 0.0166,  0.1902, 0.1975, -0.0412, 0.0267, -0.1364, -0.1293, 0.0740,  0.1636,
      0.0680,  0.3019,  0.1128, 0.0032, 0.0581,  0.0639, -0.1251, 0.0927,  0.1699,  0.0060,
      -0.0633, 0.0005,  0.3477, 0.2275, 0.2950,  0.1984, 0.0913,  0.1861};
  static const std::vector<Table> kTables = {
      {"sd15",
       4,
       {0, 0, 0},
       {0.3512, 0.2297, 0.3227, 0.3250, 0.4974, 0.2350, -0.2829, 0.1762, 0.2721, -0.2120, -0.2616,
        -0.7177}},
      {"sdxl",
       4,
       {0.1084, -0.0175, -0.0011},
       {0.3651, 0.4232, 0.4341, -0.2533, -0.0042, 0.1068, 0.1076, 0.1111, -0.0362, -0.3165, -0.2492,
        -0.2188}},
      {"flux",
       16,
       {-0.0329, -0.0718, -0.0851},
       {-0.0346, 0.0244,  0.0681,  0.0034,  0.0210,  0.0687,  0.0275,  -0.0668, -0.0433, -0.0174,
        0.0160,  0.0617,  0.0859,  0.0721,  0.0329,  0.0004,  0.0383,  0.0115,  0.0405,  0.0861,
        0.0915,  -0.0236, -0.0185, -0.0259, -0.0245, 0.0250,  0.1180,  0.1008,  0.0755,  -0.0421,
        -0.0515, 0.0201,  0.0011,  0.0428,  -0.0012, -0.0036, 0.0817,  0.0765,  0.0749,  -0.1264,
        -0.0522, -0.1103, -0.0280, -0.0881, -0.0499, -0.1262, -0.0982, -0.0778}},
      {"hunyuan-video",
       16,
       {0.0259, -0.0192, -0.0761},
       {-0.0395, -0.0331, 0.0445,  0.0696,  0.0795,  0.0518,  0.0135,  -0.0945, -0.0282, 0.0108,
        -0.0250, -0.0765, -0.0209, 0.0032,  0.0224,  -0.0804, -0.0254, -0.0639, -0.0991, 0.0271,
        -0.0669, -0.0646, -0.0422, -0.0400, -0.0696, -0.0595, -0.0894, -0.0799, -0.0208, -0.0375,
        0.1166,  0.1627,  0.0962,  0.1165,  0.0432,  0.0407,  -0.2315, -0.1920, -0.1355, -0.0270,
        0.0401,  -0.0821, -0.0616, -0.0997, -0.0727, 0.0249,  -0.0469, -0.1703}},
      // PROTOCOL.md §9: on the normalised latent x = (raw - mean) / std, which is what these
      // pipelines hold, so the same map as the others. Qwen-Image's VAE derives from Wan 2.1's.
      {"wan2.1", 16, {-0.1835, -0.0868, -0.3360}, kWan21Weights},
      {"qwen-image", 16, {-0.1835, -0.0868, -0.3360}, kWan21Weights},
  };
  return kTables;
}

Error invalid(std::string message) {
  return Error(ErrorCode::kInvalidArgument, std::move(message));
}

// The same quantisation as the reference endpoint's uint8 output: [-1, 1] -> 0..255.
std::uint8_t quantise(double value) {
  const double level = std::round((value + 1.0) * 127.5);
  return static_cast<std::uint8_t>(std::clamp(level, 0.0, 255.0));
}

}  // namespace

std::optional<LatentRgbFactors> latent_rgb_factors(std::string_view model) {
  for (const Table& table : tables()) {
    if (table.name == model) return LatentRgbFactors{table.channels, table.weights, table.bias};
  }
  return std::nullopt;
}

Result<Image> preview_latents(const TensorView& latents, const LatentRgbFactors& factors,
                              const PreviewOptions& options) {
  if (factors.channels <= 0 ||
      factors.weights.size() != static_cast<std::size_t>(factors.channels) * 3) {
    return invalid("latent preview factors need channels x 3 weights");
  }
  RVAE_TRY(latents.validate());
  if (options.upscale < 1 || options.upscale > 64) {
    return invalid("preview upscale must be 1 to 64, got " + std::to_string(options.upscale));
  }
  Tensor unpacked;
  TensorView view = latents;
  if (latents.shape.size() == 3) {
    if (!options.height || !options.width) {
      return invalid("packed latents " + shape_to_string(latents.shape) +
                     " need the image height and width");
    }
    RVAE_ASSIGN_OR_RETURN(unpacked, unpack_latents(latents, *options.height, *options.width));
    view = unpacked.view();
  }
  const Shape& s = view.shape;
  if (s.size() != 4 && s.size() != 5) {
    return invalid("latents " + shape_to_string(s) +
                   " must be [B,C,h,w], packed [B,L,4C] or video [B,C,T,h,w]");
  }
  const bool video = s.size() == 5;
  const std::int64_t batch = s[0];
  const std::int64_t channels = s[1];
  const std::int64_t frames = video ? s[2] : 1;
  const std::int64_t height = s[s.size() - 2];
  const std::int64_t width = s[s.size() - 1];
  if (channels != factors.channels) {
    return invalid("latents " + shape_to_string(s) + " have " + std::to_string(channels) +
                   " channels; these preview factors need " + std::to_string(factors.channels));
  }
  if (options.batch_index < 0 || options.batch_index >= batch) {
    return invalid("batch item " + std::to_string(options.batch_index) + " is not in " +
                   shape_to_string(s));
  }
  if (options.frame < 0 || options.frame >= frames) {
    return invalid("frame " + std::to_string(options.frame) + " is not in " + shape_to_string(s));
  }
  const std::int64_t up = options.upscale;
  if (height < 1 || width < 1 || height * up > 65535 || width * up > 65535) {
    return invalid("latents " + shape_to_string(s) + " are too large or empty for a preview");
  }
  Tensor as_float;
  if (view.dtype != DType::kFloat32) {
    RVAE_ASSIGN_OR_RETURN(as_float, convert(view, DType::kFloat32));
    view = as_float.view();
  }
  const float* z = static_cast<const float*>(view.data);
  const std::size_t plane = static_cast<std::size_t>(height * width);
  // Element (b, c, t, y, x) of [B,C,T,h,w] (T = 1 for image latents).
  const std::size_t base = static_cast<std::size_t>(options.batch_index) *
                               static_cast<std::size_t>(channels * frames) * plane +
                           static_cast<std::size_t>(options.frame) * plane;
  const std::size_t channel_stride = static_cast<std::size_t>(frames) * plane;

  const int out_width = static_cast<int>(width * up);
  const int out_height = static_cast<int>(height * up);
  Image image{
      out_width, out_height, 3,
      Bytes(static_cast<std::size_t>(out_width) * static_cast<std::size_t>(out_height) * 3)};
  for (std::int64_t y = 0; y < height; ++y) {
    for (std::int64_t x = 0; x < width; ++x) {
      const std::size_t pixel = static_cast<std::size_t>(y * width + x);
      double rgb[3] = {factors.bias[0], factors.bias[1], factors.bias[2]};
      for (std::int64_t c = 0; c < channels; ++c) {
        const double scaled =
            static_cast<double>(z[base + static_cast<std::size_t>(c) * channel_stride + pixel]);
        for (int k = 0; k < 3; ++k)
          rgb[k] += factors.weights[static_cast<std::size_t>(c * 3 + k)] * scaled;
      }
      std::uint8_t levels[3];
      for (int k = 0; k < 3; ++k)
        levels[k] = quantise(std::clamp(rgb[k], -1.0, 1.0));
      for (std::int64_t dy = 0; dy < up; ++dy) {
        std::uint8_t* row = &image.pixels[(static_cast<std::size_t>(y * up + dy) *
                                               static_cast<std::size_t>(out_width) +
                                           static_cast<std::size_t>(x * up)) *
                                          3];
        for (std::int64_t dx = 0; dx < up; ++dx) {
          row[dx * 3 + 0] = levels[0];
          row[dx * 3 + 1] = levels[1];
          row[dx * 3 + 2] = levels[2];
        }
      }
    }
  }
  return image;
}

}  // namespace rvae
