// An image reply is checked against the request from its header, before it is decoded
// (src/protocol/decode_reply.cpp with codec/image_probe.hpp).
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "codec/codec_test_util.hpp"
#include "protocol/protocol.hpp"
#include "protocol_test_util.hpp"

namespace rvae::protocol {
namespace {

using test::make_response;

using ::rvae::test::ihdr_body;
using ::rvae::test::png_signature;
using ::rvae::test::put_chunk;

// A PNG whose IHDR declares width x height RGB and whose IDAT is not a zlib stream. Decoding it
// fails with "bad compression" (after stb has allocated for the declared size: 201 MB at 8192²),
// so a reply refused for its size proves the size was checked first.
Bytes png_declaring(std::uint32_t width, std::uint32_t height) {
  Bytes png = png_signature();
  put_chunk(&png, "IHDR", ihdr_body(width, height, 8, 2));
  put_chunk(&png, "IDAT", {0x00, 0x00, 0x00, 0x00});
  put_chunk(&png, "IEND", {});
  return png;
}

// A baseline JPEG whose frame header declares width x height with no tables, so the pre-scan of
// decode_image refuses it: a size refusal instead proves the size was checked first.
Bytes jpeg_declaring(std::uint32_t width, std::uint32_t height) {
  return {0xFF,
          0xD8,
          0xFF,
          0xC0,
          0x00,
          0x11,
          8,
          static_cast<std::uint8_t>(height >> 8),
          static_cast<std::uint8_t>(height),
          static_cast<std::uint8_t>(width >> 8),
          static_cast<std::uint8_t>(width),
          3,
          1,
          0x11,
          0,
          2,
          0x11,
          0,
          3,
          0x11,
          0,
          0xFF,
          0xDA,
          0x00,
          0x0C,
          3,
          1,
          0x00,
          2,
          0x00,
          3,
          0x00,
          0,
          63,
          0,
          0x12,
          0x34,
          0xFF,
          0xD9};
}

DecodeExpectation image_of(std::int64_t width, std::int64_t height) {
  DecodeExpectation expect;
  expect.type = OutputType::kImage;
  expect.height = height;
  expect.width = width;
  return expect;
}

Result<DecodeOutput> parse(Bytes body, const DecodeExpectation& expect) {
  return parse_decode_reply(make_response(200, {{"Content-Type", "image/png"}}, std::move(body)),
                            expect);
}

TEST(ImageReplyPrescan, PngDeclaring8192SquareForA16SquareRequestIsRefusedUndecoded) {
  const Result<DecodeOutput> out = parse(png_declaring(8192, 8192), image_of(16, 16));
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code(), ErrorCode::kDataLoss);
  EXPECT_EQ(out.error().message(),
            "decode reply image is 8192x8192 (width x height), expected 16x16 (width x height)");
}

TEST(ImageReplyPrescan, JpegDeclaringAnotherSizeIsRefusedUndecoded) {
  const Result<DecodeOutput> out = parse(jpeg_declaring(4096, 2048), image_of(16, 16));
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code(), ErrorCode::kDataLoss);
  EXPECT_EQ(out.error().message(),
            "decode reply image is 4096x2048 (width x height), expected 16x16 (width x height)");
}

TEST(ImageReplyPrescan, MatchingDeclaredSizeGoesOnToTheDecoder) {
  // The same bytes at the requested size reach the decoder, which reports the broken data.
  const Result<DecodeOutput> png = parse(png_declaring(16, 16), image_of(16, 16));
  ASSERT_FALSE(png);
  EXPECT_EQ(png.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(png.error().message().find("bad compression"), std::string::npos)
      << png.error().message();
  const Result<DecodeOutput> jpeg = parse(jpeg_declaring(16, 16), image_of(16, 16));
  ASSERT_FALSE(jpeg);
  EXPECT_EQ(jpeg.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(jpeg.error().message().find("decode reply image: corrupt JPEG"), std::string::npos)
      << jpeg.error().message();
}

}  // namespace
}  // namespace rvae::protocol
