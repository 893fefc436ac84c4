// PROTOCOL.md §7.1, context mode over a video clip: the causal temporal mix and the clip-wide
// colour drift, against the formula written out here. Each latent frame is constant over its
// plane, so §7's blur (checked in tests/tiling) leaves it as it is and only §7.1's time steps
// and the mean remain to compute. An image model's 5-D latent stays a §7 image; the frame cap
// refuses long decodes on both protocols.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "open_inference_support.hpp"
#include "per_channel_oracle.hpp"
#include "reference_test_support.hpp"
#include "rvae/testing/reference_endpoint.hpp"

namespace rvae::testing_test {
namespace {

namespace pc = per_channel;

// x1[t] = (3 x[t] + x[t-1]) / 4 with x[-1] = x[0], minus the clip's mean of x, per channel;
// `x` is [C][T] (one value per frame).
std::vector<std::vector<double>> temporal_context(const std::vector<std::vector<double>>& x) {
  std::vector<std::vector<double>> out = x;
  for (std::size_t c = 0; c < x.size(); ++c) {
    double mean = 0.0;
    for (double v : x[c])
      mean += v;
    mean /= static_cast<double>(x[c].size());
    for (std::size_t t = 0; t < x[c].size(); ++t) {
      const double before = t == 0 ? x[c][0] : x[c][t - 1];
      out[c][t] = (3.0 * x[c][t] + before) / 4.0 - mean;
    }
  }
  return out;
}

class TemporalContextTest : public EndpointTest {
 protected:
  void SetUp() override {
    rvae::reference::ReferenceEndpointOptions options;
    options.spatial_context = true;
    options.oip_input_datatype = rvae::DType::kFloat32;
    start_with(options);
  }
  // FP32 frames [1, 3, F, 16, 16] of a [1, 16, T, 2, 2] latent whose planes are constant.
  std::string decode(const std::string& model, const std::vector<float>& per_frame, int frames) {
    std::vector<float> latents;
    for (float v : per_frame)
      latents.insert(latents.end(), 4, v);
    nlohmann::json header =
        oip::binary_header("latent_sample", "FP32", {1, 16, frames, 2, 2}, latents.size() * 4);
    oip::ask_output(header, "sample", true);
    const oip::InferReply reply = oip::take_apart(oip::post_binary(
        *http_, "/v2/models/" + model + "/infer", header.dump(), to_body(latents)));
    EXPECT_EQ(reply.status, 200) << reply.raw;
    return reply.binary;
  }
};

void expect_frames(const std::string& bytes, const std::vector<std::vector<double>>& rgb_of_t,
                   int latent_frames) {
  const int frames = 4 * (latent_frames - 1) + 1;
  ASSERT_EQ(bytes.size(), static_cast<std::size_t>(3 * frames * 256 * 4));
  for (int f = 0; f < frames; ++f) {
    const int t = f == 0 ? 0 : (f - 1) / 4 + 1;
    for (int k = 0; k < 3; ++k) {
      for (int at : {0, 137, 255}) {
        EXPECT_NEAR(oip::float_at(bytes, static_cast<std::size_t>((k * frames + f) * 256 + at)),
                    rgb_of_t[static_cast<std::size_t>(t)][static_cast<std::size_t>(k)], 1e-6)
            << "frame " << f << " colour " << k;
      }
    }
  }
}

TEST_F(TemporalContextTest, HunyuanVideoClipIsCausalAndDriftsByTheClipMean) {
  const int frames = 3;
  const ModelTable& t = table("hunyuan-video");
  std::vector<float> z(16 * frames);
  std::vector<std::vector<double>> x(16, std::vector<double>(frames));
  for (int c = 0; c < 16; ++c) {
    for (int f = 0; f < frames; ++f) {
      const float v = static_cast<float>(0.9 * ((c * 7 + f * 5) % 11) - 4.0);
      z[static_cast<std::size_t>(c * frames + f)] = v;
      x[static_cast<std::size_t>(c)][static_cast<std::size_t>(f)] = (v - t.t0) * t.s0;
    }
  }
  const std::vector<std::vector<double>> x1 = temporal_context(x);
  std::vector<std::vector<double>> rgb(frames, std::vector<double>(3));
  for (int f = 0; f < frames; ++f) {
    for (int k = 0; k < 3; ++k) {
      double sum = t.b[k];
      for (int c = 0; c < 16; ++c)
        sum += t.f[static_cast<std::size_t>(c * 3 + k)] *
               x1[static_cast<std::size_t>(c)][static_cast<std::size_t>(f)];
      rgb[static_cast<std::size_t>(f)][static_cast<std::size_t>(k)] = std::clamp(sum, -1.0, 1.0);
    }
  }
  expect_frames(decode("hunyuan-video_decoder", z, frames), rgb, frames);
}

TEST_F(TemporalContextTest, Wan21ClipWorksOnTheNormalisedLatent) {
  const int frames = 2;
  std::vector<float> raw(16 * frames);
  std::vector<std::vector<double>> x(16, std::vector<double>(frames));
  for (int c = 0; c < 16; ++c) {
    for (int f = 0; f < frames; ++f) {
      const double normalised = 0.6 * ((c * 3 + f * 7) % 5) - 1.2;
      const float v = static_cast<float>(pc::kMean[c] + pc::kStd[c] * normalised);
      raw[static_cast<std::size_t>(c * frames + f)] = v;
      x[static_cast<std::size_t>(c)][static_cast<std::size_t>(f)] =
          (v - pc::kMean[c]) / pc::kStd[c];
    }
  }
  const std::vector<std::vector<double>> x1 = temporal_context(x);
  std::vector<std::vector<double>> rgb(frames, std::vector<double>(3));
  for (int f = 0; f < frames; ++f) {
    for (int k = 0; k < 3; ++k) {
      double sum = pc::kB[k];
      for (int c = 0; c < 16; ++c)
        sum += pc::kF[c][k] * x1[static_cast<std::size_t>(c)][static_cast<std::size_t>(f)];
      rgb[static_cast<std::size_t>(f)][static_cast<std::size_t>(k)] = std::clamp(sum, -1.0, 1.0);
    }
  }
  expect_frames(decode("wan2.1_decoder", raw, frames), rgb, frames);
}

// The frame cap counts output frames, 4(T-1)+1, and refuses past it with 400 on both protocols,
// in the words of the size cap.
TEST_F(TemporalContextTest, FrameCapRefusesLongDecodesOnBothProtocols) {
  rvae::reference::ReferenceEndpointOptions options;
  options.spatial_context = true;
  options.max_frames = 5;
  options.oip_input_datatype = rvae::DType::kFloat32;
  start_with(options);
  const std::vector<float> two(16 * 2 * 4, 0.25f), three(16 * 3 * 4, 0.25f);
  const std::string query = "&dtype=float32&output_type=pt&partial_postprocess=True";
  auto ok = post("/hunyuan-video/decode/?" + shape_query({1, 16, 2, 2, 2}) + query, to_body(two),
                 "tensor/binary", "tensor/binary");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  auto refused = post("/hunyuan-video/decode/?" + shape_query({1, 16, 3, 2, 2}) + query,
                      to_body(three), "tensor/binary", "tensor/binary");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 400);
  EXPECT_EQ(error_text(refused->body),
            "Output of 9 frames exceeds the service cap of 5 frames per request.");

