// PROTOCOL.md §7, the stand-in with spatial context: the blur and mean-subtraction alone, and the
// reference endpoint's decode and encode in context mode against an independent transcription.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "rvae/client.hpp"
#include "rvae/image.hpp"
#include "rvae/tensor.hpp"
#include "rvae/testing/reference_endpoint.hpp"
#include "testing/context_blur.hpp"
#include "testing/reference_test_support.hpp"

namespace {

using rvae::testing_test::ModelTable;

// The composed kernel [1,4,6,4,1]/16 twice = [1,8,28,56,70,56,28,8,1]/256 — but only away from
// the edges; at the edges clamping happens after each pass, so this test does two passes.
std::vector<double> blur_1d_twice(const std::vector<double>& in) {
  std::vector<double> v = in;
  const int n = static_cast<int>(v.size());
  const double k[5] = {1, 4, 6, 4, 1};
  for (int pass = 0; pass < 2; ++pass) {
    std::vector<double> out(v.size());
    for (int i = 0; i < n; ++i) {
      double sum = 0;
      for (int d = -2; d <= 2; ++d)
        sum += k[d + 2] * v[static_cast<std::size_t>(std::clamp(i + d, 0, n - 1))];
      out[static_cast<std::size_t>(i)] = sum / 16.0;
    }
    v = out;
  }
  return v;
}

// §7 steps 1 and 2 on one [C][h][w] plane, written independently of context_blur.cpp: blur
// (h, w) twice equals blur-h twice then blur-w twice, because the passes are separable.
std::vector<double> context_reference(std::vector<double> x, int channels, int h, int w) {
  const auto plane = static_cast<std::size_t>(h * w);
  for (int c = 0; c < channels; ++c) {
    double* p = x.data() + static_cast<std::size_t>(c) * plane;
    double mean = 0;
    for (std::size_t i = 0; i < plane; ++i)
      mean += p[i];
    mean /= static_cast<double>(plane);
    for (int col = 0; col < w; ++col) {
      std::vector<double> line(static_cast<std::size_t>(h));
      for (int row = 0; row < h; ++row)
        line[static_cast<std::size_t>(row)] = p[row * w + col];
      line = blur_1d_twice(line);
      for (int row = 0; row < h; ++row)
        p[row * w + col] = line[static_cast<std::size_t>(row)];
    }
    for (int row = 0; row < h; ++row) {
      std::vector<double> line(p + row * w, p + row * w + w);
      line = blur_1d_twice(line);
      std::copy(line.begin(), line.end(), p + row * w);
    }
    for (std::size_t i = 0; i < plane; ++i)
      p[i] -= mean;
  }
  return x;
}

TEST(ContextBlur, ConstantPlaneBecomesZero) {
  std::vector<double> x(2 * 5 * 7, 0.0);
  std::fill(x.begin(), x.begin() + 35, 3.5);
  std::fill(x.begin() + 35, x.end(), -1.25);
  rvae::reference::apply_spatial_context(x.data(), 2, 5, 7);
  for (double v : x)
    EXPECT_NEAR(v, 0.0, 1e-12);
}

TEST(ContextBlur, ImpulseSpreadsFourPixelsWithTheComposedKernel) {
  const int h = 13, w = 13;
  std::vector<double> x(static_cast<std::size_t>(h * w), 0.0);
  x[6 * w + 6] = 256.0 * 256.0;
  rvae::reference::apply_spatial_context(x.data(), 1, h, w);
  const double composed[9] = {1, 8, 28, 56, 70, 56, 28, 8, 1};
  const double mean = 256.0 * 256.0 / (h * w);
  for (int y = 0; y < h; ++y) {
    for (int xx = 0; xx < w; ++xx) {
      const int dy = y - 6, dx = xx - 6;
      const double expected =
          (std::abs(dy) <= 4 && std::abs(dx) <= 4) ? composed[dy + 4] * composed[dx + 4] : 0.0;
      EXPECT_NEAR(x[static_cast<std::size_t>(y * w + xx)], expected - mean, 1e-9)
          << "at " << y << "," << xx;
    }
  }
}

TEST(ContextBlur, EdgesAreReplicatedAndMatchAnIndependentTranscription) {
  const int c = 3, h = 6, w = 9;
  std::vector<double> x(static_cast<std::size_t>(c * h * w));
  for (std::size_t i = 0; i < x.size(); ++i)
    x[i] = std::sin(0.37 * static_cast<double>(i)) * 2.0 + (i % 5 == 0 ? 4.0 : 0.0);
  const std::vector<double> expected = context_reference(x, c, h, w);
  rvae::reference::apply_spatial_context(x.data(), c, h, w);
  for (std::size_t i = 0; i < x.size(); ++i)
    EXPECT_NEAR(x[i], expected[i], 1e-12) << i;
  // A one-pixel-wide image: every tap clamps to the same sample, so only the mean subtraction
  // acts and the result is 0.
  std::vector<double> column = {1.0, 2.0, 3.0};
  rvae::reference::apply_spatial_context(column.data(), 1, 3, 1);
  EXPECT_NEAR(column[1], 2.0 - 2.0, 1e-12);  // blur of 1,2,3 keeps the middle at 2
  EXPECT_LT(column[0], 0.0);
}

class ContextEndpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    rvae::reference::ReferenceEndpointOptions options;
    options.spatial_context = true;
    server_ = std::make_unique<rvae::reference::ReferenceEndpoint>(options);
    ASSERT_TRUE(server_->start());
  }
  std::unique_ptr<rvae::reference::ReferenceEndpoint> server_;
  rvae::Client client_;
};

