// The whole client against an in-process HTTP server: every request form checked on the wire,
// every reply form parsed, every malformed reply turned into the right error.
#include "rvae/client.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "rvae/image.hpp"
#include "rvae/latent_file.hpp"
#include "rvae/tensor.hpp"
#include "support/scripted_server.hpp"
#include "support/test_data.hpp"

namespace rvae {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing_support::gradient_image;
using testing_support::patterned_tensor;
using testing_support::ScriptedServer;

std::string as_string(const Bytes& bytes) {
  return std::string(bytes.begin(), bytes.end());
}
std::string as_string(const void* data, std::size_t size) {
  return std::string(static_cast<const char*>(data), size);
}

void reply_tensor(httplib::Response& response, const std::string& shape, const std::string& dtype,
                  const std::string& body) {
  response.set_header("shape", shape);
  response.set_header("dtype", dtype);
  response.set_content(body, "tensor/binary");
}

class ClientTest : public ::testing::Test {
 protected:
  ClientOptions fast_options() {
    ClientOptions options;
    options.attempt_timeout = std::chrono::seconds(20);
    options.token_from_environment = false;
    options.retry.max_attempts = 1;
    return options;
  }
  ScriptedServer server_;
};

TEST_F(ClientTest, DecodeToJpegSendsTheReferenceRequestAndReturnsTheImage) {
  const Image image = gradient_image(64, 64);
  const Bytes jpeg = encode_jpeg(image, 90).value();
  server_.set_handler([&](const httplib::Request&, httplib::Response& response) {
    response.set_content(as_string(jpeg), "image/jpeg");
  });
  const Tensor latents = patterned_tensor({1, 4, 8, 8}, DType::kFloat16);
  DecodeOptions options;
  options.scaling_factor = 0.18215;

  Client client(fast_options());
  Result<DecodeOutput> output = client.decode(server_.url("/"), latents.view(), options);

  ASSERT_TRUE(output) << output.error().what();
  const auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target,
            "/?image_format=jpg&output_type=pil&partial_postprocess=False&shape=1&shape=4"
            "&shape=8&shape=8&dtype=float16&scaling_factor=0.18215");
  EXPECT_EQ(requests[0].header("Content-Type"), "tensor/binary");
  EXPECT_EQ(requests[0].header("Accept"), "image/jpeg");
  EXPECT_FALSE(requests[0].has_header("Authorization"));
  EXPECT_EQ(requests[0].body, as_string(latents.data(), latents.size_bytes()));

  EXPECT_EQ(output->type, OutputType::kImage);
  ASSERT_EQ(output->images.size(), 1u);
  EXPECT_EQ(output->images[0].width, 64);
  EXPECT_EQ(output->images[0].height, 64);
  EXPECT_EQ(output->images[0].channels, 3);
  EXPECT_EQ(output->encoded, jpeg);
  const Image expected = decode_image(jpeg.data(), jpeg.size()).value();
  EXPECT_EQ(output->images[0].pixels, expected.pixels);
}

TEST_F(ClientTest, DecodeToPngAsksForPngAndKeepsPixelsExact) {
  const Image image = gradient_image(128, 64);
  const Bytes png = encode_png(image).value();
  server_.set_handler([&](const httplib::Request&, httplib::Response& response) {
    response.set_content(as_string(png), "image/png");
  });
  const Tensor latents = patterned_tensor({1, 4, 8, 16}, DType::kFloat32);
  DecodeOptions options;
  options.image_format = ImageFormat::kPng;

  Result<DecodeOutput> output =
      Client(fast_options()).decode(server_.url("/"), latents.view(), options);

  ASSERT_TRUE(output) << output.error().what();
  const auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target,
            "/?image_format=png&output_type=pil&partial_postprocess=False&shape=1&shape=4"
            "&shape=8&shape=16&dtype=float32");
  EXPECT_EQ(requests[0].header("Accept"), "image/png");
  ASSERT_EQ(output->images.size(), 1u);
  EXPECT_EQ(output->images[0].pixels, image.pixels);
}

