// PROTOCOL.md §9's per-channel models (wan2.1, qwen-image) on the Hugging Face protocol: the
// endpoint's table against the document, decode and encode against the formulas written out in
// per_channel_oracle.hpp, Qwen-Image's three latent layouts, and the refusals.
#include <gtest/gtest.h>
#include <httplib.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "per_channel_oracle.hpp"
#include "reference_test_support.hpp"
#include "rvae/testing/reference_endpoint.hpp"
#include "testing/stand_in_vae.hpp"

namespace rvae::testing_test {
namespace {

namespace pc = per_channel;

TEST(PerChannelTable, MatchesProtocolSection9) {
  for (const char* name : {"wan2.1", "qwen-image"}) {
    SCOPED_TRACE(name);
    const rvae::reference::StandInVae* vae = rvae::reference::find_stand_in_vae(name);
    ASSERT_NE(vae, nullptr);
    EXPECT_EQ(vae->channels, 16);
    EXPECT_TRUE(vae->can_encode);
    EXPECT_TRUE(vae->per_channel());
    EXPECT_EQ(vae->dtype, rvae::DType::kBFloat16);  // §9: both pipelines' typical dtype
    EXPECT_EQ(vae->latent_rank(), 5);
    ASSERT_EQ(vae->f.size(), 48u);
    ASSERT_EQ(vae->mean.size(), 16u);
    ASSERT_EQ(vae->std.size(), 16u);
    for (std::size_t c = 0; c < 16; ++c) {
      for (std::size_t k = 0; k < 3; ++k)
        EXPECT_EQ(vae->f[c * 3 + k], pc::kF[c][k]) << "F[" << c << "][" << k << "]";
      EXPECT_EQ(vae->mean[c], pc::kMean[c]) << c;
      EXPECT_EQ(vae->std[c], pc::kStd[c]) << c;
    }
    for (std::size_t k = 0; k < 3; ++k)
      EXPECT_EQ(vae->bias[k], pc::kB[k]);
  }
  EXPECT_EQ(rvae::reference::find_stand_in_vae("wan2.1")->temporal_compression, 4);
  EXPECT_EQ(rvae::reference::find_stand_in_vae("qwen-image")->temporal_compression, 1);
}

const std::string kPt = "image_format=jpg&output_type=pt&partial_postprocess=True&";

class PerChannelTest : public EndpointTest {
 protected:
  // Decodes float32 latents with a uint8 reply; the reply body, or "" after a failure.
  std::string decode_uint8(const std::string& model, const std::vector<float>& latents,
                           const rvae::Shape& shape, const std::string& extra = "") {
    auto res = post("/" + model + "/decode/?" + kPt + shape_query(shape) + "&dtype=float32" + extra,
                    to_body(latents), "tensor/binary", "tensor/binary");
    EXPECT_TRUE(res);
    if (!res) return {};
    EXPECT_EQ(res->status, 200) << res->body;
    return res->status == 200 ? res->body : std::string();
  }
  int status_of(const std::string& path_and_query, const std::string& body) {
    auto res = post(path_and_query, body, "tensor/binary", "tensor/binary");
    return res ? res->status : -1;
  }
};

// Every pixel of uint8 frames [F, 8h, 8w, 3] against the formula on latents [16, T, h, w].
void expect_frames(const std::string& reply, const std::vector<float>& latents, int frames_in,
                   int h, int w, int frames_out) {
  ASSERT_EQ(reply.size(), static_cast<std::size_t>(frames_out * 64 * h * w * 3));
  int mismatches = 0;
  for (int f = 0; f < frames_out; ++f) {
    const int t = f == 0 ? 0 : (f - 1) / 4 + 1;  // §6: frames 4t-3 ... 4t from latent frame t
    for (int i = 0; i < h; ++i) {
      for (int j = 0; j < w; ++j) {
        std::array<double, 16> raw{};
        for (int c = 0; c < 16; ++c)
          raw[static_cast<std::size_t>(c)] =
              latents[static_cast<std::size_t>(((c * frames_in + t) * h + i) * w + j)];
        const std::array<double, 3> rgb = pc::decode_pixel(raw);
        for (int k = 0; k < 3; ++k) {
          bool near_tie = false;
          const int expected = expected_level(rgb[static_cast<std::size_t>(k)], &near_tie);
          // One pixel of the block is enough: the block fill is tested for the other models.
          const std::size_t at =
              static_cast<std::size_t>(((f * 8 * h + i * 8 + 3) * 8 * w + j * 8 + 5) * 3 + k);
          const int got = static_cast<unsigned char>(reply[at]);
          if (got != expected && !(near_tie && std::abs(got - expected) == 1)) ++mismatches;
        }
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
}

TEST_F(PerChannelTest, WanVideoDecodeMatchesFormula) {
  const int t = 3, h = 2, w = 3;
  const std::vector<float> latents = pc::raw_latents(16 * t * h * w, t * h * w, 1);
  const std::string reply = decode_uint8("wan2.1", latents, {1, 16, t, h, w});
  expect_frames(reply, latents, t, h, w, 4 * (t - 1) + 1);
}

TEST_F(PerChannelTest, QwenImageTakesFourDFiveDAndPackedLatents) {
  const int h = 4, w = 6;
  const std::vector<float> latents = pc::raw_latents(16 * h * w, h * w, 2);
  const std::string four = decode_uint8("qwen-image", latents, {1, 16, h, w});
  expect_frames(four, latents, 1, h, w, 1);
  EXPECT_EQ(decode_uint8("qwen-image", latents, {1, 16, 1, h, w}), four);
  const std::vector<float> packed = pc::pack(latents, 1, 16, h, w);
  EXPECT_EQ(decode_uint8("qwen-image", packed, {1, (h / 2) * (w / 2), 64},
                         "&height=" + std::to_string(8 * h) + "&width=" + std::to_string(8 * w)),
            four);
  // One image out: the float reply is [B, 3, H, W] for 5-D input too.
  auto res = post("/qwen-image/decode/?output_type=pt&partial_postprocess=False&" +
                      shape_query({1, 16, 1, h, w}) + "&dtype=float32",
                  to_body(latents), "tensor/binary", "tensor/binary");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("shape"), "[1,3,32,48]");
  EXPECT_EQ(res->get_header_value("dtype"), "bfloat16");
  // A qwen-image latent has one frame.
  EXPECT_EQ(
      status_of("/qwen-image/decode/?" + kPt + shape_query({1, 16, 2, h, w}) + "&dtype=float32",
                to_body(pc::raw_latents(16 * 2 * h * w, 2 * h * w, 2))),
      400);
}

TEST_F(PerChannelTest, ScalarFactorsAreRefused) {
  const std::vector<float> video = pc::raw_latents(16 * 4, 4, 3);
  const std::string image_query = kPt + shape_query({1, 16, 2, 2}) + "&dtype=float32";
  const std::string video_query = kPt + shape_query({1, 16, 1, 2, 2}) + "&dtype=float32";
  for (const char* extra : {"&scaling_factor=1", "&shift_factor=0", "&do_scaling=True"}) {
    SCOPED_TRACE(extra);
    auto res = post("/qwen-image/decode/?" + image_query + extra, to_body(video), "tensor/binary",
                    "tensor/binary");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400);
    EXPECT_NE(error_text(res->body).find("per channel"), std::string::npos) << res->body;
    EXPECT_EQ(status_of("/wan2.1/decode/?" + video_query + extra, to_body(video)), 400);
  }
  const std::vector<float> pixels(3 * 8 * 8, 0.25f);
  for (const char* model : {"wan2.1", "qwen-image"}) {
    EXPECT_EQ(status_of(std::string("/") + model + "/encode/?" + shape_query({1, 3, 8, 8}) +
                            "&dtype=float32&scaling_factor=1",
                        to_body(pixels)),
              400)
        << model;
  }
  // Without factors both decode.
  EXPECT_EQ(status_of("/wan2.1/decode/?" + video_query, to_body(video)), 200);
}

// Pixels [1, 3, F, H, W] with blocks that differ between frames and within them.
std::vector<float> test_pixels(int frames, int height, int width) {
  std::vector<float> pixels(static_cast<std::size_t>(3 * frames * height * width));
  for (std::size_t i = 0; i < pixels.size(); ++i)
    pixels[i] = static_cast<float>(0.9 * std::sin(0.37 * static_cast<double>(i) + 0.2));
  return pixels;
}

// The raw latent [16, T, h, w] of pixels [3, F, H, W] by §9: latent frame t from the mean of
// frames 4t-3 ... 4t (frame 0 alone for t = 0), each 8x8 block averaged.
std::vector<double> expected_encode(const std::vector<float>& pixels, int frames, int height,
                                    int width) {
  const int latent_frames = (frames - 1) / 4 + 1;
  const int lh = height / 8, lw = width / 8;
  std::vector<double> out(static_cast<std::size_t>(16 * latent_frames * lh * lw));
  for (int t = 0; t < latent_frames; ++t) {
    const int first = t == 0 ? 0 : 4 * t - 3, last = t == 0 ? 0 : 4 * t;
    for (int i = 0; i < lh; ++i) {
      for (int j = 0; j < lw; ++j) {
        std::array<double, 3> rgb{};
        for (int k = 0; k < 3; ++k) {
          double sum = 0.0;
          for (int f = first; f <= last; ++f)
            for (int y = i * 8; y < i * 8 + 8; ++y)
              for (int x = j * 8; x < j * 8 + 8; ++x)
                sum +=
                    pixels[static_cast<std::size_t>(((k * frames + f) * height + y) * width + x)];
          rgb[static_cast<std::size_t>(k)] = sum / (64.0 * (last - first + 1));
        }
        const std::array<double, 16> raw = pc::encode_pixel(rgb);
        for (int c = 0; c < 16; ++c)
          out[static_cast<std::size_t>(((c * latent_frames + t) * lh + i) * lw + j)] =
              raw[static_cast<std::size_t>(c)];
      }
    }
  }
  return out;
}

// A bfloat16 reply against double expectations (bfloat16 keeps 8 significant bits).
void expect_bfloat16(const std::string& body, const std::vector<double>& expected) {
  ASSERT_EQ(body.size(), expected.size() * 2);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const double got =
        pc::from_bfloat16(reinterpret_cast<const unsigned char*>(body.data()) + 2 * i);
    EXPECT_NEAR(got, expected[i], 0.005 * std::fabs(expected[i]) + 1e-6) << i;
  }
}

TEST_F(PerChannelTest, WanEncodeMatchesFormula) {
  const int frames = 5, height = 16, width = 24;
  const std::vector<float> pixels = test_pixels(frames, height, width);
  auto res =
      post("/wan2.1/encode/?" + shape_query({1, 3, frames, height, width}) + "&dtype=float32",
           to_body(pixels), "tensor/binary", "tensor/binary");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("shape"), "[1,16,2,2,3]");
  EXPECT_EQ(res->get_header_value("dtype"), "bfloat16");
  expect_bfloat16(res->body, expected_encode(pixels, frames, height, width));

