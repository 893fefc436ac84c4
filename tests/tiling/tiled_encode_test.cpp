// Tiled encode against the reference endpoint in context mode: latents of the image encoded as
// tiles through a capped endpoint against the same image encoded whole without the cap.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "rvae/client.hpp"
#include "rvae/presets.hpp"
#include "rvae/tensor.hpp"
#include "rvae/tiled.hpp"
#include "support/test_data.hpp"
#include "tiling/tiling_test_support.hpp"

namespace rvae::tiling_test {
namespace {

// The target for rvae's tiling: relative RMS error of the latents at most 1%.
constexpr double kMaxRelativeRms = 0.01;

using testing_support::smooth_image;

double relative_rms(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  const std::vector<float> x = a.to_floats(), y = b.to_floats();
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < std::min(x.size(), y.size()); ++i) {
    diff += (x[i] - y[i]) * static_cast<double>(x[i] - y[i]);
    norm += static_cast<double>(y[i]) * y[i];
  }
  return std::sqrt(diff / norm);
}

class TiledEncodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(servers_.start());
    options_ = presets_.find("sdxl")->encode_options();
    options_.tiling.max_image_side = kTestCap;
  }
  EncodeOptions whole_options() const {
    EncodeOptions whole = options_;
    whole.tiling.mode = TileMode::kOff;
    return whole;
  }

  ContextServers servers_;
  Client client_;
  PresetRegistry presets_ = PresetRegistry::builtin();
  EncodeOptions options_;
};

TEST_F(TiledEncodeTest, ImageMatchesTheWholeEncode) {
  const Image image = smooth_image(1208, 880);
  Result<EncodeOutput> whole =
      client_.encode(servers_.lifted().url("/sdxl/encode/"), image, whole_options());
  ASSERT_TRUE(whole) << whole.error().what();
  const std::uint64_t before = servers_.capped().stats().inference_requests;
  Result<EncodeOutput> tiled =
      client_.encode(servers_.capped().url("/sdxl/encode/"), image, options_);
  ASSERT_TRUE(tiled) << tiled.error().what();
  EXPECT_GT(servers_.capped().stats().inference_requests - before, 2u);
  const double rvae_error = relative_rms(tiled->latents, whole->latents);
  EXPECT_LE(rvae_error, kMaxRelativeRms);

  EncodeOptions blend_only = options_;
  blend_only.tiling.colour_reference = false;
  Result<EncodeOutput> blended =
      client_.encode(servers_.capped().url("/sdxl/encode/"), image, blend_only);
  ASSERT_TRUE(blended) << blended.error().what();
  const double blend_error = relative_rms(blended->latents, whole->latents);
  EXPECT_GT(blend_error, 3 * kMaxRelativeRms) << "the oracle shows no colour drift";
  std::printf("[ encode ] relative RMS: rvae %.4f, overlap blending alone %.4f\n", rvae_error,
              blend_error);
}

// An image with alpha is tiled from its RGB copy, which the tiler owns: it must read that copy
// after being moved around (it kept a pointer into the moved-from copy, then read freed or
// emptied pixels).
TEST_F(TiledEncodeTest, AnImageWithAlphaTilesAsItsRgbPixels) {
  const Image rgb = smooth_image(1208, 880);
  Image rgba{rgb.width, rgb.height, 4, Bytes(rgb.pixels.size() / 3 * 4)};
  for (std::size_t i = 0, n = rgb.pixels.size() / 3; i < n; ++i) {
    std::copy_n(&rgb.pixels[i * 3], 3, &rgba.pixels[i * 4]);
    rgba.pixels[i * 4 + 3] = static_cast<std::uint8_t>(i % 251);
  }
  const std::string url = servers_.capped().url("/sdxl/encode/");
  Result<EncodeOutput> from_rgb = client_.encode(url, rgb, options_);
  Result<EncodeOutput> from_rgba = client_.encode(url, rgba, options_);
  ASSERT_TRUE(from_rgb) << from_rgb.error().what();
  ASSERT_TRUE(from_rgba) << from_rgba.error().what();
  EXPECT_EQ(from_rgba->latents.to_floats(), from_rgb->latents.to_floats());
}