TEST_F(ClientTest, DecodeToUInt8SplitsTheBatchIntoImages) {
  // Two 16x8 images, pixel value = a function of (item, byte index).
  std::string body(2 * 8 * 16 * 3, '\0');
  for (std::size_t i = 0; i < body.size(); ++i)
    body[i] = static_cast<char>(i % 251);
  server_.set_handler([&](const httplib::Request&, httplib::Response& response) {
    reply_tensor(response, "[2,8,16,3]", "uint8", body);
  });
  const Tensor latents = patterned_tensor({2, 4, 1, 2}, DType::kBFloat16);
  DecodeOptions options;
  options.output_type = OutputType::kUInt8;
  options.scaling_factor = 0.13025;

  Result<DecodeOutput> output =
      Client(fast_options()).decode(server_.url("/"), latents.view(), options);

  ASSERT_TRUE(output) << output.error().what();
  const auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target,
            "/?image_format=jpg&output_type=pt&partial_postprocess=True&shape=2&shape=4"
            "&shape=1&shape=2&dtype=bfloat16&scaling_factor=0.13025");
  EXPECT_EQ(requests[0].header("Accept"), "tensor/binary");
  ASSERT_EQ(output->images.size(), 2u);
  for (std::size_t item = 0; item < 2; ++item) {
    EXPECT_EQ(output->images[item].width, 16);
    EXPECT_EQ(output->images[item].height, 8);
    EXPECT_EQ(as_string(output->images[item].pixels), body.substr(item * 384, 384));
  }
}

TEST_F(ClientTest, DecodeToFloatTensorKeepsTheReplyAsReceived) {
  const Tensor reply = patterned_tensor({1, 3, 16, 8}, DType::kFloat16);
  server_.set_handler([&](const httplib::Request&, httplib::Response& response) {
    reply_tensor(response, "[1, 3, 16, 8]", "float16", as_string(reply.data(), reply.size_bytes()));
  });
  const Tensor latents = patterned_tensor({1, 4, 2, 1}, DType::kFloat16);
  DecodeOptions options;
  options.output_type = OutputType::kFloatTensor;

  Result<DecodeOutput> output =
      Client(fast_options()).decode(server_.url("/"), latents.view(), options);

  ASSERT_TRUE(output) << output.error().what();
  EXPECT_EQ(server_.requests()[0].target,
            "/?image_format=jpg&output_type=pt&partial_postprocess=False&shape=1&shape=4"
            "&shape=2&shape=1&dtype=float16");
  EXPECT_EQ(output->tensor.shape(), (Shape{1, 3, 16, 8}));
  EXPECT_EQ(output->tensor.dtype(), DType::kFloat16);
  EXPECT_EQ(as_string(output->tensor.data(), output->tensor.size_bytes()),
            as_string(reply.data(), reply.size_bytes()));
}

TEST_F(ClientTest, DecodePackedFluxLatentsSendsHeightWidthAndBothFactors) {
  const Bytes png = encode_png(gradient_image(32, 16)).value();
  server_.set_handler([&](const httplib::Request&, httplib::Response& response) {
    response.set_content(as_string(png), "image/png");
  });
  // 32x16 pixels -> (16/16)*(32/16) = 2 packed positions of 4*16 channels.
  const Tensor latents = patterned_tensor({1, 2, 64}, DType::kBFloat16);
  DecodeOptions options;
  options.scaling_factor = 0.3611;
  options.shift_factor = 0.1159;
  options.height = 16;
  options.width = 32;

  Result<DecodeOutput> output =
      Client(fast_options()).decode(server_.url("/"), latents.view(), options);

  ASSERT_TRUE(output) << output.error().what();
  EXPECT_EQ(server_.requests()[0].target,
            "/?image_format=jpg&output_type=pil&partial_postprocess=False&shape=1&shape=2"
            "&shape=64&dtype=bfloat16&scaling_factor=0.3611&shift_factor=0.1159&height=16"
            "&width=32");
  EXPECT_EQ(output->images[0].width, 32);
  EXPECT_EQ(output->images[0].height, 16);
}

