// Image::validate, sniff_image_format and to_rgb.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>

#include "rvae/image.hpp"
#include "support/result_matchers.hpp"
#include "support/test_data.hpp"

namespace rvae {
namespace {

using ::testing::HasSubstr;
using testing_support::filled_image;
using testing_support::IsError;

void expect_invalid(const Image& image, const std::string& fragment) {
  EXPECT_THAT(image.validate(), IsError(ErrorCode::kInvalidArgument, HasSubstr(fragment)));
}

TEST(ImageValidate, AcceptsRgbAndRgbaWithMatchingBuffer) {
  EXPECT_TRUE(filled_image(3, 2, 3, 7).validate().has_value());
  EXPECT_TRUE(filled_image(1, 1, 4, 7).validate().has_value());
  EXPECT_TRUE(filled_image(65535, 1, 3, 7).validate().has_value());
  EXPECT_TRUE(filled_image(1, 65535, 4, 7).validate().has_value());
}

TEST(ImageValidate, RefusesSidesOutsideTheRange) {
  expect_invalid(filled_image(0, 2, 3, 7), "0x2");
  expect_invalid(filled_image(2, 0, 3, 7), "2x0");
  Image negative = filled_image(1, 1, 3, 7);
  negative.width = -4;
  expect_invalid(negative, "-4x1");
  Image too_wide;
  too_wide.width = 65536;
  too_wide.height = 1;
  too_wide.channels = 3;
  expect_invalid(too_wide, "65536x1");
  Image too_tall;
  too_tall.width = 1;
  too_tall.height = 65536;
  too_tall.channels = 3;
  expect_invalid(too_tall, "1x65536");
}

TEST(ImageValidate, RefusesChannelCountsOtherThanThreeOrFour) {
  for (int channels : {0, 1, 2, 5}) {
    expect_invalid(filled_image(2, 2, channels, 7), std::to_string(channels) + " channels");
  }
}

TEST(ImageValidate, RefusesPixelBufferOfTheWrongSize) {
  Image image = filled_image(4, 3, 3, 7);
  image.pixels.pop_back();
  expect_invalid(image, "35 bytes");
  image.pixels.resize(37);
  expect_invalid(image, "needs 36");
  image.pixels.clear();
  expect_invalid(image, "0 bytes");
}

TEST(SniffImageFormat, RecognisesMagicBytes) {
  const std::uint8_t png[] = {0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00};
  const std::uint8_t jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0};
  EXPECT_EQ(sniff_image_format(png, sizeof(png)), ImageFormat::kPng);
  EXPECT_EQ(sniff_image_format(png, 8), ImageFormat::kPng);
  EXPECT_EQ(sniff_image_format(jpeg, sizeof(jpeg)), ImageFormat::kJpeg);
  EXPECT_EQ(sniff_image_format(jpeg, 2), ImageFormat::kJpeg);
}

TEST(SniffImageFormat, RejectsShortAndForeignBuffers) {
  const std::uint8_t png[] = {0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A};
  const std::uint8_t jpeg[] = {0xFF, 0xD8};
  const std::uint8_t gif[] = {'G', 'I', 'F', '8', '9', 'a', 0, 0};
  const std::uint8_t almost_png[] = {0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0B};
  EXPECT_EQ(sniff_image_format(png, 7), std::nullopt);
  EXPECT_EQ(sniff_image_format(jpeg, 1), std::nullopt);
  EXPECT_EQ(sniff_image_format(jpeg, 0), std::nullopt);
  EXPECT_EQ(sniff_image_format(nullptr, 0), std::nullopt);
  EXPECT_EQ(sniff_image_format(nullptr, 8), std::nullopt);
  EXPECT_EQ(sniff_image_format(gif, sizeof(gif)), std::nullopt);
  EXPECT_EQ(sniff_image_format(almost_png, sizeof(almost_png)), std::nullopt);
}

TEST(ToRgb, DropsAlpha) {
  Image rgba;
  rgba.width = 2;
  rgba.height = 1;
  rgba.channels = 4;
  rgba.pixels = {10, 20, 30, 40, 50, 60, 70, 80};
  const Image rgb = to_rgb(rgba);
  EXPECT_EQ(rgb.width, 2);
  EXPECT_EQ(rgb.height, 1);
  EXPECT_EQ(rgb.channels, 3);
  EXPECT_EQ(rgb.pixels, (Bytes{10, 20, 30, 50, 60, 70}));
  EXPECT_TRUE(rgb.validate().has_value());
}

TEST(ToRgb, CopiesRgb) {
  Image rgb;
  rgb.width = 1;
  rgb.height = 2;
  rgb.channels = 3;
  rgb.pixels = {1, 2, 3, 4, 5, 6};
  const Image copy = to_rgb(rgb);
  EXPECT_EQ(copy.width, 1);
  EXPECT_EQ(copy.height, 2);
  EXPECT_EQ(copy.channels, 3);
  EXPECT_EQ(copy.pixels, rgb.pixels);
}

TEST(ToRgb, InconsistentBufferConvertsOnlyWholePixels) {
  Image rgba;
  rgba.width = 10;  // claims 10 pixels, holds one and a bit
  rgba.height = 1;
  rgba.channels = 4;
  rgba.pixels = {1, 2, 3, 4, 5};
  const Image rgb = to_rgb(rgba);
  EXPECT_EQ(rgb.pixels, (Bytes{1, 2, 3}));
}

}  // namespace
}  // namespace rvae