TEST_F(ContextEndpoint, DecodeMatchesTheFormula) {
  const ModelTable& t = rvae::testing_test::table("sdxl");
  const int h = 7, w = 10, channels = 4;
  const auto plane = static_cast<std::size_t>(h * w);
  std::vector<float> z(static_cast<std::size_t>(channels) * plane);
  for (std::size_t i = 0; i < z.size(); ++i)
    z[i] = static_cast<float>(3.0 * std::sin(0.21 * static_cast<double>(i)) + 0.5);
  rvae::Tensor latents = rvae::Tensor::from_floats({1, channels, h, w}, z).value();
  rvae::DecodeOptions options;
  options.output_type = rvae::OutputType::kFloatTensor;  // no scaling factors: z is raw
  rvae::Result<rvae::DecodeOutput> out =
      client_.decode(server_->url("/sdxl/decode/"), latents.view(), options);
  ASSERT_TRUE(out) << out.error().what();
  ASSERT_EQ(out->tensor.shape(), (rvae::Shape{1, 3, 8 * h, 8 * w}));

  std::vector<double> x(z.size());
  for (std::size_t i = 0; i < z.size(); ++i)
    x[i] = (z[i] - t.t0) * t.s0;
  x = context_reference(x, channels, h, w);
  const std::vector<float> rgb = out->tensor.to_floats();
  double largest_context_effect = 0;
  for (int y = 0; y < 8 * h; ++y) {
    for (int xx = 0; xx < 8 * w; ++xx) {
      const std::size_t latent = static_cast<std::size_t>((y / 8) * w + xx / 8);
      for (int k = 0; k < 3; ++k) {
        double sum = t.b[k];
        double local = t.b[k];
        for (int c = 0; c < channels; ++c) {
          sum += t.f[static_cast<std::size_t>(c * 3 + k)] * x[c * plane + latent];
          local += t.f[static_cast<std::size_t>(c * 3 + k)] * (z[c * plane + latent] - t.t0) * t.s0;
        }
        const double expected = std::clamp(sum, -1.0, 1.0);
        largest_context_effect =
            std::max(largest_context_effect, std::abs(expected - std::clamp(local, -1.0, 1.0)));
        const std::size_t index =
            (static_cast<std::size_t>(k) * 8 * h + static_cast<std::size_t>(y)) * 8 * w +
            static_cast<std::size_t>(xx);
        ASSERT_NEAR(rgb[index], expected, 2e-3) << y << "," << xx << "," << k;
      }
    }
  }
  // The mode must change the reply, or the comparison above proves nothing about §7.
  EXPECT_GT(largest_context_effect, 0.05);
}