TEST_F(ClientTest, DecodeLegacyDoScalingSendsOnlyTheFlag) {
  const Bytes jpeg = encode_jpeg(gradient_image(8, 8), 90).value();
  server_.set_handler([&](const httplib::Request&, httplib::Response& response) {
    response.set_content(as_string(jpeg), "image/jpeg");
  });
  const Tensor latents = patterned_tensor({1, 4, 1, 1}, DType::kFloat16);
  DecodeOptions options;
  options.do_scaling = true;
  ASSERT_TRUE(Client(fast_options()).decode(server_.url("/"), latents.view(), options));
  EXPECT_EQ(server_.requests()[0].target,
            "/?image_format=jpg&output_type=pil&partial_postprocess=False&shape=1&shape=4"
            "&shape=1&shape=1&dtype=float16&do_scaling=True");
}

TEST_F(ClientTest, DecodeVideoToMp4ReturnsTheFile) {
  const Bytes mp4 = read_file(std::string(RVAE_TEST_DATA_DIR) + "/clip_17f_64x64.mp4").value();
  server_.set_handler([&](const httplib::Request&, httplib::Response& response) {
    response.set_content(as_string(mp4), "text/plain");
  });
  const Tensor latents = patterned_tensor({1, 16, 5, 8, 8}, DType::kFloat16);
  DecodeOptions options;
  options.output_type = OutputType::kMp4;
  options.scaling_factor = 0.476986;

  Result<DecodeOutput> output =
      Client(fast_options()).decode(server_.url("/"), latents.view(), options);

  ASSERT_TRUE(output) << output.error().what();
  EXPECT_EQ(server_.requests()[0].target,
            "/?image_format=jpg&output_type=mp4&partial_postprocess=False&shape=1&shape=16"
            "&shape=5&shape=8&shape=8&dtype=float16&scaling_factor=0.476986");
  EXPECT_EQ(server_.requests()[0].header("Accept"), "text/plain");
  EXPECT_EQ(output->type, OutputType::kMp4);
  EXPECT_EQ(output->encoded, mp4);
}

TEST_F(ClientTest, DecodeVideoToUInt8ChecksTheFrameCount) {
  // 3 latent frames -> 4*(3-1)+1 = 9 frames of 8x8.
  const std::string frames(9 * 8 * 8 * 3, '\x40');
  server_.set_handler([&](const httplib::Request&, httplib::Response& response) {
    reply_tensor(response, "[9,8,8,3]", "uint8", frames);
  });
  const Tensor latents = patterned_tensor({1, 16, 3, 1, 1}, DType::kFloat16);
  DecodeOptions options;
  options.output_type = OutputType::kUInt8;
  Client client(fast_options());
  Result<DecodeOutput> output = client.decode(server_.url("/"), latents.view(), options);
  ASSERT_TRUE(output) << output.error().what();
  EXPECT_EQ(output->images.size(), 9u);

  server_.set_handler([&](const httplib::Request&, httplib::Response& response) {
    reply_tensor(response, "[8,8,8,3]", "uint8", frames.substr(0, 8 * 8 * 8 * 3));
  });
  Result<DecodeOutput> short_video = client.decode(server_.url("/"), latents.view(), options);
  ASSERT_FALSE(short_video);
  EXPECT_EQ(short_video.error().code(), ErrorCode::kDataLoss);
}

TEST_F(ClientTest, EncodeImageSendsPngWithoutContentType) {
  const Image image = gradient_image(64, 32);
  const Tensor reply = patterned_tensor({1, 4, 4, 8}, DType::kFloat16);
  server_.set_handler([&](const httplib::Request&, httplib::Response& response) {
    reply_tensor(response, "[1,4,4,8]", "float16", as_string(reply.data(), reply.size_bytes()));
  });
  EncodeOptions options;
  options.scaling_factor = 0.13025;

  Result<EncodeOutput> encoded = Client(fast_options()).encode(server_.url("/"), image, options);
  ASSERT_TRUE(encoded) << encoded.error().what();
  const Tensor* latents = &encoded->latents;

  const auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "/?scaling_factor=0.13025");
  EXPECT_FALSE(requests[0].has_header("Content-Type"));
  EXPECT_EQ(requests[0].header("Accept"), "*/*");
  const std::string& body = requests[0].body;
  const Image sent =
      decode_image(reinterpret_cast<const std::uint8_t*>(body.data()), body.size()).value();
  EXPECT_EQ(sent.pixels, image.pixels);
  EXPECT_EQ(latents->shape(), (Shape{1, 4, 4, 8}));
  EXPECT_EQ(as_string(latents->data(), latents->size_bytes()),
            as_string(reply.data(), reply.size_bytes()));
}