  // An image is a one-frame video: [1, 16, 1, h, w].
  const std::vector<float> image = test_pixels(1, height, width);
  auto one = post("/wan2.1/encode/?" + shape_query({1, 3, height, width}) + "&dtype=float32",
                  to_body(image), "tensor/binary", "tensor/binary");
  ASSERT_TRUE(one);
  ASSERT_EQ(one->status, 200) << one->body;
  EXPECT_EQ(one->get_header_value("shape"), "[1,16,1,2,3]");
  expect_bfloat16(one->body, expected_encode(image, 1, height, width));

  for (int bad : {2, 4, 8}) {
    SCOPED_TRACE(bad);
    const std::vector<float> video = test_pixels(bad, 8, 8);
    auto refused = post("/wan2.1/encode/?" + shape_query({1, 3, bad, 8, 8}) + "&dtype=float32",
                        to_body(video), "tensor/binary", "tensor/binary");
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 400);
    EXPECT_EQ(error_text(refused->body),
              "wan2.1 encodes 4n + 1 frames; got " + std::to_string(bad) + ".");
  }
}

TEST_F(PerChannelTest, QwenEncodeAnswersInTheInputsRank) {
  const int height = 16, width = 16;
  const std::vector<float> image = test_pixels(1, height, width);
  const std::vector<double> expected = expected_encode(image, 1, height, width);
  auto four = post("/qwen-image/encode/?" + shape_query({1, 3, height, width}) + "&dtype=float32",
                   to_body(image), "tensor/binary", "tensor/binary");
  ASSERT_TRUE(four);
  ASSERT_EQ(four->status, 200) << four->body;
  EXPECT_EQ(four->get_header_value("shape"), "[1,16,2,2]");
  expect_bfloat16(four->body, expected);
  auto five =
      post("/qwen-image/encode/?" + shape_query({1, 3, 1, height, width}) + "&dtype=float32",
           to_body(image), "tensor/binary", "tensor/binary");
  ASSERT_TRUE(five);
  ASSERT_EQ(five->status, 200) << five->body;
  EXPECT_EQ(five->get_header_value("shape"), "[1,16,1,2,2]");
  EXPECT_EQ(five->body, four->body);
  const std::vector<float> two = test_pixels(2, height, width);
  EXPECT_EQ(
      status_of("/qwen-image/encode/?" + shape_query({1, 3, 2, height, width}) + "&dtype=float32",
                to_body(two)),
      400);
}

