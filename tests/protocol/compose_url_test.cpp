// The protocol gives a query for any endpoint; the URL is composed once the replica is known.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocol/protocol.hpp"

namespace rvae::protocol {
namespace {

TEST(ComposeUrlTest, StartsOrContinuesTheEndpointsQuery) {
  EXPECT_EQ(compose_url("http://h/decode", "a=1&b=2"), "http://h/decode?a=1&b=2");
  EXPECT_EQ(compose_url("http://h/decode?k=v", "a=1"), "http://h/decode?k=v&a=1");
  EXPECT_EQ(compose_url("http://h/?", "a=1"), "http://h/?a=1");
  EXPECT_EQ(compose_url("http://h/?k=v&", "a=1"), "http://h/?k=v&a=1");
  EXPECT_EQ(compose_url("http://h/decode", ""), "http://h/decode");
  EXPECT_EQ(compose_url("http://h/decode?k=v", ""), "http://h/decode?k=v");
}

TEST(ComposeUrlTest, RequestsCarryAQueryAndNoUrlOfTheirOwn) {
  const std::vector<float> values(8, 0.5f);
  TensorView latents{values.data(), values.size() * sizeof(float), {1, 4, 2, 1}, DType::kFloat32};
  DecodeOptions options;
  options.output_type = OutputType::kUInt8;
  Result<DecodeRequest> request = build_decode_request(latents, options);
  ASSERT_TRUE(request) << request.error().what();
  EXPECT_EQ(request->query,
            "image_format=jpg&output_type=pt&partial_postprocess=True&shape=1&shape=4&shape=2"
            "&shape=1&dtype=float32");
  // The same request composed for two replicas differs only in where it goes.
  EXPECT_EQ(compose_url("http://a/x", request->query), "http://a/x?" + request->query);
  EXPECT_EQ(compose_url("http://b/y?t=1", request->query), "http://b/y?t=1&" + request->query);
}

TEST(ComposeUrlTest, EncodeWithoutFactorsHasAnEmptyQuery) {
  Image image;
  image.width = 8;
  image.height = 8;
  image.channels = 3;
  image.pixels.assign(8 * 8 * 3, 100);
  Result<EncodeRequest> request = build_encode_request(image, {});
  ASSERT_TRUE(request) << request.error().what();
  EXPECT_EQ(request->query, "");
  EXPECT_EQ(compose_url("http://h/encode", request->query), "http://h/encode");
}

TEST(ScaleUpTimeoutTest, IsOneHeaderInWholeSeconds) {
  HttpRequest request;
  request.headers = {{"Accept", "*/*"}};
  add_scale_up_timeout(request, std::chrono::seconds(300));
  ASSERT_NE(request.header("X-Scale-Up-Timeout"), nullptr);
  EXPECT_EQ(*request.header("X-Scale-Up-Timeout"), "300");
  EXPECT_EQ(request.headers.size(), 2u);
}

}  // namespace
}  // namespace rvae::protocol
