#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "protocol/protocol.hpp"
#include "protocol_test_util.hpp"

namespace rvae::protocol {
namespace {

using test::encode_request_for;
using test::header_lines;
using test::pattern_image;
using ::testing::HasSubstr;
using testing_support::IsError;

constexpr const char* kSdEncode =
    "https://qc6479g0aac6qwy9.us-east-1.aws.endpoints.huggingface.cloud/";

bool has_png_magic(const Bytes& bytes) {
  static const std::uint8_t kMagic[8] = {0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A};
  return bytes.size() >= 8 && std::memcmp(bytes.data(), kMagic, 8) == 0;
}

TEST(BuildEncodeImageRequest, ReproducesTheReferenceClient) {
  const Image image = pattern_image(24, 16);
  auto request = encode_request_for(kSdEncode, image, {});
  ASSERT_TRUE(request) << request.error().what();
  // No factors: no query at all.
  EXPECT_EQ(request->url, kSdEncode);
  EXPECT_EQ(request->http.method, "POST");
  // Exactly one header; in particular no Content-Type.
  EXPECT_EQ(header_lines(request->http.headers), "Accept: */*\n");
  EXPECT_EQ(request->http.header("Content-Type"), nullptr);
  // One owned piece: the PNG the request keeps.
  const http::BodyPiece png = test::only_piece(request->http);
  ASSERT_NE(png.data, nullptr);
  ASSERT_TRUE(has_png_magic(Bytes(png.data, png.data + png.size)));

  auto decoded =
      decode_image(test::only_piece(request->http).data, test::only_piece(request->http).size);
  ASSERT_TRUE(decoded) << decoded.error().what();
  EXPECT_EQ(decoded->width, 24);
  EXPECT_EQ(decoded->height, 16);
  EXPECT_EQ(decoded->channels, 3);
  EXPECT_EQ(decoded->pixels, image.pixels);

  EXPECT_EQ(request->expect.batch, 1);
  EXPECT_EQ(request->expect.latent_height, 2);
  EXPECT_EQ(request->expect.latent_width, 3);
}

TEST(BuildEncodeImageRequest, FactorsAsQuery) {
  const Image image = pattern_image(8, 8);
  EncodeOptions options;
  options.scaling_factor = 0.18215;
  auto request = encode_request_for(kSdEncode, image, options);
  ASSERT_TRUE(request) << request.error().what();
  EXPECT_EQ(request->url, std::string(kSdEncode) + "?scaling_factor=0.18215");

  options.shift_factor = 0.1159;
  request = encode_request_for(kSdEncode, image, options);
  ASSERT_TRUE(request) << request.error().what();
  EXPECT_EQ(request->url, std::string(kSdEncode) + "?scaling_factor=0.18215&shift_factor=0.1159");

  options.scaling_factor.reset();
  request = encode_request_for(kSdEncode, image, options);
  ASSERT_TRUE(request) << request.error().what();
  EXPECT_EQ(request->url, std::string(kSdEncode) + "?shift_factor=0.1159");

  request = encode_request_for("http://127.0.0.1:1/encode?k=v", image, options);
  ASSERT_TRUE(request) << request.error().what();
  EXPECT_EQ(request->url, "http://127.0.0.1:1/encode?k=v&shift_factor=0.1159");
}

TEST(BuildEncodeImageRequest, ContentTypeOnlyWhenAsked) {
  const Image image = pattern_image(8, 16);
  EncodeOptions options;
  options.content_type = "image/png";
  auto request = encode_request_for(kSdEncode, image, options);
  ASSERT_TRUE(request) << request.error().what();
  EXPECT_EQ(header_lines(request->http.headers), "Content-Type: image/png\nAccept: */*\n");
  EXPECT_EQ(request->expect.latent_height, 2);
  EXPECT_EQ(request->expect.latent_width, 1);
}

TEST(BuildEncodeImageRequest, AlphaIsDropped) {
  const Image rgba = pattern_image(8, 8, 4, 7);
  auto request = encode_request_for(kSdEncode, rgba, {});
  ASSERT_TRUE(request) << request.error().what();
  auto decoded =
      decode_image(test::only_piece(request->http).data, test::only_piece(request->http).size);
  ASSERT_TRUE(decoded) << decoded.error().what();
  ASSERT_EQ(decoded->channels, 3);
  ASSERT_EQ(decoded->pixels.size(), 8u * 8u * 3u);
  for (std::size_t p = 0; p < 64; ++p) {
    for (std::size_t c = 0; c < 3; ++c) {
      ASSERT_EQ(decoded->pixels[p * 3 + c], rgba.pixels[p * 4 + c]) << "pixel " << p;
    }
  }
}

TEST(BuildEncodeImageRequestErrors, InvalidInputs) {
  const Image image = pattern_image(8, 8);
  EXPECT_THAT(encode_request_for("", image, {}),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("endpoint")));
  EXPECT_THAT(encode_request_for("file:///x", image, {}),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("http:// or https://")));