  nlohmann::json header =
      oip::binary_header("latent_sample", "FP32", {1, 16, 3, 2, 2}, three.size() * 4);
  const oip::InferReply over = oip::take_apart(
      oip::post_binary(*http_, "/v2/models/wan2.1_decoder/infer", header.dump(), to_body(three)));
  EXPECT_EQ(over.status, 400);
  EXPECT_NE(over.raw.find("Output of 9 frames exceeds the service cap of 5 frames per request."),
            std::string::npos)
      << over.raw;
  header = oip::binary_header("latent_sample", "FP32", {1, 16, 2, 2, 2}, two.size() * 4);
  EXPECT_EQ(oip::take_apart(oip::post_binary(*http_, "/v2/models/wan2.1_decoder/infer",
                                             header.dump(), to_body(two)))
                .status,
            200);
}

TEST_F(TemporalContextTest, NegativeFrameCapIsRefusedAtStart) {
  rvae::reference::ReferenceEndpointOptions options;
  options.max_frames = -1;
  rvae::reference::ReferenceEndpoint endpoint(options);
  const rvae::Result<void> started = endpoint.start();
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().code(), rvae::ErrorCode::kInvalidArgument);
  EXPECT_NE(started.error().message().find("max_frames"), std::string::npos);
}

}  // namespace
}  // namespace rvae::testing_test
