// Decode through HTTP: every model and output form against the formula of PROTOCOL.md §6,
// computed here from an independent copy of the tables.
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
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

namespace rvae::testing_test {
namespace {

// Latent pixel (b, t, i, j) of [B, C, T, h, w] float values as a C-vector, raw after the
// optional unscaling z = v / s + t.
std::vector<double> latent_pixel(const std::vector<float>& values, const rvae::Shape& shape,
                                 std::int64_t b, std::int64_t t, std::int64_t i, std::int64_t j,
                                 double scale = 1.0, double shift = 0.0) {
  const bool video = shape.size() == 5;
  const std::int64_t channels = shape[1];
  const std::int64_t frames = video ? shape[2] : 1;
  const std::int64_t h = shape[shape.size() - 2];
  const std::int64_t w = shape[shape.size() - 1];
  std::vector<double> z(static_cast<std::size_t>(channels));
  for (std::int64_t c = 0; c < channels; ++c) {
    const std::int64_t index = (((b * channels + c) * frames + t) * h + i) * w + j;
    z[static_cast<std::size_t>(c)] = values[static_cast<std::size_t>(index)] / scale + shift;
  }
  return z;
}

// Checks a uint8 [N, H, W, 3] reply pixel by pixel; frame n of item b comes from latent frame
// frame_of(n). Returns the number of pixels compared.
template <typename FrameOf>
std::size_t check_uint8(const std::string& body, const ModelTable& t,
                        const std::vector<float>& latents, const rvae::Shape& shape,
                        std::int64_t frames_per_item, FrameOf frame_of, double scale = 1.0,
                        double shift = 0.0) {
  const std::int64_t batch = shape[0];
  const std::int64_t h = shape[shape.size() - 2] * 8;
  const std::int64_t w = shape[shape.size() - 1] * 8;
  EXPECT_EQ(body.size(), static_cast<std::size_t>(batch * frames_per_item * h * w * 3));
  if (body.size() != static_cast<std::size_t>(batch * frames_per_item * h * w * 3)) return 0;
  std::size_t compared = 0;
  for (std::int64_t b = 0; b < batch; ++b) {
    for (std::int64_t f = 0; f < frames_per_item; ++f) {
      for (std::int64_t y = 0; y < h; ++y) {
        for (std::int64_t x = 0; x < w; ++x) {
          const std::vector<double> rgb = expected_rgb(
              t, latent_pixel(latents, shape, b, frame_of(f), y / 8, x / 8, scale, shift));
          for (int k = 0; k < 3; ++k) {
            const std::size_t at =
                static_cast<std::size_t>((((b * frames_per_item + f) * h + y) * w + x) * 3 + k);
            bool near_tie = false;
            const int expected = expected_level(rgb[static_cast<std::size_t>(k)], &near_tie);
            const int got = static_cast<unsigned char>(body[at]);
            if (near_tie) {
              EXPECT_LE(std::abs(got - expected), 1);
            } else if (got != expected) {
              ADD_FAILURE() << "pixel b=" << b << " f=" << f << " y=" << y << " x=" << x
                            << " k=" << k << ": got " << got << ", expected " << expected;
              return compared;
            }
            ++compared;
          }
        }
      }
    }
  }
  return compared;
}

std::string decode_query(const std::string& output_type, bool partial, const std::string& format,
                         const rvae::Shape& shape, const std::string& dtype) {
  return "image_format=" + format + "&output_type=" + output_type +
         "&partial_postprocess=" + (partial ? "True" : "False") + "&" + shape_query(shape) +
         "&dtype=" + dtype;
}

class DecodeTest : public EndpointTest {};

TEST_F(DecodeTest, Uint8TensorMatchesFormulaForEveryImageModel) {
  for (const char* model : {"sd15", "sdxl", "flux"}) {
    SCOPED_TRACE(model);
    const ModelTable& t = table(model);
    const rvae::Shape shape{2, t.channels, 3, 5};
    const std::vector<float> latents =
        make_latents(2u * static_cast<std::size_t>(t.channels) * 15, 1);
    auto res = post(
        "/" + std::string(model) + "/decode/?" + decode_query("pt", true, "jpg", shape, "float32"),
        to_body(latents), "tensor/binary", "tensor/binary");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    EXPECT_EQ(res->get_header_value("Content-Type"), "tensor/binary");
    EXPECT_EQ(res->get_header_value("shape"), "[2,24,40,3]");
    EXPECT_EQ(res->get_header_value("dtype"), "uint8");
    const std::size_t compared =
        check_uint8(res->body, t, latents, shape, 1, [](std::int64_t) { return 0; });
    EXPECT_EQ(compared, 2u * 24 * 40 * 3);
    // The latents must exercise both clamped and unclamped values for this to mean much.
    int saturated = 0;
    int middle = 0;
    for (char c : res->body) {
      const int v = static_cast<unsigned char>(c);
      saturated += (v == 0 || v == 255) ? 1 : 0;
      middle += (v > 20 && v < 235) ? 1 : 0;
    }
    EXPECT_GT(saturated, 0);
    EXPECT_GT(middle, 0);
  }
}

TEST_F(DecodeTest, FloatTensorInTheVaeDtypeMatchesFormula) {
  struct Case {
    const char* model;
    rvae::DType dtype;
    rvae::DType reply;  // the VAE's dtype, whatever the request's (PROTOCOL.md §3, last table)
    double tolerance;   // half an ulp of the reply dtype near 1, plus input rounding effects
  };
  const Case cases[] = {{"sd15", rvae::DType::kFloat32, rvae::DType::kFloat16, 1e-3},
                        {"sdxl", rvae::DType::kFloat16, rvae::DType::kFloat16, 1e-3},
                        {"flux", rvae::DType::kBFloat16, rvae::DType::kBFloat16, 8e-3},
                        {"flux", rvae::DType::kFloat32, rvae::DType::kBFloat16, 8e-3},
                        {"sd15", rvae::DType::kBFloat16, rvae::DType::kFloat16, 1e-3}};
  for (const Case& c : cases) {
    const std::string dtype_name(rvae::dtype_name(c.dtype));
    SCOPED_TRACE(std::string(c.model) + " " + dtype_name);
    const ModelTable& t = table(c.model);
    const rvae::Shape shape{1, t.channels, 2, 3};
    std::vector<float> latents = make_latents(static_cast<std::size_t>(t.channels) * 6, 2);
    rvae::Result<rvae::Tensor> typed = rvae::convert(view_of(latents, shape), c.dtype);
    ASSERT_TRUE(typed);
    latents = typed->to_floats();  // What the server sees, for the expectation.
    auto res = post("/" + std::string(c.model) + "/decode?" +
                        decode_query("pt", false, "jpg", shape, dtype_name),
                    std::string(reinterpret_cast<const char*>(typed->data()), typed->size_bytes()),
                    "tensor/binary", "tensor/binary");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    EXPECT_EQ(res->get_header_value("shape"), "[1,3,16,24]");
    EXPECT_EQ(res->get_header_value("dtype"), rvae::dtype_name(c.reply));
    rvae::Result<rvae::Tensor> reply = rvae::Tensor::from_bytes(
        {1, 3, 16, 24}, c.reply, rvae::Bytes(res->body.begin(), res->body.end()));
    ASSERT_TRUE(reply) << reply.error().what();
    const std::vector<float> values = reply->to_floats();
    for (std::int64_t k = 0; k < 3; ++k) {
      for (std::int64_t y = 0; y < 16; ++y) {
        for (std::int64_t x = 0; x < 24; ++x) {
          const double expected = expected_rgb(
              t, latent_pixel(latents, shape, 0, 0, y / 8, x / 8))[static_cast<std::size_t>(k)];
          ASSERT_NEAR(values[static_cast<std::size_t>((k * 16 + y) * 24 + x)], expected,
                      c.tolerance)
              << "k=" << k << " y=" << y << " x=" << x;
        }
      }
    }
  }
}

TEST_F(DecodeTest, PngAndJpegImagesMatchFormula) {
  for (const char* model : {"sd15", "sdxl", "flux"}) {
    SCOPED_TRACE(model);
    const ModelTable& t = table(model);
    const rvae::Shape shape{1, t.channels, 4, 6};
    const std::vector<float> latents = make_latents(static_cast<std::size_t>(t.channels) * 24, 3);
    const std::string path = "/" + std::string(model) + "/decode/?";
    std::string levels;  // expected uint8 HWC pixels
    {
      auto res = post(path + decode_query("pt", true, "jpg", shape, "float32"), to_body(latents),
                      "tensor/binary", "tensor/binary");
      ASSERT_TRUE(res);
      ASSERT_EQ(res->status, 200);
      ASSERT_GT(check_uint8(res->body, t, latents, shape, 1, [](std::int64_t) { return 0; }), 0u);
      levels = res->body;
    }
    for (const char* format : {"png", "jpg"}) {
      SCOPED_TRACE(format);
      const bool png = std::string(format) == "png";
      auto res = post(path + decode_query("pil", false, format, shape, "float32"), to_body(latents),
                      "tensor/binary", png ? "image/png" : "image/jpeg");
      ASSERT_TRUE(res);
      ASSERT_EQ(res->status, 200) << res->body;
      EXPECT_EQ(res->get_header_value("Content-Type"), png ? "image/png" : "image/jpeg");
      const auto* data = reinterpret_cast<const std::uint8_t*>(res->body.data());
      EXPECT_EQ(rvae::sniff_image_format(data, res->body.size()),
                png ? rvae::ImageFormat::kPng : rvae::ImageFormat::kJpeg);
      rvae::Result<rvae::Image> image = rvae::decode_image(data, res->body.size());
      ASSERT_TRUE(image) << image.error().what();
      EXPECT_EQ(image->width, 48);
      EXPECT_EQ(image->height, 32);
      ASSERT_EQ(image->pixels.size(), levels.size());
      int max_error = 0;
      for (std::size_t i = 0; i < levels.size(); ++i) {
        max_error = std::max(max_error, std::abs(static_cast<int>(image->pixels[i]) -
                                                 static_cast<unsigned char>(levels[i])));
      }
      // PNG is lossless. JPEG (quality 95) of flat, block-aligned 8x8 tiles keeps little more
      // than quantised DC terms and YCbCr rounding: measured max 2 levels.
      EXPECT_LE(max_error, png ? 0 : 3) << "max error " << max_error;
      std::printf("[ measured ] %s %s max |level - expected level|: %d\n", model, format,
                  max_error);
    }
  }
}

TEST_F(DecodeTest, VideoRepeatsEachLatentFrameFourTimes) {
  const ModelTable& t = table("hunyuan-video");
  const rvae::Shape shape{2, 16, 3, 2, 2};
  const std::vector<float> latents = make_latents(2 * 16 * 3 * 4, 4);
  auto frame_of = [](std::int64_t f) { return f == 0 ? 0 : (f - 1) / 4 + 1; };
  auto res = post("/hunyuan-video/decode/?" + decode_query("pt", true, "jpg", shape, "float32"),
                  to_body(latents), "tensor/binary", "tensor/binary");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("shape"), "[18,16,16,3]");  // B*F frames, F = 4*(3-1)+1
  EXPECT_EQ(check_uint8(res->body, t, latents, shape, 9, frame_of), 2u * 9 * 16 * 16 * 3);
  // Frames 1..4 are one image, 5..8 another, and they differ from frame 0 and each other.
  const std::size_t frame_bytes = 16 * 16 * 3;
  auto frame = [&](std::size_t n) { return res->body.substr(n * frame_bytes, frame_bytes); };
  for (std::size_t n = 2; n <= 4; ++n)
    EXPECT_EQ(frame(n), frame(1));
  for (std::size_t n = 6; n <= 8; ++n)
    EXPECT_EQ(frame(n), frame(5));
  EXPECT_NE(frame(0), frame(1));
  EXPECT_NE(frame(1), frame(5));