TEST_F(ClientTest, EncodeTensorSendsShapeAndDtype) {
  const Tensor pixels = patterned_tensor({1, 3, 16, 16}, DType::kFloat32);
  const Tensor reply = patterned_tensor({1, 16, 2, 2}, DType::kBFloat16);
  server_.set_handler([&](const httplib::Request&, httplib::Response& response) {
    reply_tensor(response, "[1,16,2,2]", "bfloat16", as_string(reply.data(), reply.size_bytes()));
  });
  EncodeOptions options;
  options.scaling_factor = 0.3611;
  options.shift_factor = 0.1159;
  options.content_type = "tensor/binary";

  Result<EncodeOutput> encoded =
      Client(fast_options()).encode(server_.url("/"), pixels.view(), options);
  ASSERT_TRUE(encoded) << encoded.error().what();
  const Tensor* latents = &encoded->latents;

  const auto requests = server_.requests();
  EXPECT_EQ(requests[0].target,
            "/?shape=1&shape=3&shape=16&shape=16&dtype=float32&scaling_factor=0.3611"
            "&shift_factor=0.1159");
  EXPECT_EQ(requests[0].header("Content-Type"), "tensor/binary");
  EXPECT_EQ(requests[0].body, as_string(pixels.data(), pixels.size_bytes()));
  EXPECT_EQ(latents->dtype(), DType::kBFloat16);
}

TEST_F(ClientTest, TokenIsSentButNeverAppearsInErrors) {
  server_.set_handler([](const httplib::Request& request, httplib::Response& response) {
    response.status = 401;
    // A hostile or buggy server echoing the header back must not make us print it either way
    // the client's own text is concerned; what the server says is reported as the server's.
    response.set_content(R"({"error": "bad credentials"})", "application/json");
    (void)request;
  });
  ClientOptions options = fast_options();
  options.token = "hf_abcdefSECRET";
  const Tensor latents = patterned_tensor({1, 4, 1, 1}, DType::kFloat16);
  Result<DecodeOutput> output = Client(options).decode(server_.url("/"), latents.view());
  ASSERT_FALSE(output);
  EXPECT_EQ(output.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(output.error().http_status(), 401);
  EXPECT_EQ(output.error().server_message(), "bad credentials");
  EXPECT_THAT(output.error().what(), Not(HasSubstr("SECRET")));
  EXPECT_EQ(server_.requests()[0].header("Authorization"), "Bearer hf_abcdefSECRET");
}

TEST_F(ClientTest, LogCallbackReportsEachExchangeWithoutSecrets) {
  std::vector<std::string> lines;
  ClientOptions options = fast_options();
  options.token = "hf_abcdefSECRET";
  options.log = [&](LogLevel, std::string_view line) { lines.emplace_back(line); };
  server_.set_handler(
      [](const httplib::Request&, httplib::Response& response) { response.status = 503; });
  const Tensor latents = patterned_tensor({1, 4, 1, 1}, DType::kFloat16);
  Client client(options);
  ASSERT_FALSE(client.decode(server_.url("/"), latents.view()));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], HasSubstr("HTTP 503"));
  EXPECT_THAT(lines[0], Not(HasSubstr("SECRET")));
  EXPECT_THAT(lines[0], Not(HasSubstr("shape=")));
}

// ---- Malformed replies: each becomes a typed error.

