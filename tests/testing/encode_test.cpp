// Encode through HTTP: latents against the formula of PROTOCOL.md §6, and the round trip
// decode(encode(img)) against the image's 8x8 block means.
#include <gtest/gtest.h>
#include <httplib.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "reference_test_support.hpp"
#include "rvae/client.hpp"
#include "rvae/image.hpp"
#include "rvae/presets.hpp"
#include "rvae/tensor.hpp"
#include "testing/inference.hpp"
#include "testing/stand_in_vae.hpp"

namespace rvae::testing_test {
namespace {

rvae::Image astronaut() {
  rvae::Result<rvae::Image> image =
      rvae::read_image(std::string(RVAE_TEST_DATA_DIR) + "/astronaut.png");
  EXPECT_TRUE(image) << image.error().what();
  return image ? rvae::to_rgb(*image) : rvae::Image{};
}

// Mean of the 8x8 block (i, j), channel k, in levels 0..255.
double block_mean(const rvae::Image& image, int i, int j, int k) {
  double sum = 0.0;
  for (int dy = 0; dy < 8; ++dy) {
    for (int dx = 0; dx < 8; ++dx) {
      const std::size_t at =
          static_cast<std::size_t>(((i * 8 + dy) * image.width + j * 8 + dx) * 3 + k);
      sum += image.pixels[at];
    }
  }
  return sum / 64.0;
}

// Solves the 3x3 system a y = r by Gaussian elimination with partial pivoting.
std::vector<double> solve3(std::vector<std::vector<double>> a, std::vector<double> r) {
  for (std::size_t col = 0; col < 3; ++col) {
    std::size_t pivot = col;
    for (std::size_t row = col + 1; row < 3; ++row) {
      if (std::fabs(a[row][col]) > std::fabs(a[pivot][col])) pivot = row;
    }
    std::swap(a[col], a[pivot]);
    std::swap(r[col], r[pivot]);
    for (std::size_t row = col + 1; row < 3; ++row) {
      const double m = a[row][col] / a[col][col];
      for (std::size_t k = col; k < 3; ++k)
        a[row][k] -= m * a[col][k];
      r[row] -= m * r[col];
    }
  }
  std::vector<double> y(3);
  for (std::size_t i = 3; i-- > 0;) {
    double sum = r[i];
    for (std::size_t k = i + 1; k < 3; ++k)
      sum -= a[i][k] * y[k];
    y[i] = sum / a[i][i];
  }
  return y;
}

// The minimum-norm scaled latent for a block colour: x = F y with (F^T F) y = rgb - b.
std::vector<double> expected_scaled_latent(const ModelTable& t, const double rgb[3]) {
  std::vector<std::vector<double>> gram(3, std::vector<double>(3, 0.0));
  for (int c = 0; c < t.channels; ++c) {
    for (std::size_t i = 0; i < 3; ++i) {
      for (std::size_t j = 0; j < 3; ++j) {
        gram[i][j] +=
            t.f[static_cast<std::size_t>(c) * 3 + i] * t.f[static_cast<std::size_t>(c) * 3 + j];
      }
    }
  }
  const std::vector<double> y = solve3(gram, {rgb[0] - t.b[0], rgb[1] - t.b[1], rgb[2] - t.b[2]});
  std::vector<double> x(static_cast<std::size_t>(t.channels));
  for (std::size_t c = 0; c < x.size(); ++c) {
    for (std::size_t i = 0; i < 3; ++i)
      x[c] += t.f[c * 3 + i] * y[i];
  }
  return x;
}

class EncodeTest : public EndpointTest {
 protected:
  // POSTs with exactly these headers (an empty value leaves the header out): httplib would send
  // `Content-Type: text/plain` where the reference client sends none.
  RawReply send(const std::string& path, const std::string& body, const std::string& content_type,
                const std::string& accept) {
    std::vector<std::string> lines;
    if (!content_type.empty()) lines.push_back("Content-Type: " + content_type);
    if (!accept.empty()) lines.push_back("Accept: " + accept);
    return raw_post(endpoint_->port(), path, body, lines);
  }
};

TEST_F(EncodeTest, LatentsMatchFormulaWithAndWithoutFactors) {
  const rvae::Image image = astronaut();
  ASSERT_EQ(image.width, 512);
  rvae::Client client;
  for (const char* model : {"sd15", "sdxl", "flux"}) {
    SCOPED_TRACE(model);
    const ModelTable& t = table(model);
    const std::string url = endpoint_->url("/" + std::string(model) + "/encode/");
    rvae::Result<rvae::Tensor> raw = latents_only(client.encode(url, image));  // no factors: raw z
    ASSERT_TRUE(raw) << raw.error().what();
    ASSERT_EQ(raw->shape(), (rvae::Shape{1, t.channels, 64, 64}));
    // The service encodes in the VAE's dtype (PROTOCOL.md §3, last table).
    ASSERT_EQ(raw->dtype(), rvae::PresetRegistry::builtin().find(model)->dtype);
    rvae::EncodeOptions factors;
    factors.scaling_factor = t.s0;
    if (t.t0 != 0.0) factors.shift_factor = t.t0;
    rvae::Result<rvae::Tensor> scaled = latents_only(client.encode(url, image, factors));
    ASSERT_TRUE(scaled) << scaled.error().what();
    const std::vector<float> z = raw->to_floats();
    const std::vector<float> x = scaled->to_floats();
    // Half an ulp, relative, of the reply dtype (float16: 2^-11, bfloat16: 2^-8).
    const double rounding = raw->dtype() == rvae::DType::kBFloat16 ? 1.0 / 256 : 1.0 / 2048;
    for (int i : {0, 17, 63}) {
      for (int j : {0, 40, 63}) {
        const double rgb[3] = {block_mean(image, i, j, 0) / 127.5 - 1.0,
                               block_mean(image, i, j, 1) / 127.5 - 1.0,
                               block_mean(image, i, j, 2) / 127.5 - 1.0};
        const std::vector<double> expected = expected_scaled_latent(t, rgb);
        for (int c = 0; c < t.channels; ++c) {
          const std::size_t at = static_cast<std::size_t>((c * 64 + i) * 64 + j);
          const double ex = expected[static_cast<std::size_t>(c)];
          // With the model's own factors the reply is the scaled latent x...
          EXPECT_NEAR(x[at], ex, 1e-5 + rounding * std::fabs(ex));
          // ...and without factors it is the raw latent z = x / s0 + t0.
          EXPECT_NEAR(z[at], ex / t.s0 + t.t0, 1e-5 + rounding * std::fabs(ex / t.s0 + t.t0));
        }
      }
    }
  }
}

// Largest |decoded level - block mean| over the image, for latents sent in `dtype`.
double round_trip_error(rvae::Client& client, const rvae::reference::ReferenceEndpoint& endpoint,
                        const rvae::Image& image, const char* model, rvae::DType dtype) {
  const rvae::PresetRegistry presets = rvae::PresetRegistry::builtin();
  const rvae::ModelPreset* preset = presets.find(model);
  if (preset == nullptr) return 1e9;
  const std::string base = "/" + std::string(model);
  rvae::Result<rvae::Tensor> latents =
      latents_only(client.encode(endpoint.url(base + "/encode/"), image, preset->encode_options()));
  EXPECT_TRUE(latents) << latents.error().what();
  if (!latents) return 1e9;
  rvae::Result<rvae::Tensor> typed = rvae::convert(latents->view(), dtype);
  if (!typed) return 1e9;
  rvae::DecodeOptions options = preset->decode_options();
  options.output_type = rvae::OutputType::kUInt8;
  rvae::Result<rvae::DecodeOutput> out =
      client.decode(endpoint.url(base + "/decode/"), typed->view(), options);
  EXPECT_TRUE(out) << out.error().what();
  if (!out || out->images.size() != 1) return 1e9;
  const rvae::Image& decoded = out->images[0];
  double worst = 0.0;
  for (int i = 0; i < image.height / 8; ++i) {
    for (int j = 0; j < image.width / 8; ++j) {
      for (int k = 0; k < 3; ++k) {
        const double mean = block_mean(image, i, j, k);
        for (int dy = 0; dy < 8; ++dy) {
          for (int dx = 0; dx < 8; ++dx) {
            const std::size_t at =
                static_cast<std::size_t>(((i * 8 + dy) * decoded.width + j * 8 + dx) * 3 + k);
            worst = std::max(worst, std::fabs(decoded.pixels[at] - mean));
          }
        }
      }
    }
  }
  return worst;
}

TEST_F(EncodeTest, RoundTripGivesBlockMeans) {
  const rvae::Image image = astronaut();
  rvae::Client client;
  for (const char* model : {"sd15", "sdxl", "flux"}) {
    SCOPED_TRACE(model);
    // The latents come back in the VAE's dtype (float16 for sd15/sdxl, bfloat16 for flux), so
    // their rounding adds to the final rounding to a level (0.5); sending them back as float32
    // adds nothing, as float16 nothing more for a float16 VAE. Measured on this image: float16
    // VAEs <= 0.55, bfloat16 <= 0.85 levels.
    const bool bf16_vae =
        rvae::PresetRegistry::builtin().find(model)->dtype == rvae::DType::kBFloat16;
    const double vae_bound = bf16_vae ? 1.5 : 1.0;
    const double f32 = round_trip_error(client, *endpoint_, image, model, rvae::DType::kFloat32);
    EXPECT_LE(f32, vae_bound) << "float32 max error " << f32;
    const double f16 = round_trip_error(client, *endpoint_, image, model, rvae::DType::kFloat16);
    EXPECT_LE(f16, vae_bound) << "float16 max error " << f16;
    const double bf16 = round_trip_error(client, *endpoint_, image, model, rvae::DType::kBFloat16);
    EXPECT_LE(bf16, 1.5) << "bfloat16 max error " << bf16;
    std::printf(
        "[ measured ] %s round trip max |level - block mean|: float32 %.4f, float16 "
        "%.4f, bfloat16 %.4f\n",
        model, f32, f16, bf16);
  }
}

TEST_F(EncodeTest, TensorInputMatchesImageInput) {
  const rvae::Image full = astronaut();
  // A 16x24 crop keeps the test small.
  rvae::Image crop;
  crop.width = 24;
  crop.height = 16;
  crop.channels = 3;
  for (int y = 0; y < 16; ++y) {
    for (int x = 0; x < 24; ++x) {
      for (int k = 0; k < 3; ++k) {
        crop.pixels.push_back(
            full.pixels[static_cast<std::size_t>(((200 + y) * 512 + 300 + x) * 3 + k)]);
      }
    }
  }
  // The same pixels as a [2, 3, 16, 24] tensor in [-1, 1] (batch item 1 is the negative).
  std::vector<float> pixels(2 * 3 * 16 * 24);
  for (int b = 0; b < 2; ++b) {
    for (int k = 0; k < 3; ++k) {
      for (int y = 0; y < 16; ++y) {
        for (int x = 0; x < 24; ++x) {
          const double v =
              crop.pixels[static_cast<std::size_t>((y * 24 + x) * 3 + k)] / 127.5 - 1.0;
          pixels[static_cast<std::size_t>(((b * 3 + k) * 16 + y) * 24 + x)] =
              static_cast<float>(b == 0 ? v : -v);
        }
      }
    }
  }
  rvae::Client client;
  const std::string url = endpoint_->url("/sdxl/encode/");
  rvae::Result<rvae::Tensor> from_image = latents_only(client.encode(url, crop));
  ASSERT_TRUE(from_image) << from_image.error().what();
  rvae::Result<rvae::Tensor> from_tensor =
      latents_only(client.encode(url, view_of(pixels, {2, 3, 16, 24})));
  ASSERT_TRUE(from_tensor) << from_tensor.error().what();
  ASSERT_EQ(from_tensor->shape(), (rvae::Shape{2, 4, 2, 3}));
  const std::vector<float> a = from_image->to_floats();
  const std::vector<float> b = from_tensor->to_floats();
  ASSERT_EQ(a.size(), 24u);
  for (std::size_t i = 0; i < a.size(); ++i)
    EXPECT_NEAR(b[i], a[i], 1e-4);
  // Item 1 (negated pixels) must give a different latent.
  EXPECT_GT(std::fabs(b[24] - a[0]), 1e-3);

  // float16 pixels, and uint8 pixels (0..255, equal to the image), give a reply in the VAE's
  // dtype (float16 for sdxl) too.
  rvae::Result<rvae::Tensor> half =
      rvae::convert(view_of(pixels, {2, 3, 16, 24}), rvae::DType::kFloat16);
  ASSERT_TRUE(half);
  rvae::Result<rvae::Tensor> from_half = latents_only(client.encode(url, half->view()));
  ASSERT_TRUE(from_half) << from_half.error().what();
  EXPECT_EQ(from_half->dtype(), rvae::DType::kFloat16);
  std::vector<std::uint8_t> levels(3 * 16 * 24);
  for (int k = 0; k < 3; ++k) {
    for (int i = 0; i < 16 * 24; ++i) {
      levels[static_cast<std::size_t>(k * 16 * 24 + i)] =
          crop.pixels[static_cast<std::size_t>(i * 3 + k)];
    }
  }
  auto res = post("/sdxl/encode/?shape=1&shape=3&shape=16&shape=24&dtype=uint8",
                  std::string(levels.begin(), levels.end()), "tensor/binary", "");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("shape"), "[1,4,2,3]");
  EXPECT_EQ(res->get_header_value("dtype"), "float16");
  ASSERT_EQ(res->body.size(), 24u * 2);
  rvae::Result<rvae::Tensor> from_levels = rvae::Tensor::from_bytes(
      {1, 4, 2, 3}, rvae::DType::kFloat16, rvae::Bytes(res->body.begin(), res->body.end()));
  ASSERT_TRUE(from_levels);
  const std::vector<float> level_values = from_levels->to_floats();
  for (std::size_t i = 0; i < 24; ++i)
    EXPECT_EQ(level_values[i], a[i]) << i;
}

TEST_F(EncodeTest, ImageContentTypesAndAccept) {
  const rvae::Image image = astronaut();
  rvae::Result<rvae::Bytes> png = rvae::encode_png(image);
  rvae::Result<rvae::Bytes> jpeg = rvae::encode_jpeg(image, 90);
  ASSERT_TRUE(png && jpeg);
  const std::string png_body(png->begin(), png->end());
  for (const char* type : {"", "image/png", "image/jpeg"}) {
    SCOPED_TRACE(type);
    auto res = send("/sd15/encode/", png_body, type, "*/*");
    EXPECT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(raw_header(res.head, "shape"), "[1,4,64,64]");
  }
  auto from_jpeg =
      send("/sd15/encode", std::string(jpeg->begin(), jpeg->end()), "", "tensor/binary");
  EXPECT_EQ(from_jpeg.status, 200) << from_jpeg.body;

  auto wrong_type = send("/sd15/encode/", png_body, "application/octet-stream", "*/*");
  EXPECT_EQ(wrong_type.status, 400);
  EXPECT_EQ(error_text(wrong_type.body),
            "Content-Type `application/octet-stream` is not supported for encode; send a "
            "PNG/JPEG body with no Content-Type, image/png or image/jpeg, or a tensor with "
            "tensor/binary.");
  auto text = send("/sd15/encode/", png_body, "text/plain", "*/*");
  EXPECT_EQ(text.status, 400);
  EXPECT_EQ(error_text(text.body).rfind("Content-Type `text/plain` is not supported", 0), 0u);
  auto wrong_accept = send("/sd15/encode/", png_body, "", "application/json");
  EXPECT_EQ(wrong_accept.status, 400);
  EXPECT_EQ(error_text(wrong_accept.body),
            "Accept `application/json` is not supported for encode, which replies with a "
            "tensor; send */*, tensor/binary or tensor/base64.");
}

TEST_F(EncodeTest, RefusedInputs) {
  auto expect_400 = [&](const std::string& path, const std::string& body, const std::string& type) {
    auto res = send(path, body, type, "*/*");
    EXPECT_EQ(res.status, 400) << res.body;
    EXPECT_EQ(raw_header(res.head, "Content-Type"), "application/json");
    return error_text(res.body);
  };
  EXPECT_EQ(expect_400("/sd15/encode/", "", ""),
            "Encode needs a PNG or JPEG image as the body; it is empty.");
  EXPECT_NE(expect_400("/sd15/encode/", "not an image", "")
                .find("The body is not an image the server can decode: "),
            std::string::npos);
  rvae::Result<rvae::Image> chelsea =
      rvae::read_image(std::string(RVAE_TEST_DATA_DIR) + "/chelsea.png");  // 451x300
  ASSERT_TRUE(chelsea);
  rvae::Result<rvae::Bytes> chelsea_png = rvae::encode_png(*chelsea);
  ASSERT_TRUE(chelsea_png);
  EXPECT_EQ(expect_400("/sd15/encode/", std::string(chelsea_png->begin(), chelsea_png->end()), ""),
            "Image width 451 is not a multiple of 8.");
  rvae::Image tall;
  tall.width = 8;
  tall.height = 2056;
  tall.channels = 3;
  tall.pixels.assign(8 * 2056 * 3, 128);
  rvae::Result<rvae::Bytes> tall_png = rvae::encode_png(tall);
  ASSERT_TRUE(tall_png);
  EXPECT_EQ(expect_400("/sd15/encode/", std::string(tall_png->begin(), tall_png->end()), ""),
            "Image height 2056 exceeds the service cap of 2048x2048.");
  tall.height = 2048;
  tall.pixels.resize(8 * 2048 * 3);
  rvae::Result<rvae::Bytes> at_cap = rvae::encode_png(tall);
  ASSERT_TRUE(at_cap);
  auto ok = send("/sd15/encode/", std::string(at_cap->begin(), at_cap->end()), "", "*/*");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(raw_header(ok.head, "shape"), "[1,4,256,1]");

  const std::string pixels = to_body(make_latents(4 * 64, 1));
  EXPECT_EQ(expect_400("/sd15/encode/?shape=1&shape=4&shape=8&shape=8&dtype=float32", pixels,
                       "tensor/binary"),
            "Encode takes pixel tensors [B, 3, H, W]; got [1,4,8,8].");
  EXPECT_EQ(expect_400("/sd15/encode/?shape=1&shape=3&shape=8&shape=12&dtype=float32",
                       to_body(make_latents(3 * 96, 1)), "tensor/binary"),
            "Image width 12 is not a multiple of 8.");
  EXPECT_EQ(expect_400("/sd15/encode/?shape=1&shape=3&shape=8&shape=8", pixels, "tensor/binary"),
            "Expected `dtype` in query params.");
  // No Content-Type and a body that is no image: shape/dtype in the query make it a tensor.
  EXPECT_EQ(expect_400("/sd15/encode/?shape=1&shape=3&shape=8&shape=8", pixels, ""),
            "Expected `dtype` in query params.");
  EXPECT_EQ(expect_400("/sd15/encode/?dtype=float32", pixels, ""),
            "Expected `shape` in query params.");
  EXPECT_EQ(expect_400("/sd15/encode/?scaling_factor=x", pixels, ""),
            "Query parameter `scaling_factor` must be a finite number, got `x`.");
  EXPECT_EQ(expect_400("/sd15/encode/?shift_factor=1&shift_factor=2", pixels, ""),
            "Query parameter `shift_factor` must be a finite number, got `[1, 2]`.");

  rvae::reference::ReferenceEndpointOptions small;
  small.max_reply_bytes = 100;
  start_with(small);
  // [1,4,8,2] float16 latents: 128 bytes.
  EXPECT_EQ(expect_400("/sd15/encode/?shape=1&shape=3&shape=64&shape=16&dtype=float32",
                       to_body(make_latents(3 * 64 * 16, 1)), "tensor/binary"),
            "The reply would exceed the server's cap of 100 bytes.");
}

TEST_F(EncodeTest, VideoModelHasNoEncoder) {
  auto res = send("/hunyuan-video/encode/", "x", "", "*/*");
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(error_text(res.body), "Model `hunyuan-video` has no encode endpoint.");
  const rvae::reference::StandInVae* vae = rvae::reference::find_stand_in_vae("hunyuan-video");
  ASSERT_NE(vae, nullptr);
  rvae::Result<rvae::reference::InferenceReply> direct = rvae::reference::run_encode(*vae, {}, {});
  ASSERT_FALSE(direct);
  EXPECT_EQ(direct.error().message(), "hunyuan-video has no encoder.");
}

}  // namespace
}  // namespace rvae::testing_test