// Context mode works on x (§7 after §9's normalisation): a constant latent plane blurs to itself
// and loses its mean, so every pixel is clamp(b).
TEST_F(PerChannelTest, ContextModeWorksOnTheNormalisedLatent) {
  rvae::reference::ReferenceEndpointOptions options;
  options.spatial_context = true;
  start_with(options);
  std::vector<float> latents(16 * 4 * 4);
  for (std::size_t i = 0; i < latents.size(); ++i)
    latents[i] = static_cast<float>(1.5 + 0.25 * static_cast<double>(i / 16));
  for (const char* model : {"wan2.1", "qwen-image"}) {
    SCOPED_TRACE(model);
    const std::string reply = decode_uint8(model, latents, {1, 16, 1, 4, 4});
    ASSERT_EQ(reply.size(), 32u * 32u * 3u);
    for (std::size_t at = 0; at < reply.size(); ++at) {
      bool near_tie = false;
      const int expected = expected_level(pc::kB[at % 3], &near_tie);
      ASSERT_EQ(static_cast<unsigned char>(reply[at]), expected) << at;
    }
  }
  // §7.1: no encode of a video longer than one frame in context mode.
  const std::vector<float> video = test_pixels(5, 8, 8);
  EXPECT_EQ(status_of("/wan2.1/encode/?" + shape_query({1, 3, 5, 8, 8}) + "&dtype=float32",
                      to_body(video)),
            400);
}

}  // namespace
}  // namespace rvae::testing_test