  EXPECT_THAT(encode_request_for(kSdEncode, pattern_image(12, 8), {}),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("image size 12x8")));
  EXPECT_THAT(encode_request_for(kSdEncode, pattern_image(8, 20), {}),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("image size 8x20")));

  Image bad = pattern_image(8, 8);
  bad.pixels.pop_back();
  EXPECT_THAT(encode_request_for(kSdEncode, bad, {}),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("image")));
  Image two_channels = pattern_image(8, 8, 2);
  EXPECT_THAT(encode_request_for(kSdEncode, two_channels, {}),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("image")));

  EncodeOptions options;
  options.scaling_factor = 0.0;
  EXPECT_THAT(encode_request_for(kSdEncode, image, options),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("scaling_factor must not be 0")));
  options.scaling_factor = std::numeric_limits<double>::infinity();
  EXPECT_THAT(encode_request_for(kSdEncode, image, options),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("scaling_factor must be finite")));
  options = {};
  options.shift_factor = std::nan("");
  EXPECT_THAT(encode_request_for(kSdEncode, image, options),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("shift_factor must be finite")));
  options = {};
  options.content_type = "";
  EXPECT_THAT(encode_request_for(kSdEncode, image, options),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("content_type is empty")));
  options.content_type = "image/png\r\nX-Evil: 1";
  EXPECT_THAT(
      encode_request_for(kSdEncode, image, options),
      IsError(ErrorCode::kInvalidArgument, HasSubstr("content_type contains a control character")));
}

struct Pixels {
  Pixels(Shape s, DType t, std::size_t element_size) : shape(std::move(s)), dtype(t) {
    std::size_t n = element_size;
    for (std::int64_t d : shape)
      n *= static_cast<std::size_t>(d);
    bytes = test::pattern_bytes(n);
  }
  TensorView view() const { return TensorView{bytes.data(), bytes.size(), shape, dtype}; }
  Shape shape;
  DType dtype;
  Bytes bytes;
};

TEST(BuildEncodeTensorRequest, ShapeDtypeThenFactorsAndBorrowedBody) {
  const Pixels pixels({2, 3, 16, 24}, DType::kFloat32, 4);
  EncodeOptions options;
  options.scaling_factor = 0.3611;
  options.shift_factor = 0.1159;
  auto request = encode_request_for(kSdEncode, pixels.view(), options);
  ASSERT_TRUE(request) << request.error().what();
  EXPECT_EQ(request->url, std::string(kSdEncode) +
                              "?shape=2&shape=3&shape=16&shape=24&dtype=float32"
                              "&scaling_factor=0.3611&shift_factor=0.1159");
  EXPECT_EQ(header_lines(request->http.headers), "Accept: */*\n");
  EXPECT_EQ(request->http.body.pieces().size(), 1u);
  EXPECT_EQ(test::only_piece(request->http).data, pixels.bytes.data());
  EXPECT_EQ(test::only_piece(request->http).size, pixels.bytes.size());
  EXPECT_EQ(request->expect.batch, 2);
  EXPECT_EQ(request->expect.latent_height, 2);
  EXPECT_EQ(request->expect.latent_width, 3);
}

TEST(BuildEncodeTensorRequest, HalfFloatsAndContentType) {
  const Pixels pixels({1, 3, 8, 8}, DType::kBFloat16, 2);
  EncodeOptions options;
  options.content_type = "tensor/binary";
  auto request = encode_request_for(kSdEncode, pixels.view(), options);
  ASSERT_TRUE(request) << request.error().what();
  EXPECT_EQ(request->url,
            std::string(kSdEncode) + "?shape=1&shape=3&shape=8&shape=8&dtype=bfloat16");
  EXPECT_EQ(header_lines(request->http.headers), "Content-Type: tensor/binary\nAccept: */*\n");

  const Pixels half({1, 3, 8, 8}, DType::kFloat16, 2);
  request = encode_request_for(kSdEncode, half.view(), {});
  ASSERT_TRUE(request) << request.error().what();
  EXPECT_THAT(request->url, ::testing::EndsWith("&dtype=float16"));
}

TEST(BuildEncodeTensorRequestErrors, InvalidInputs) {
  const Pixels good({1, 3, 8, 8}, DType::kFloat32, 4);
  EXPECT_THAT(encode_request_for("https//h", good.view(), {}),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("http:// or https://")));
  TensorView view = good.view();
  view.size_bytes = 4;
  EXPECT_THAT(encode_request_for(kSdEncode, view, {}),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("pixels")));

  const Pixels bytes({1, 3, 8, 8}, DType::kUInt8, 1);
  EXPECT_THAT(encode_request_for(kSdEncode, bytes.view(), {}),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("got uint8")));
  const Pixels rank3({3, 8, 8}, DType::kFloat32, 4);
  EXPECT_THAT(encode_request_for(kSdEncode, rank3.view(), {}),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("[B,3,H,W]; got [3,8,8]")));
  const Pixels four_channels({1, 4, 8, 8}, DType::kFloat32, 4);
  EXPECT_THAT(encode_request_for(kSdEncode, four_channels.view(), {}),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("[B,3,H,W]; got [1,4,8,8]")));
  const Pixels odd_h({1, 3, 12, 8}, DType::kFloat32, 4);
  EXPECT_THAT(encode_request_for(kSdEncode, odd_h.view(), {}),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("multiples of 8")));
  const Pixels odd_w({1, 3, 8, 4}, DType::kFloat32, 4);
  EXPECT_THAT(encode_request_for(kSdEncode, odd_w.view(), {}),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("multiples of 8")));
  EncodeOptions options;
  options.scaling_factor = -std::numeric_limits<double>::infinity();
  EXPECT_THAT(encode_request_for(kSdEncode, good.view(), options),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("scaling_factor must be finite")));
}

}  // namespace
}  // namespace rvae::protocol
