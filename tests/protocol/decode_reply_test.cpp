#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "protocol/protocol.hpp"
#include "protocol_test_util.hpp"

namespace rvae::protocol {
namespace {

using test::make_response;
using test::pattern_bytes;
using test::pattern_image;
using test::tensor_response;
using test::to_bytes;
using ::testing::HasSubstr;
using testing_support::IsError;

Bytes read_test_file(const std::string& name) {
  std::ifstream in(std::string(RVAE_TEST_DATA_DIR) + "/" + name, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

DecodeExpectation expect_of(OutputType type, std::int64_t batch, std::int64_t height,
                            std::int64_t width, std::int64_t frames = 0) {
  DecodeExpectation expect;
  expect.type = type;
  expect.batch = batch;
  expect.height = height;
  expect.width = width;
  expect.frames = frames;
  return expect;
}

HttpResponse image_response(Bytes body, const char* content_type = "image/png") {
  return make_response(200, {{"Content-Type", content_type}}, std::move(body));
}

// ---- kImage

TEST(ParseDecodeReplyImage, PngIsDecodedAndItsBytesKept) {
  const Image image = pattern_image(16, 8);
  auto png = encode_png(image);
  ASSERT_TRUE(png) << png.error().what();
  const Bytes encoded = *png;
  auto out =
      parse_decode_reply(image_response(std::move(*png)), expect_of(OutputType::kImage, 1, 8, 16));
  ASSERT_TRUE(out) << out.error().what();
  EXPECT_EQ(out->type, OutputType::kImage);
  ASSERT_EQ(out->images.size(), 1u);
  EXPECT_EQ(out->images[0].width, 16);
  EXPECT_EQ(out->images[0].height, 8);
  EXPECT_EQ(out->images[0].channels, 3);
  EXPECT_EQ(out->images[0].pixels, image.pixels);
  EXPECT_EQ(out->encoded, encoded);
  EXPECT_TRUE(out->tensor.empty());
}

TEST(ParseDecodeReplyImage, RealJpegAndPngFiles) {
  // rocket.jpg is 640x427, astronaut.png 512x512 (tests/data/LICENSES.md).
  Bytes jpeg = read_test_file("rocket.jpg");
  ASSERT_FALSE(jpeg.empty());
  const std::uint8_t* jpeg_data = jpeg.data();
  auto out = parse_decode_reply(image_response(std::move(jpeg), "image/jpeg"),
                                expect_of(OutputType::kImage, 1, 427, 640));
  ASSERT_TRUE(out) << out.error().what();
  EXPECT_EQ(out->images[0].width, 640);
  EXPECT_EQ(out->images[0].height, 427);
  EXPECT_EQ(out->encoded.data(), jpeg_data);  // Moved, not copied.

  auto png = parse_decode_reply(image_response(read_test_file("astronaut.png")),
                                expect_of(OutputType::kImage, 1, 512, 512));
  ASSERT_TRUE(png) << png.error().what();
  EXPECT_EQ(png->images[0].width, 512);
}

TEST(ParseDecodeReplyImage, FormatOtherThanRequestedIsAccepted) {
  // Like the upstream client, the reply is identified by its magic bytes: a JPEG answering a
  // PNG request is accepted.
  DecodeExpectation expect = expect_of(OutputType::kImage, 1, 427, 640);
  expect.image_format = ImageFormat::kPng;
  auto out = parse_decode_reply(image_response(read_test_file("rocket.jpg"), "image/png"), expect);
  ASSERT_TRUE(out) << out.error().what();
  EXPECT_EQ(out->images[0].width, 640);
  ASSERT_GE(out->encoded.size(), 2u);
  EXPECT_EQ(out->encoded[0], 0xFF);
  EXPECT_EQ(out->encoded[1], 0xD8);
}

TEST(ParseDecodeReplyImageErrors, WrongSize) {
  auto png = encode_png(pattern_image(16, 8));
  ASSERT_TRUE(png);
  EXPECT_THAT(
      parse_decode_reply(image_response(std::move(*png)), expect_of(OutputType::kImage, 1, 16, 16)),
      IsError(ErrorCode::kDataLoss,
              HasSubstr(
                  "decode reply image is 16x8 (width x height), expected 16x16 (width x height)")));
}

TEST(ParseDecodeReplyImageErrors, NotAnImage) {
  const DecodeExpectation expect = expect_of(OutputType::kImage, 1, 8, 8);
  EXPECT_THAT(
      parse_decode_reply(image_response({}), expect),
      IsError(ErrorCode::kDataLoss, HasSubstr("not a PNG or JPEG image; it is an empty body")));
  EXPECT_THAT(parse_decode_reply(image_response(to_bytes(R"({"error": "oops"})")), expect),
              IsError(ErrorCode::kDataLoss, HasSubstr("a 17-byte JSON body: oops")));
  EXPECT_THAT(
      parse_decode_reply(
          image_response(to_bytes("<html><head><title>502 Bad Gateway</title></head></html>")),
          expect),
      IsError(ErrorCode::kDataLoss, HasSubstr("HTML page: 502 Bad Gateway")));
  EXPECT_THAT(parse_decode_reply(image_response(to_bytes("Ok")), expect),
              IsError(ErrorCode::kDataLoss, HasSubstr("a 2-byte text body: 'Ok'")));
  EXPECT_THAT(
      parse_decode_reply(image_response(Bytes{0x00, 0x01, 0xAB, 0x47, 0xFF}), expect),
      IsError(ErrorCode::kDataLoss, HasSubstr("a 5-byte body starting with bytes 00 01 AB 47 FF")));
  // The MP4 magic is not an image either.
  EXPECT_THAT(
      parse_decode_reply(image_response(read_test_file("clip_17f_64x64.mp4")), expect),
      IsError(ErrorCode::kDataLoss, HasSubstr("starting with bytes 00 00 00 20 66 74 79 70")));
  // Only part of the PNG magic.
  EXPECT_THAT(parse_decode_reply(image_response(Bytes{0x89, 0x50, 0x4E}), expect),
              IsError(ErrorCode::kDataLoss, HasSubstr("not a PNG or JPEG image")));
}

TEST(ParseDecodeReplyImageErrors, CutShortOrCorrupt) {
  Bytes png = read_test_file("astronaut.png");
  ASSERT_GT(png.size(), 1000u);
  png.resize(png.size() / 2);
  auto out = parse_decode_reply(image_response(std::move(png)),
                                expect_of(OutputType::kImage, 1, 512, 512));
  EXPECT_THAT(out, IsError(ErrorCode::kDataLoss, HasSubstr("decode reply image")));

  // Valid magic, garbage after it: the codec's InvalidArgument becomes DataLoss.
  Bytes garbage = {0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3, 4, 5, 6, 7, 8};
  EXPECT_THAT(parse_decode_reply(image_response(std::move(garbage)),
                                 expect_of(OutputType::kImage, 1, 8, 8)),
              IsError(ErrorCode::kDataLoss, HasSubstr("decode reply image")));
  Bytes jpeg_garbage = {0xFF, 0xD8, 0x00, 0x00, 0x00, 0x00};
  EXPECT_THAT(parse_decode_reply(image_response(std::move(jpeg_garbage)),
                                 expect_of(OutputType::kImage, 1, 8, 8)),
              IsError(ErrorCode::kDataLoss, HasSubstr("decode reply image")));
}

TEST(ParseDecodeReplyImageErrors, PixelLimit) {
  auto png = encode_png(pattern_image(16, 16));
  ASSERT_TRUE(png);
  ReplyLimits limits;
  limits.max_pixels = 255;
  auto out = parse_decode_reply(image_response(std::move(*png)),
                                expect_of(OutputType::kImage, 1, 16, 16), limits);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code(), ErrorCode::kResourceExhausted);
}

// ---- kUInt8

TEST(ParseDecodeReplyUInt8, SingleImageTakesTheBufferWithoutCopy) {
  Bytes body = pattern_bytes(8 * 16 * 3);
  const Bytes expected = body;
  const std::uint8_t* original = body.data();
  auto out = parse_decode_reply(tensor_response("[1,8,16,3]", "uint8", std::move(body)),
                                expect_of(OutputType::kUInt8, 1, 8, 16));
  ASSERT_TRUE(out) << out.error().what();
  EXPECT_EQ(out->type, OutputType::kUInt8);
  ASSERT_EQ(out->images.size(), 1u);
  const Image& image = out->images[0];
  EXPECT_EQ(image.width, 16);
  EXPECT_EQ(image.height, 8);
  EXPECT_EQ(image.channels, 3);
  EXPECT_EQ(image.pixels.data(), original);
  EXPECT_EQ(image.pixels, expected);
  EXPECT_TRUE(image.validate());
}

TEST(ParseDecodeReplyUInt8, BatchIsSplitInOrder) {
  const std::size_t per_image = 8 * 8 * 3;
  Bytes body = pattern_bytes(3 * per_image, 5);
  const Bytes expected = body;
  auto out = parse_decode_reply(tensor_response("[3,8,8,3]", "uint8", std::move(body)),
                                expect_of(OutputType::kUInt8, 3, 8, 8));
  ASSERT_TRUE(out) << out.error().what();
  ASSERT_EQ(out->images.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    const Bytes slice(expected.begin() + static_cast<std::ptrdiff_t>(i * per_image),
                      expected.begin() + static_cast<std::ptrdiff_t>((i + 1) * per_image));
    EXPECT_EQ(out->images[i].pixels, slice) << "image " << i;
    EXPECT_EQ(out->images[i].width, 8);
    EXPECT_EQ(out->images[i].height, 8);
  }
}

TEST(ParseDecodeReplyUInt8, VideoFramesOfEveryBatchItem) {
  // 2 videos of 5 frames each arrive as [10,H,W,3].
  auto out =
      parse_decode_reply(tensor_response("[10,8,16,3]", "uint8", pattern_bytes(10 * 8 * 16 * 3)),
                         expect_of(OutputType::kUInt8, 2, 8, 16, 5));
  ASSERT_TRUE(out) << out.error().what();
  EXPECT_EQ(out->images.size(), 10u);
  // A per-video shape is not what the protocol sends.
  EXPECT_THAT(
      parse_decode_reply(tensor_response("[5,8,16,3]", "uint8", pattern_bytes(5 * 8 * 16 * 3)),
                         expect_of(OutputType::kUInt8, 2, 8, 16, 5)),
      IsError(ErrorCode::kDataLoss,
              HasSubstr("shape [5,8,16,3] but the request expects [10,8,16,3]")));
}

TEST(ParseDecodeReplyUInt8Errors, WrongDtypeOrShape) {
  const DecodeExpectation expect = expect_of(OutputType::kUInt8, 1, 8, 8);
  EXPECT_THAT(
      parse_decode_reply(tensor_response("[1,8,8,3]", "float16", pattern_bytes(384)), expect),
      IsError(ErrorCode::kDataLoss, HasSubstr("dtype float16 but uint8 pixels were asked for")));
  EXPECT_THAT(parse_decode_reply(tensor_response("[1,8,8,4]", "uint8", pattern_bytes(256)), expect),
              IsError(ErrorCode::kDataLoss,
                      HasSubstr("shape [1,8,8,4] but the request expects [1,8,8,3]")));
  EXPECT_THAT(parse_decode_reply(tensor_response("[1,3,8,8]", "uint8", pattern_bytes(192)), expect),
              IsError(ErrorCode::kDataLoss,
                      HasSubstr("shape [1,3,8,8] but the request expects [1,8,8,3]")));
  EXPECT_THAT(parse_decode_reply(tensor_response("[2,8,8,3]", "uint8", pattern_bytes(384)), expect),
              IsError(ErrorCode::kDataLoss, HasSubstr("shape [2,8,8,3]")));
  EXPECT_THAT(parse_decode_reply(tensor_response("[1,8,8,3]", "uint8", pattern_bytes(191)), expect),
              IsError(ErrorCode::kDataLoss, HasSubstr("reply body is 191 bytes")));
  EXPECT_THAT(
      parse_decode_reply(make_response(200, {{"shape", "[1,8,8,3]"}}, pattern_bytes(192)), expect),
      IsError(ErrorCode::kDataLoss, HasSubstr("no dtype header")));
}

TEST(ParseDecodeReplyUInt8Errors, LimitsAndImpossibleExpectations) {
  // Taller than an Image can be.
  auto tall = parse_decode_reply(tensor_response("[1,70000,1,3]", "uint8", pattern_bytes(210000)),
                                 expect_of(OutputType::kUInt8, 1, 70000, 1));
  EXPECT_THAT(tall, IsError(ErrorCode::kResourceExhausted, HasSubstr("65535")));
  ReplyLimits limits;
  limits.max_pixels = 63;
  auto big = parse_decode_reply(tensor_response("[1,8,8,3]", "uint8", pattern_bytes(192)),
                                expect_of(OutputType::kUInt8, 1, 8, 8), limits);
  EXPECT_THAT(big,
              IsError(ErrorCode::kResourceExhausted, HasSubstr("above the limit of 63 pixels")));
  limits.max_pixels = 64;
  EXPECT_TRUE(parse_decode_reply(tensor_response("[1,8,8,3]", "uint8", pattern_bytes(192)),
                                 expect_of(OutputType::kUInt8, 1, 8, 8), limits));

  EXPECT_THAT(parse_decode_reply(tensor_response("[1,8,8,3]", "uint8", pattern_bytes(192)),
                                 expect_of(OutputType::kUInt8, 0, 8, 8)),
              IsError(ErrorCode::kInternal, HasSubstr("impossible batch size")));
  EXPECT_THAT(parse_decode_reply(tensor_response("[1,8,8,3]", "uint8", pattern_bytes(192)),
                                 expect_of(OutputType::kUInt8, INT64_MAX / 2, 8, 8, 3)),
              IsError(ErrorCode::kInternal, HasSubstr("impossible batch size")));
}

// ---- kFloatTensor

TEST(ParseDecodeReplyFloat, KeepsTheTensorAsReceived) {
  Bytes body = pattern_bytes(2 * 3 * 8 * 16 * 2);
  const std::uint8_t* original = body.data();
  auto out = parse_decode_reply(tensor_response("[2,3,8,16]", "bfloat16", std::move(body)),
                                expect_of(OutputType::kFloatTensor, 2, 8, 16));
  ASSERT_TRUE(out) << out.error().what();
  EXPECT_EQ(out->type, OutputType::kFloatTensor);
  EXPECT_EQ(out->tensor.shape(), (Shape{2, 3, 8, 16}));
  EXPECT_EQ(out->tensor.dtype(), DType::kBFloat16);
  EXPECT_EQ(out->tensor.data(), original);
  EXPECT_TRUE(out->images.empty());

  auto video = parse_decode_reply(
      tensor_response("[1,3,9,8,8]", "float16", pattern_bytes(3 * 9 * 8 * 8 * 2)),
      expect_of(OutputType::kFloatTensor, 1, 8, 8, 9));
  ASSERT_TRUE(video) << video.error().what();
  EXPECT_EQ(video->tensor.shape(), (Shape{1, 3, 9, 8, 8}));

  auto f32 = parse_decode_reply(tensor_response("[1,3,8,8]", "float32", pattern_bytes(768)),
                                expect_of(OutputType::kFloatTensor, 1, 8, 8));
  ASSERT_TRUE(f32) << f32.error().what();
  EXPECT_EQ(f32->tensor.dtype(), DType::kFloat32);
}

TEST(ParseDecodeReplyFloatErrors, WrongDtypeOrShape) {
  const DecodeExpectation expect = expect_of(OutputType::kFloatTensor, 1, 8, 8);
  EXPECT_THAT(
      parse_decode_reply(tensor_response("[1,3,8,8]", "uint8", pattern_bytes(192)), expect),
      IsError(ErrorCode::kDataLoss, HasSubstr("dtype uint8 but the raw float decoder output")));
  EXPECT_THAT(
      parse_decode_reply(tensor_response("[1,8,8,3]", "float16", pattern_bytes(384)), expect),
      IsError(ErrorCode::kDataLoss,
              HasSubstr("shape [1,8,8,3] but the request expects [1,3,8,8]")));
  EXPECT_THAT(parse_decode_reply(tensor_response("[1,3,8,8]", "float16", pattern_bytes(384)),
                                 expect_of(OutputType::kFloatTensor, 1, 8, 8, 5)),
              IsError(ErrorCode::kDataLoss, HasSubstr("the request expects [1,3,5,8,8]")));
  EXPECT_THAT(
      parse_decode_reply(tensor_response("[1,3,8,8]", "float64", pattern_bytes(768)), expect),
      IsError(ErrorCode::kDataLoss, HasSubstr("unknown dtype 'float64'")));
}

// ---- kMp4

TEST(ParseDecodeReplyMp4, KeepsTheFile) {
  Bytes mp4 = read_test_file("clip_17f_64x64.mp4");
  ASSERT_GT(mp4.size(), 8u);
  const Bytes expected = mp4;
  const std::uint8_t* original = mp4.data();
  auto out = parse_decode_reply(
      make_response(200, {{"Content-Type", "text/plain; charset=utf-8"}}, std::move(mp4)),
      expect_of(OutputType::kMp4, 1, 64, 64, 17));
  ASSERT_TRUE(out) << out.error().what();
  EXPECT_EQ(out->type, OutputType::kMp4);
  EXPECT_EQ(out->encoded, expected);
  EXPECT_EQ(out->encoded.data(), original);
  EXPECT_TRUE(out->images.empty());
}

TEST(ParseDecodeReplyMp4Errors, NoFtypBox) {
  const DecodeExpectation expect = expect_of(OutputType::kMp4, 1, 64, 64, 17);
  EXPECT_THAT(parse_decode_reply(make_response(200, {}, {}), expect),
              IsError(ErrorCode::kDataLoss,
                      HasSubstr("not an MP4 file (no 'ftyp' box at byte 4); it is an empty body")));
  EXPECT_THAT(
      parse_decode_reply(make_response(200, {}, Bytes{0, 0, 0, 0x20, 'f', 't', 'p'}), expect),
      IsError(ErrorCode::kDataLoss, HasSubstr("no 'ftyp' box")));
  EXPECT_THAT(parse_decode_reply(
                  make_response(200, {}, Bytes{0, 0, 0, 0x20, 'm', 'o', 'o', 'v', 0, 0}), expect),
              IsError(ErrorCode::kDataLoss, HasSubstr("no 'ftyp' box")));
  EXPECT_THAT(parse_decode_reply(make_response(200, {}, to_bytes(R"({"error": "x"})")), expect),
              IsError(ErrorCode::kDataLoss, HasSubstr("JSON body")));
}

// ---- Every type

TEST(ParseDecodeReply, NonOkStatusIsTheServerErrorForEveryType) {
  for (OutputType type :
       {OutputType::kImage, OutputType::kUInt8, OutputType::kFloatTensor, OutputType::kMp4}) {
    auto out = parse_decode_reply(
        make_response(400, {{"Content-Type", "application/json"}},
                      to_bytes(R"({"error": "Expected `shape` in query params."})")),
        expect_of(type, 1, 8, 8));
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(out.error().http_status(), 400);
    EXPECT_EQ(out.error().server_message(), "Expected `shape` in query params.");
  }
}

TEST(ParseDecodeReply, UnknownOutputTypeIsInternal) {
  EXPECT_THAT(parse_decode_reply(make_response(200, {}, pattern_bytes(4)),
                                 expect_of(static_cast<OutputType>(77), 1, 8, 8)),
              IsError(ErrorCode::kInternal, HasSubstr("unknown output type")));
}

}  // namespace
}  // namespace rvae::protocol