struct BadReply {
  const char* name;
  OutputType output_type;
  std::function<void(httplib::Response&)> reply;
  ErrorCode expected;
};

class MalformedReplyTest : public ::testing::TestWithParam<BadReply> {};

TEST_P(MalformedReplyTest, BecomesTheRightError) {
  ScriptedServer server;
  const BadReply& bad = GetParam();
  server.set_handler(
      [&](const httplib::Request&, httplib::Response& response) { bad.reply(response); });
  const Tensor latents = patterned_tensor({1, 4, 2, 2}, DType::kFloat16);  // 16x16 output
  DecodeOptions options;
  options.output_type = bad.output_type;
  ClientOptions client_options;
  client_options.attempt_timeout = std::chrono::seconds(20);
  client_options.token_from_environment = false;
  client_options.retry.max_attempts = 1;
  Result<DecodeOutput> output =
      Client(client_options).decode(server.url("/"), latents.view(), options);
  ASSERT_FALSE(output) << bad.name;
  EXPECT_EQ(output.error().code(), bad.expected) << bad.name << ": " << output.error().what();
  EXPECT_FALSE(output.error().message().empty());
}

const std::string kGoodPixels(16 * 16 * 3, '\x10');

INSTANTIATE_TEST_SUITE_P(
    Replies, MalformedReplyTest,
    ::testing::Values(
        BadReply{"body_one_byte_short", OutputType::kUInt8,
                 [](httplib::Response& r) {
                   reply_tensor(r, "[1,16,16,3]", "uint8", kGoodPixels.substr(1));
                 },
                 ErrorCode::kDataLoss},
        BadReply{"body_one_byte_long", OutputType::kUInt8,
                 [](httplib::Response& r) {
                   reply_tensor(r, "[1,16,16,3]", "uint8", kGoodPixels + "x");
                 },
                 ErrorCode::kDataLoss},
        BadReply{"shape_disagrees_with_request", OutputType::kUInt8,
                 [](httplib::Response& r) { reply_tensor(r, "[1,16,8,6]", "uint8", kGoodPixels); },
                 ErrorCode::kDataLoss},
        BadReply{"unknown_dtype", OutputType::kUInt8,
                 [](httplib::Response& r) { reply_tensor(r, "[1,16,16,3]", "int7", kGoodPixels); },
                 ErrorCode::kDataLoss},
        BadReply{"float_where_uint8_asked", OutputType::kUInt8,
                 [](httplib::Response& r) {
                   reply_tensor(r, "[1,16,16,3]", "float16", kGoodPixels + kGoodPixels);
                 },
                 ErrorCode::kDataLoss},
        BadReply{"absurd_shape", OutputType::kUInt8,
                 [](httplib::Response& r) {
                   reply_tensor(r, "[4294967296,4294967296,4294967296,3]", "uint8", kGoodPixels);
                 },
                 ErrorCode::kDataLoss},
        BadReply{"shape_not_json", OutputType::kUInt8,
                 [](httplib::Response& r) { reply_tensor(r, "1x16x16x3", "uint8", kGoodPixels); },
                 ErrorCode::kDataLoss},
        BadReply{"no_shape_header", OutputType::kUInt8,
                 [](httplib::Response& r) { r.set_content(kGoodPixels, "tensor/binary"); },
                 ErrorCode::kDataLoss},
        BadReply{
            "html_503", OutputType::kImage,
            [](httplib::Response& r) {
              r.status = 503;
              r.set_content(
                  "<html><head><title>503 Service Temporarily Unavailable</title></head></html>",
                  "text/html");
            },
            ErrorCode::kUnavailable},
        BadReply{"plain_text_404", OutputType::kImage,
                 [](httplib::Response& r) {
                   r.status = 404;
                   r.set_content("Not Found", "text/plain");
                 },
                 ErrorCode::kNotFound},
        BadReply{"json_400", OutputType::kImage,
                 [](httplib::Response& r) {
                   r.status = 400;
                   r.set_content(R"({"error": "Expected `shape` in query params."})",
                                 "application/json");
                 },
                 ErrorCode::kInvalidArgument},
        BadReply{"empty_500", OutputType::kImage, [](httplib::Response& r) { r.status = 500; },
                 ErrorCode::kInternal},
        BadReply{"empty_200_for_image", OutputType::kImage, [](httplib::Response&) {},
                 ErrorCode::kDataLoss},
        BadReply{
            "json_200_for_image", OutputType::kImage,
            [](httplib::Response& r) { r.set_content(R"({"image": "?"})", "application/json"); },
            ErrorCode::kDataLoss},
        BadReply{"image_of_wrong_size", OutputType::kImage,
                 [](httplib::Response& r) {
                   const Bytes png = encode_png(gradient_image(8, 8)).value();
                   r.set_content(as_string(png), "image/png");
                 },
                 ErrorCode::kDataLoss},
        BadReply{"body_cut_short_on_the_wire", OutputType::kUInt8,
                 [](httplib::Response& r) {
                   r.set_header("shape", "[1,16,16,3]");
                   r.set_header("dtype", "uint8");
                   r.set_content_provider(
                       768, "tensor/binary",
                       [](std::size_t offset, std::size_t, httplib::DataSink& sink) {
                         if (offset > 0) return false;
                         sink.write(kGoodPixels.data(), 100);
                         return true;
                       });
                 },
                 ErrorCode::kDataLoss}),
    [](const ::testing::TestParamInfo<BadReply>& param_info) {
      return std::string(param_info.param.name);
    });