TEST_F(TiledEncodeTest, PixelTensorMatchesTheWholeEncode) {
  const Image image = smooth_image(704, 600);
  std::vector<float> values(static_cast<std::size_t>(3 * 704 * 600));
  for (std::size_t i = 0; i < 704 * 600; ++i)
    for (std::size_t k = 0; k < 3; ++k)
      values[k * 704 * 600 + i] = static_cast<float>(image.pixels[i * 3 + k] / 127.5 - 1.0);
  Tensor pixels =
      convert(Tensor::from_floats({1, 3, 600, 704}, values).value().view(), DType::kFloat16)
          .value();
  Result<EncodeOutput> whole =
      client_.encode(servers_.lifted().url("/sdxl/encode/"), pixels.view(), whole_options());
  ASSERT_TRUE(whole) << whole.error().what();
  Result<EncodeOutput> tiled =
      client_.encode(servers_.capped().url("/sdxl/encode/"), pixels.view(), options_);
  ASSERT_TRUE(tiled) << tiled.error().what();
  EXPECT_EQ(tiled->latents.dtype(), DType::kFloat16);
  EXPECT_LE(relative_rms(tiled->latents, whole->latents), kMaxRelativeRms);
}

TEST_F(TiledEncodeTest, OneTileIsThePlainRequestByteForByte) {
  const Image image = smooth_image(320, 256);
  EncodeOptions forced = options_;
  forced.tiling.mode = TileMode::kOn;
  const std::string url = servers_.capped().url("/sdxl/encode/");
  const std::uint64_t before = servers_.capped().stats().inference_requests;
  Result<EncodeOutput> tiled = client_.encode(url, image, forced);
  ASSERT_TRUE(tiled) << tiled.error().what();
  EXPECT_EQ(servers_.capped().stats().inference_requests - before, 1u);
  Result<EncodeOutput> plain = client_.encode(url, image, whole_options());
  ASSERT_TRUE(plain) << plain.error().what();
  ASSERT_EQ(tiled->latents.size_bytes(), plain->latents.size_bytes());
  EXPECT_EQ(0,
            std::memcmp(tiled->latents.data(), plain->latents.data(), plain->latents.size_bytes()));
}

TEST_F(TiledEncodeTest, OneFailingTileFailsTheCall) {
  const Image image = smooth_image(1208, 880);
  servers_.capped().fail_next(1, 404, {}, "gone");
  Result<EncodeOutput> tiled =
      client_.encode(servers_.capped().url("/sdxl/encode/"), image, options_);
  ASSERT_FALSE(tiled);
  EXPECT_EQ(tiled.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(tiled.error().server_message(), "gone");
}

TEST_F(TiledEncodeTest, CancellationStopsTheCall) {
  const Image image = smooth_image(1208, 880);
  CancelToken cancel;
  EncodeOptions options = options_;
  options.control.cancel = cancel;
  options.tiling.max_in_flight = 1;
  options.tiling.on_progress = [&](const TileProgress&) { cancel.cancel(); };
  Result<EncodeOutput> tiled =
      client_.encode(servers_.capped().url("/sdxl/encode/"), image, options);
  ASSERT_FALSE(tiled);
  EXPECT_EQ(tiled.error().code(), ErrorCode::kCancelled);
}

TEST_F(TiledEncodeTest, SidesMustBeMultiplesOfEight) {
  Image image = smooth_image(1204, 880);
  Result<EncodeOutput> tiled =
      client_.encode(servers_.capped().url("/sdxl/encode/"), image, options_);
  ASSERT_FALSE(tiled);
  EXPECT_EQ(tiled.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(tiled.error().message().find("multiples of 8"), std::string::npos);
}

}  // namespace
}  // namespace rvae::tiling_test
