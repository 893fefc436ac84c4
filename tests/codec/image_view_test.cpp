// rvae::ImageView: borrowed pixels that encode the same as the Image they view, checked like an
// Image, and refused when NULL.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "rvae/image.hpp"

namespace {

rvae::Image gradient(int width, int height, int channels) {
  rvae::Image image{width, height, channels,
                    rvae::Bytes(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) *
                                static_cast<std::size_t>(channels))};
  for (std::size_t i = 0; i < image.pixels.size(); ++i) {
    image.pixels[i] = static_cast<std::uint8_t>(i * 7 % 251);
  }
  return image;
}

TEST(ImageView, ViewsAnImageWithoutCopying) {
  const rvae::Image image = gradient(16, 8, 3);
  const rvae::ImageView view = image;
  EXPECT_EQ(view.pixels, image.pixels.data());
  EXPECT_EQ(view.size_bytes, image.pixels.size());
  EXPECT_EQ(view.width, 16);
  EXPECT_TRUE(view.validate());
}

TEST(ImageView, EncodesTheSameBytesAsTheImage) {
  const rvae::Image image = gradient(24, 16, 4);
  const std::vector<std::uint8_t> frame = image.pixels;  // a caller's own buffer
  const rvae::ImageView view(24, 16, 4, frame.data(), frame.size());
  rvae::Result<rvae::Bytes> from_view = rvae::encode_png(view);
  rvae::Result<rvae::Bytes> from_image = rvae::encode_png(image);
  ASSERT_TRUE(from_view) << from_view.error().what();
  ASSERT_TRUE(from_image);
  EXPECT_EQ(*from_view, *from_image);
  const rvae::Image rgb = rvae::to_rgb(view);
  EXPECT_EQ(rgb.channels, 3);
  EXPECT_EQ(rgb.pixels[3], frame[4]);  // pixel 1's red, past pixel 0's alpha
}

TEST(ImageView, RefusesNullPixelsAndWrongSizes) {
  const rvae::ImageView null_pixels(8, 8, 3, nullptr, 8 * 8 * 3);
  rvae::Result<void> checked = null_pixels.validate();
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().code(), rvae::ErrorCode::kInvalidArgument);
  EXPECT_NE(checked.error().message().find("NULL"), std::string::npos);
  EXPECT_FALSE(rvae::encode_png(null_pixels));
  const std::vector<std::uint8_t> short_buffer(10);
  const rvae::ImageView short_view(8, 8, 3, short_buffer.data(), short_buffer.size());
  EXPECT_FALSE(short_view.validate());
  EXPECT_FALSE(rvae::encode_jpeg(short_view));
}

}  // namespace