TEST_F(ContextEndpoint, EncodeMatchesTheFormula) {
  const ModelTable& t = rvae::testing_test::table("sd15");
  const int H = 40, W = 56, channels = 4;
  rvae::Image image;
  image.width = W;
  image.height = H;
  image.channels = 3;
  image.pixels.resize(static_cast<std::size_t>(W * H * 3));
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x)
      for (int k = 0; k < 3; ++k)
        image.pixels[static_cast<std::size_t>((y * W + x) * 3 + k)] =
            static_cast<std::uint8_t>((x * 4 + y * 3 * (k + 1) + 40 * k) % 256);
  rvae::EncodeOptions options;  // no factors: the reply is the raw latent z = x/s0 + t0
  rvae::Result<rvae::EncodeOutput> out =
      client_.encode(server_->url("/sd15/encode/"), image, options);
  ASSERT_TRUE(out) << out.error().what();
  const int h = H / 8, w = W / 8;
  ASSERT_EQ(out->latents.shape(), (rvae::Shape{1, channels, h, w}));
  const std::vector<float> got = out->latents.to_floats();

  // pinv(F^T) = F (F^T F)^-1, computed here by solving the 3x3 normal equations per pixel.
  const auto plane = static_cast<std::size_t>(h * w);
  std::vector<double> x(static_cast<std::size_t>(channels) * plane);
  double m[3][3] = {};
  for (int c = 0; c < channels; ++c)
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j)
        m[i][j] +=
            t.f[static_cast<std::size_t>(c * 3 + i)] * t.f[static_cast<std::size_t>(c * 3 + j)];
  for (int i = 0; i < h; ++i) {
    for (int j = 0; j < w; ++j) {
      double rgb[3] = {0, 0, 0};
      for (int dy = 0; dy < 8; ++dy)
        for (int dx = 0; dx < 8; ++dx)
          for (int k = 0; k < 3; ++k)
            rgb[k] +=
                image.pixels[static_cast<std::size_t>(((i * 8 + dy) * W + j * 8 + dx) * 3 + k)] /
                    127.5 -
                1.0;
      double d[3];
      for (int k = 0; k < 3; ++k)
        d[k] = rgb[k] / 64.0 - t.b[k];
      // Solve m * a = d (Cramer), then x = F a.
      auto det3 = [](double a[3][3]) {
        return a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) -
               a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) +
               a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
      };
      const double det = det3(m);
      double a[3];
      for (int col = 0; col < 3; ++col) {
        double mc[3][3];
        for (int r = 0; r < 3; ++r)
          for (int cc = 0; cc < 3; ++cc)
            mc[r][cc] = cc == col ? d[r] : m[r][cc];
        a[col] = det3(mc) / det;
      }
      for (int c = 0; c < channels; ++c) {
        double v = 0;
        for (int k = 0; k < 3; ++k)
          v += t.f[static_cast<std::size_t>(c * 3 + k)] * a[k];
        x[static_cast<std::size_t>(c) * plane + static_cast<std::size_t>(i * w + j)] = v;
      }
    }
  }
  x = context_reference(x, channels, h, w);
  for (std::size_t i = 0; i < x.size(); ++i)
    EXPECT_NEAR(got[i], x[i] / t.s0 + t.t0, 2e-3 * (1.0 + std::abs(got[i]))) << i;
}

TEST(ContextEndpointCap, LargerThanTheCapIsRefusedUnlessLifted) {
  rvae::Tensor latents = rvae::Tensor::zeros({1, 4, 8, 264}, rvae::DType::kFloat32).value();
  rvae::DecodeOptions options;
  options.output_type = rvae::OutputType::kUInt8;
  options.tiling.mode = rvae::TileMode::kOff;  // the request itself, not rvae's tiling
  rvae::Client client;
  {
    rvae::reference::ReferenceEndpointOptions capped;
    capped.spatial_context = true;
    rvae::reference::ReferenceEndpoint server(capped);
    ASSERT_TRUE(server.start());
    rvae::Result<rvae::DecodeOutput> out =
        client.decode(server.url("/sd15/decode/"), latents.view(), options);
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error().http_status(), 400);
    EXPECT_NE(out.error().server_message().find("2048"), std::string::npos) << out.error().what();
  }
  rvae::reference::ReferenceEndpointOptions lifted;
  lifted.spatial_context = true;
  lifted.max_image_side = 4096;
  rvae::reference::ReferenceEndpoint server(lifted);
  ASSERT_TRUE(server.start());
  rvae::Result<rvae::DecodeOutput> out =
      client.decode(server.url("/sd15/decode/"), latents.view(), options);
  ASSERT_TRUE(out) << out.error().what();
  EXPECT_EQ(out->images.at(0).width, 264 * 8);
}

}  // namespace
