// NaN, ±Inf and the largest finite float16/bfloat16/float32 values through every output type of
// decode and through encode. The stand-in maps NaN the way the library's float path does: a NaN
// rgb value becomes -1, i.e. level 0 (what rvae's float-to-uint8 conversion gives NaN), so every
// reply is defined and the same pixel whatever the output type. Before, NaN reached a
// float-to-uint8 cast (undefined behaviour) and float replies carried NaN.
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "reference_test_support.hpp"
#include "rvae/image.hpp"
#include "rvae/presets.hpp"
#include "rvae/tensor.hpp"

namespace rvae::testing_test {
namespace {

// The four special latent pixels, one per latent pixel of a 2x2 latent: NaN, +Inf, -Inf, and the
// largest finite value of the dtype.
struct SpecialInput {
  rvae::DType dtype;
  std::vector<float> values;  // what the server reads, per latent pixel
  std::string bytes;          // the body for `channels` channels of [1, C, 2, 2]
};

float largest_finite(rvae::DType dtype) {
  switch (dtype) {
    case rvae::DType::kFloat16:
      return rvae::float16_to_float32(0x7bff);  // 65504
    case rvae::DType::kBFloat16:
      return rvae::bfloat16_to_float32(0x7f7f);  // ~3.39e38
    default:
      return std::numeric_limits<float>::max();
  }
}

SpecialInput special_input(rvae::DType dtype, int channels) {
  SpecialInput in;
  in.dtype = dtype;
  in.values = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
               -std::numeric_limits<float>::infinity(), largest_finite(dtype)};
  std::vector<float> plane;  // [C, 2, 2]: every channel of latent pixel p holds values[p]
  for (int c = 0; c < channels; ++c)
    plane.insert(plane.end(), in.values.begin(), in.values.end());
  rvae::Result<rvae::Tensor> typed = rvae::convert(view_of(plane, {1, channels, 2, 2}), dtype);
  EXPECT_TRUE(typed);
  if (typed) in.bytes.assign(reinterpret_cast<const char*>(typed->data()), typed->size_bytes());
  return in;
}

// rgb channel k for a raw latent pixel whose channels all hold z: PROTOCOL.md §6 in double, with
// a NaN sum (NaN in, or +Inf and -Inf terms meeting) mapped to -1.
double expected_channel(const ModelTable& t, double z, int k) {
  double sum = t.b[k];
  for (int c = 0; c < t.channels; ++c)
    sum += t.f[static_cast<std::size_t>(c * 3 + k)] * ((z - t.t0) * t.s0);
  if (std::isnan(sum)) return -1.0;
  return std::clamp(sum, -1.0, 1.0);
}

int expected_level_of(double rgb) {
  return static_cast<int>(std::lround((rgb + 1.0) * 127.5));
}

class BadValuesTest : public EndpointTest {
 protected:
  std::string query(const std::string& output_type, bool partial, const std::string& format,
                    rvae::DType dtype) {
    return "?image_format=" + format + "&output_type=" + output_type +
           "&partial_postprocess=" + (partial ? "True" : "False") +
           "&shape=1&shape=" + std::to_string(channels_) +
           "&shape=2&shape=2&dtype=" + std::string(rvae::dtype_name(dtype));
  }
  int channels_ = 4;
};

const rvae::DType kInputDtypes[] = {rvae::DType::kFloat16, rvae::DType::kBFloat16,
                                    rvae::DType::kFloat32};

TEST_F(BadValuesTest, DecodeMapsThemAlikeInEveryOutputType) {
  for (const char* model : {"sd15", "flux"}) {
    const ModelTable& t = table(model);
    channels_ = t.channels;
    const rvae::DType vae_dtype = rvae::PresetRegistry::builtin().find(model)->dtype;
    for (rvae::DType dtype : kInputDtypes) {
      SCOPED_TRACE(std::string(model) + " " + std::string(rvae::dtype_name(dtype)));
      const SpecialInput in = special_input(dtype, t.channels);
      const std::string path = "/" + std::string(model) + "/decode/";
      // Expected levels of the 16x16 image, from the latent pixel each 8x8 block shows.
      std::vector<int> levels(16 * 16 * 3);
      std::vector<double> rgb(16 * 16 * 3);
      for (int y = 0; y < 16; ++y) {
        for (int x = 0; x < 16; ++x) {
          const double z = in.values[static_cast<std::size_t>((y / 8) * 2 + x / 8)];
          for (int k = 0; k < 3; ++k) {
            const auto at = static_cast<std::size_t>((y * 16 + x) * 3 + k);
            rgb[at] = expected_channel(t, z, k);
            levels[at] = expected_level_of(rgb[at]);
          }
        }
      }
      // NaN must come out as black, in every channel.
      EXPECT_EQ(levels[0], 0);

      auto uint8 =
          post(path + query("pt", true, "jpg", dtype), in.bytes, "tensor/binary", "tensor/binary");
      ASSERT_TRUE(uint8);
      ASSERT_EQ(uint8->status, 200) << uint8->body;
      ASSERT_EQ(uint8->body.size(), levels.size());
      for (std::size_t i = 0; i < levels.size(); ++i)
        ASSERT_EQ(static_cast<unsigned char>(uint8->body[i]), levels[i]) << "uint8 at " << i;

      auto floats =
          post(path + query("pt", false, "jpg", dtype), in.bytes, "tensor/binary", "tensor/binary");
      ASSERT_TRUE(floats);
      ASSERT_EQ(floats->status, 200) << floats->body;
      EXPECT_EQ(floats->get_header_value("dtype"), rvae::dtype_name(vae_dtype));
      rvae::Result<rvae::Tensor> reply = rvae::Tensor::from_bytes(
          {1, 3, 16, 16}, vae_dtype, rvae::Bytes(floats->body.begin(), floats->body.end()));
      ASSERT_TRUE(reply) << reply.error().what();
      const std::vector<float> values = reply->to_floats();
      for (int k = 0; k < 3; ++k) {
        for (int i = 0; i < 16 * 16; ++i) {
          const float v = values[static_cast<std::size_t>(k * 256 + i)];
          ASSERT_TRUE(std::isfinite(v)) << "float at k=" << k << " i=" << i;
          // Within half an ulp of the reply dtype near 1 (bfloat16: 2^-9).
          ASSERT_NEAR(v, rgb[static_cast<std::size_t>(i * 3 + k)], 2e-3) << "float at k=" << k;
        }
      }

      auto png =
          post(path + query("pil", false, "png", dtype), in.bytes, "tensor/binary", "image/png");
      ASSERT_TRUE(png);
      ASSERT_EQ(png->status, 200) << png->body;
      rvae::Result<rvae::Image> image = rvae::decode_image(
          reinterpret_cast<const std::uint8_t*>(png->body.data()), png->body.size());
      ASSERT_TRUE(image) << image.error().what();
      ASSERT_EQ(image->pixels.size(), levels.size());
      for (std::size_t i = 0; i < levels.size(); ++i)
        ASSERT_EQ(image->pixels[i], levels[i]) << "png at " << i;

      auto jpeg =
          post(path + query("pil", false, "jpg", dtype), in.bytes, "tensor/binary", "image/jpeg");
      ASSERT_TRUE(jpeg);
      ASSERT_EQ(jpeg->status, 200) << jpeg->body;
      rvae::Result<rvae::Image> lossy = rvae::decode_image(
          reinterpret_cast<const std::uint8_t*>(jpeg->body.data()), jpeg->body.size());
      ASSERT_TRUE(lossy) << lossy.error().what();
      ASSERT_EQ(lossy->pixels.size(), levels.size());
      // JPEG is lossy: the NaN block's centre stays near black.
      const auto centre = static_cast<std::size_t>((3 * 16 + 3) * 3);
      EXPECT_LE(lossy->pixels[centre], 24) << "jpeg NaN block";
    }
  }
}

TEST_F(BadValuesTest, VideoDecodeMapsThemToo) {
  const ModelTable& t = table("hunyuan-video");
  for (rvae::DType dtype : kInputDtypes) {
    SCOPED_TRACE(rvae::dtype_name(dtype));
    const SpecialInput in = special_input(dtype, t.channels);  // [1, 16, 2, 2] = [1, 16, 1, 2, 2]
    const std::string q =
        "?output_type=pt&partial_postprocess=True&shape=1&shape=16&shape=1&"
        "shape=2&shape=2&dtype=" +
        std::string(rvae::dtype_name(dtype));
    auto res = post("/hunyuan-video/decode/" + q, in.bytes, "tensor/binary", "tensor/binary");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    ASSERT_EQ(res->body.size(), 16u * 16 * 3);
    for (int k = 0; k < 3; ++k)  // the NaN block
      EXPECT_EQ(static_cast<unsigned char>(res->body[static_cast<std::size_t>(k)]), 0);
    auto floats = post("/hunyuan-video/decode/?output_type=pt&partial_postprocess=False" +
                           q.substr(q.find("&shape")),
                       in.bytes, "tensor/binary", "tensor/binary");
    ASSERT_TRUE(floats);
    ASSERT_EQ(floats->status, 200) << floats->body;
    rvae::Result<rvae::Tensor> reply =
        rvae::Tensor::from_bytes({1, 3, 1, 16, 16}, rvae::DType::kFloat16,
                                 rvae::Bytes(floats->body.begin(), floats->body.end()));
    ASSERT_TRUE(reply) << reply.error().what();
    for (float v : reply->to_floats())
      ASSERT_TRUE(std::isfinite(v));
#if defined(RVAE_HAVE_FFMPEG) && RVAE_HAVE_FFMPEG
    auto mp4 = post("/hunyuan-video/decode/?output_type=mp4" + q.substr(q.find("&shape")), in.bytes,
                    "tensor/binary", "text/plain");
    ASSERT_TRUE(mp4);
    ASSERT_EQ(mp4->status, 200) << mp4->body;
    ASSERT_GT(mp4->body.size(), 8u);
    EXPECT_EQ(mp4->body.substr(4, 4), "ftyp");
#endif
  }
}

TEST_F(BadValuesTest, EncodeClampsPixelsSoEveryLatentIsFinite) {
  // Pixels [1, 3, 16, 16]: each 8x8 block holds one special value (NaN, +Inf, -Inf, largest
  // finite). The stand-in reads pixels as [-1, 1] with NaN as -1, so the reply must equal the
  // encode of those mapped pixels, and be finite.
  for (rvae::DType dtype : kInputDtypes) {
    SCOPED_TRACE(rvae::dtype_name(dtype));
    const float specials[4] = {std::numeric_limits<float>::quiet_NaN(),
                               std::numeric_limits<float>::infinity(),
                               -std::numeric_limits<float>::infinity(), largest_finite(dtype)};
    const float mapped[4] = {-1.0f, 1.0f, -1.0f, 1.0f};
    std::vector<float> bad(3 * 16 * 16);
    std::vector<float> good(3 * 16 * 16);
    for (int k = 0; k < 3; ++k) {
      for (int y = 0; y < 16; ++y) {
        for (int x = 0; x < 16; ++x) {
          const int block = (y / 8) * 2 + x / 8;
          const auto at = static_cast<std::size_t>((k * 16 + y) * 16 + x);
          bad[at] = specials[block];
          good[at] = mapped[block];
        }
      }
    }
    auto body_of = [&](const std::vector<float>& values) {
      rvae::Result<rvae::Tensor> typed = rvae::convert(view_of(values, {1, 3, 16, 16}), dtype);
      EXPECT_TRUE(typed);
      return typed ? std::string(reinterpret_cast<const char*>(typed->data()), typed->size_bytes())
                   : std::string();
    };
    const std::string q =
        "?shape=1&shape=3&shape=16&shape=16&dtype=" + std::string(rvae::dtype_name(dtype));
    for (const char* model : {"sd15", "flux"}) {
      SCOPED_TRACE(model);
      const std::string path = "/" + std::string(model) + "/encode/" + q;
      auto from_bad = post(path, body_of(bad), "tensor/binary", "tensor/binary");
      auto from_good = post(path, body_of(good), "tensor/binary", "tensor/binary");
      ASSERT_TRUE(from_bad && from_good);
      ASSERT_EQ(from_bad->status, 200) << from_bad->body;
      ASSERT_EQ(from_good->status, 200) << from_good->body;
      EXPECT_EQ(from_bad->body, from_good->body);
      const rvae::DType vae_dtype = rvae::PresetRegistry::builtin().find(model)->dtype;
      rvae::Result<rvae::Tensor> latents =
          rvae::Tensor::from_bytes({1, table(model).channels, 2, 2}, vae_dtype,
                                   rvae::Bytes(from_bad->body.begin(), from_bad->body.end()));
      ASSERT_TRUE(latents) << latents.error().what();
      for (float v : latents->to_floats())
        ASSERT_TRUE(std::isfinite(v));
    }
  }
}

}  // namespace
}  // namespace rvae::testing_test