TEST_F(ClientTest, Mp4ReplyWithoutFtypIsDataLoss) {
  server_.set_handler([](const httplib::Request&, httplib::Response& response) {
    response.set_content("<html>not a video</html>", "text/plain");
  });
  const Tensor latents = patterned_tensor({1, 16, 2, 1, 1}, DType::kFloat16);
  DecodeOptions options;
  options.output_type = OutputType::kMp4;
  Result<DecodeOutput> output =
      Client(fast_options()).decode(server_.url("/"), latents.view(), options);
  ASSERT_FALSE(output);
  EXPECT_EQ(output.error().code(), ErrorCode::kDataLoss);
}

TEST(ClientNetworkTest, ConnectionRefusedIsUnavailable) {
  const Tensor latents = patterned_tensor({1, 4, 1, 1}, DType::kFloat16);
  const std::string url =
      "http://127.0.0.1:" + std::to_string(testing_support::unused_port()) + "/";
  ClientOptions options;
  options.retry.max_attempts = 1;
  Result<DecodeOutput> output = Client(options).decode(url, latents.view());
  ASSERT_FALSE(output);
  EXPECT_EQ(output.error().code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(output.error().retryable());
}

TEST(ClientNetworkTest, StalledServerEndsInDeadlineExceeded) {
  ScriptedServer server;
  server.set_handler([&](const httplib::Request&, httplib::Response&) { server.stall(); });
  ClientOptions options;
  options.deadline = std::chrono::milliseconds(250);
  const Tensor latents = patterned_tensor({1, 4, 1, 1}, DType::kFloat16);
  Result<DecodeOutput> output = Client(options).decode(server.url("/"), latents.view());
  server.release_stalls();
  ASSERT_FALSE(output);
  EXPECT_EQ(output.error().code(), ErrorCode::kDeadlineExceeded);
}

TEST(ClientNetworkTest, BadInputIsRefusedBeforeAnythingIsSent) {
  ScriptedServer server;
  const Tensor latents = patterned_tensor({1, 4, 1, 1}, DType::kFloat16);
  TensorView lying = latents.view();
  lying.size_bytes -= 1;
  Client client;
  Result<DecodeOutput> output = client.decode(server.url("/"), lying);
  ASSERT_FALSE(output);
  EXPECT_EQ(output.error().code(), ErrorCode::kInvalidArgument);
  Result<DecodeOutput> no_scheme = remote_decode("127.0.0.1:8000/", latents.view());
  ASSERT_FALSE(no_scheme);
  EXPECT_EQ(no_scheme.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(server.requests().empty());
}

}  // namespace
}  // namespace rvae