  // Batch of one: [F, H, W, 3]; float output: [B, 3, F, H, W].
  const rvae::Shape one{1, 16, 2, 1, 1};
  const std::vector<float> small = make_latents(32, 5);
  auto single = post("/hunyuan-video/decode/?" + decode_query("pt", true, "jpg", one, "float32"),
                     to_body(small), "tensor/binary", "tensor/binary");
  ASSERT_TRUE(single);
  EXPECT_EQ(single->get_header_value("shape"), "[5,8,8,3]");
  auto floats = post("/hunyuan-video/decode/?" + decode_query("pt", false, "jpg", one, "float32"),
                     to_body(small), "tensor/binary", "tensor/binary");
  ASSERT_TRUE(floats);
  ASSERT_EQ(floats->status, 200);
  EXPECT_EQ(floats->get_header_value("shape"), "[1,3,5,8,8]");
  // float16: HunyuanVideo's VAE dtype, whatever the latents came in.
  EXPECT_EQ(floats->get_header_value("dtype"), "float16");
  ASSERT_EQ(floats->body.size(), 3u * 5 * 64 * 2);
  rvae::Result<rvae::Tensor> float_reply =
      rvae::Tensor::from_bytes({1, 3, 5, 8, 8}, rvae::DType::kFloat16,
                               rvae::Bytes(floats->body.begin(), floats->body.end()));
  ASSERT_TRUE(float_reply);
  const std::vector<float> values = float_reply->to_floats();
  for (std::int64_t f = 0; f < 5; ++f) {
    const std::vector<double> rgb = expected_rgb(t, latent_pixel(small, one, 0, frame_of(f), 0, 0));
    for (std::int64_t k = 0; k < 3; ++k) {
      EXPECT_NEAR(values[static_cast<std::size_t>((k * 5 + f) * 64 + 63)],
                  rgb[static_cast<std::size_t>(k)], 5e-4);  // half a float16 ulp below 1
    }
  }
}

TEST_F(DecodeTest, PackedAndUnpackedFluxGiveTheSameImage) {
  const rvae::Shape shape{1, 16, 4, 6};  // 32x48 pixels
  const std::vector<float> latents = make_latents(16 * 24, 6);
  rvae::Result<rvae::Tensor> packed = rvae::pack_latents(view_of(latents, shape));
  ASSERT_TRUE(packed);
  ASSERT_EQ(packed->shape(), (rvae::Shape{1, 6, 64}));
  auto unpacked_reply = post("/flux/decode/?" + decode_query("pt", true, "jpg", shape, "float32"),
                             to_body(latents), "tensor/binary", "tensor/binary");
  const std::string packed_body(reinterpret_cast<const char*>(packed->data()),
                                packed->size_bytes());
  auto packed_reply =
      post("/flux/decode/?" + decode_query("pt", true, "jpg", packed->shape(), "float32") +
               "&height=32&width=48",
           packed_body, "tensor/binary", "tensor/binary");
  ASSERT_TRUE(unpacked_reply);
  ASSERT_TRUE(packed_reply);
  ASSERT_EQ(packed_reply->status, 200) << packed_reply->body;
  EXPECT_EQ(packed_reply->get_header_value("shape"), "[1,32,48,3]");
  EXPECT_EQ(packed_reply->body, unpacked_reply->body);
  EXPECT_GT(check_uint8(packed_reply->body, table("flux"), latents, shape, 1,
                        [](std::int64_t) { return 0; }),
            0u);

  // Through rvae::Client as well.
  rvae::Client client;
  rvae::DecodeOptions options;
  options.output_type = rvae::OutputType::kUInt8;
  options.height = 32;
  options.width = 48;
  rvae::Result<rvae::DecodeOutput> out =
      client.decode(endpoint_->url("/flux/decode/"), packed->view(), options);
  ASSERT_TRUE(out) << out.error().what();
  ASSERT_EQ(out->images.size(), 1u);
  EXPECT_EQ(std::string(out->images[0].pixels.begin(), out->images[0].pixels.end()),
            unpacked_reply->body);
}

TEST_F(DecodeTest, FactorsSentMatchClientSideUnscaling) {
  for (const char* model : {"flux", "sdxl"}) {
    SCOPED_TRACE(model);
    const ModelTable& t = table(model);
    const rvae::Shape shape{1, t.channels, 4, 4};
    const std::vector<float> latents = make_latents(static_cast<std::size_t>(t.channels) * 16, 7);
    rvae::Client client;
    rvae::DecodeOptions server_side;
    server_side.output_type = rvae::OutputType::kUInt8;
    server_side.scaling_factor = t.s0;
    if (t.t0 != 0.0) server_side.shift_factor = t.t0;
    const std::string url = endpoint_->url("/" + std::string(model) + "/decode/");
    rvae::Result<rvae::DecodeOutput> a = client.decode(url, view_of(latents, shape), server_side);
    ASSERT_TRUE(a) << a.error().what();

    rvae::Result<rvae::Tensor> unscaled =
        rvae::unscale_latents(view_of(latents, shape), t.s0, t.t0);
    ASSERT_TRUE(unscaled);
    rvae::DecodeOptions client_side;
    client_side.output_type = rvae::OutputType::kUInt8;
    rvae::Result<rvae::DecodeOutput> b = client.decode(url, unscaled->view(), client_side);
    ASSERT_TRUE(b) << b.error().what();
    ASSERT_EQ(a->images.size(), 1u);
    ASSERT_EQ(b->images.size(), 1u);
    const rvae::Bytes& pa = a->images[0].pixels;
    const rvae::Bytes& pb = b->images[0].pixels;
    ASSERT_EQ(pa.size(), pb.size());
    std::size_t different = 0;
    for (std::size_t i = 0; i < pa.size(); ++i) {
      // Client-side unscaling rounds to float32 before the server's double arithmetic.
      EXPECT_LE(std::abs(static_cast<int>(pa[i]) - static_cast<int>(pb[i])), 1);
      different += pa[i] != pb[i] ? 1 : 0;
    }
    EXPECT_LE(different, pa.size() / 100);
    // And both equal the formula with z = latents / s0 + t0.
    EXPECT_GT(check_uint8(
                  std::string(pa.begin(), pa.end()), t, latents, shape, 1,
                  [](std::int64_t) { return 0; }, t.s0, t.t0),
              0u);
  }
}

// The endpoint unscales with the factors a request sends and then applies its own published
// s0 and t0 (its own table, not the client's presets). So the client's preset gives §6's
// published answer, and a scaling factor 10% off gives a visibly different image: a wrong
// preset value can no longer be echoed back by the server and pass.
TEST_F(DecodeTest, AWrongClientScalingFactorGivesAVisiblyDifferentImage) {
  const rvae::PresetRegistry presets = rvae::PresetRegistry::builtin();
  for (const char* model : {"sd15", "sdxl", "flux"}) {
    SCOPED_TRACE(model);
    const ModelTable& t = table(model);
    const rvae::ModelPreset* preset = presets.find(model);
    ASSERT_NE(preset, nullptr);
    const rvae::Shape shape{1, t.channels, 8, 8};
    // Latents whose every pixel reaches 0.8 away from b in its strongest colour and nowhere
    // more (so nothing clamps, and a change of scale shows in every pixel): a smooth pattern,
    // each latent pixel scaled by what §6's F makes of it.
    std::vector<float> latents(static_cast<std::size_t>(t.channels) * 64);
    for (std::size_t i = 0; i < latents.size(); ++i)
      latents[i] = static_cast<float>(std::sin(0.731 * static_cast<double>(i) + 0.4));
    for (std::size_t p = 0; p < 64; ++p) {
      double largest = 0.0;
      for (std::size_t k = 0; k < 3; ++k) {
        double sum = 0.0;
        for (std::size_t c = 0; c < static_cast<std::size_t>(t.channels); ++c)
          sum += t.f[c * 3 + k] * latents[c * 64 + p];
        largest = std::max(largest, std::fabs(sum));
      }
      for (std::size_t c = 0; c < static_cast<std::size_t>(t.channels); ++c)
        latents[c * 64 + p] = static_cast<float>(latents[c * 64 + p] * 0.8 / largest);
    }

    rvae::Client client;
    const std::string url = endpoint_->url("/" + std::string(model) + "/decode/");
    rvae::DecodeOptions right = preset->decode_options();
    right.output_type = rvae::OutputType::kUInt8;
    rvae::DecodeOptions wrong = right;
    wrong.scaling_factor = preset->scaling_factor * 1.1;
    rvae::Result<rvae::DecodeOutput> a = client.decode(url, view_of(latents, shape), right);
    rvae::Result<rvae::DecodeOutput> b = client.decode(url, view_of(latents, shape), wrong);
    ASSERT_TRUE(a) << a.error().what();
    ASSERT_TRUE(b) << b.error().what();
    ASSERT_EQ(a->images.size(), 1u);
    ASSERT_EQ(b->images.size(), 1u);
    const rvae::Bytes& pa = a->images[0].pixels;
    const rvae::Bytes& pb = b->images[0].pixels;
    const auto as_text = [](const rvae::Bytes& bytes) {
      return std::string(bytes.begin(), bytes.end());
    };
    const auto frame_0 = [](std::int64_t) { return 0; };
    // The preset's request decodes to the published formula with the published factors...
    EXPECT_EQ(check_uint8(as_text(pa), t, latents, shape, 1, frame_0, t.s0, t.t0), pa.size());
    // ...and the wrong one to what the server's own s0 makes of it: latents / 1.1 in effect.
    EXPECT_EQ(check_uint8(as_text(pb), t, latents, shape, 1, frame_0, t.s0 * 1.1, t.t0), pb.size());
    ASSERT_EQ(pa.size(), pb.size());
    // The wrong factor scales F^T x by 1/1.1, so 0.8 becomes 0.73 (9 levels): every pixel must
    // show that in its strongest colour.
    std::size_t unchanged_pixels = 0;
    double total = 0.0;
    for (std::size_t i = 0; i < pa.size(); i += 3) {
      int strongest = 0;
      for (std::size_t k = 0; k < 3; ++k) {
        const int d = std::abs(static_cast<int>(pa[i + k]) - static_cast<int>(pb[i + k]));
        strongest = std::max(strongest, d);
        total += d;
      }
      unchanged_pixels += strongest < 5 ? 1 : 0;
    }
    EXPECT_EQ(unchanged_pixels, 0u);
    EXPECT_GE(total / static_cast<double>(pa.size()), 3.0) << "mean difference in levels";
  }
}

TEST_F(DecodeTest, LegacyDoScalingUsesTheModelDefaults) {
  const ModelTable& t = table("flux");
  const rvae::Shape shape{1, 16, 2, 2};
  const std::vector<float> latents = make_latents(64, 8);
  const std::string base = "/flux/decode/?" + decode_query("pt", true, "jpg", shape, "float32");
  auto legacy = post(base + "&do_scaling=True", to_body(latents), "tensor/binary", "tensor/binary");
  auto explicit_factors = post(base + "&scaling_factor=0.3611&shift_factor=0.1159",
                               to_body(latents), "tensor/binary", "tensor/binary");
  auto raw = post(base, to_body(latents), "tensor/binary", "tensor/binary");
  auto off = post(base + "&do_scaling=false", to_body(latents), "tensor/binary", "tensor/binary");
  ASSERT_TRUE(legacy && explicit_factors && raw && off);
  ASSERT_EQ(legacy->status, 200) << legacy->body;
  EXPECT_EQ(legacy->body, explicit_factors->body);
  EXPECT_EQ(off->body, raw->body);
  EXPECT_NE(legacy->body, raw->body);
  EXPECT_GT(check_uint8(
                legacy->body, t, latents, shape, 1, [](std::int64_t) { return 0; }, t.s0, t.t0),
            0u);
  EXPECT_GT(check_uint8(raw->body, t, latents, shape, 1, [](std::int64_t) { return 0; }), 0u);
}

TEST_F(DecodeTest, OnlyShiftFactorShiftsWithoutScaling) {
  const ModelTable& t = table("sd15");
  const rvae::Shape shape{1, 4, 1, 1};
  const std::vector<float> latents = make_latents(4, 9);
  auto res = post(
      "/sd15/decode/?" + decode_query("pt", true, "jpg", shape, "float32") + "&shift_factor=0.5",
      to_body(latents), "tensor/binary", "tensor/binary");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_GT(check_uint8(
                res->body, t, latents, shape, 1, [](std::int64_t) { return 0; }, 1.0, 0.5),
            0u);
}

TEST_F(DecodeTest, ServiceCapOf2048Pixels) {
  const std::vector<float> at_cap = make_latents(4 * 256, 10);
  auto ok = post("/sd15/decode/?" + decode_query("pt", true, "jpg", {1, 4, 256, 1}, "float32"),
                 to_body(at_cap), "tensor/binary", "tensor/binary");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->get_header_value("shape"), "[1,2048,8,3]");
  const std::vector<float> over = make_latents(4 * 257, 10);
  auto refused = post("/sd15/decode/?" + decode_query("pt", true, "jpg", {1, 4, 1, 257}, "float32"),
                      to_body(over), "tensor/binary", "tensor/binary");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 400);
  EXPECT_EQ(refused->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(error_text(refused->body),
            "Output of 2056x8 pixels exceeds the service cap of 2048x2048.");
  // Packed latents: the requested size is checked before unpacking.
  auto packed = post("/flux/decode/?" + decode_query("pt", true, "jpg", {1, 1, 64}, "float32") +
                         "&height=4096&width=16",
                     to_body(make_latents(64, 1)), "tensor/binary", "tensor/binary");
  ASSERT_TRUE(packed);
  EXPECT_EQ(packed->status, 400);
  EXPECT_NE(error_text(packed->body).find("2048x2048"), std::string::npos) << packed->body;
}

TEST_F(DecodeTest, ReplySizeCap) {
  rvae::reference::ReferenceEndpointOptions options;
  options.max_reply_bytes = 1000;
  start_with(options);
  const std::vector<float> latents = make_latents(4 * 4, 1);
  auto refused = post("/sd15/decode/?" + decode_query("pt", true, "jpg", {1, 4, 2, 2}, "float32"),
                      to_body(latents), "tensor/binary", "tensor/binary");  // 16*16*3 = 768 ok
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 200);
  auto too_big = post("/sd15/decode/?" + decode_query("pt", false, "jpg", {1, 4, 2, 2}, "float32"),
                      to_body(latents), "tensor/binary", "tensor/binary");  // 3072 bytes
  ASSERT_TRUE(too_big);
  EXPECT_EQ(too_big->status, 400);
  EXPECT_NE(error_text(too_big->body).find("cap of 1000 bytes"), std::string::npos);
}

}  // namespace
}  // namespace rvae::testing_test
