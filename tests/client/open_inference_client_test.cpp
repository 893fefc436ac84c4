// The public Client over the Open Inference Protocol against the reference endpoint (which
// answers both protocols on one port): each model and output form gives what the Hugging Face
// protocol gives for the same latents; per-channel models, packed latents, video, tiling past
// the cap, datatypes, replicas whose model is loading, a reloaded model, errors.
#include <cmath>
#include <cstdint>
#include <future>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "rvae/rvae.hpp"
#include "rvae/testing/reference_endpoint.hpp"
#include "support/result_matchers.hpp"
#include "support/test_data.hpp"

namespace rvae {
namespace {

using reference::ReferenceEndpoint;
using reference::ReferenceEndpointOptions;
using ::testing::HasSubstr;
using testing_support::IsError;
using testing_support::IsOk;

ClientOptions quiet_options() {
  ClientOptions options;
  options.token_from_environment = false;
  options.retry.initial_backoff = std::chrono::milliseconds(1);
  options.retry.max_backoff = std::chrono::milliseconds(2);
  return options;
}

struct Server {
  explicit Server(ReferenceEndpointOptions options = {}) : endpoint(options) {
    EXPECT_TRUE(endpoint.start());
  }
  std::string model(const std::string& name) const { return endpoint.url("/v2/models/" + name); }
  std::string hf(const std::string& preset, const std::string& role) const {
    return endpoint.url("/" + preset + "/" + role + "/");
  }
  ReferenceEndpoint endpoint;
};

// Latents in [-2, 2), a smooth pattern so neighbouring pixels differ.
Tensor latents_of(const Shape& shape, DType dtype = DType::kFloat32) {
  std::size_t count = 1;
  for (std::int64_t d : shape)
    count *= static_cast<std::size_t>(d);
  std::vector<float> values(count);
  for (std::size_t i = 0; i < count; ++i)
    values[i] = std::sin(static_cast<float>(i) * 0.37f) * 2.0f;
  Tensor floats = Tensor::from_floats(shape, values).value();
  return dtype == DType::kFloat32 ? std::move(floats) : convert(floats.view(), dtype).value();
}

// Every pixel of `a` within `tolerance` levels of `b`'s.
void expect_images_near(const std::vector<Image>& a, const std::vector<Image>& b, int tolerance) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].width, b[i].width);
    ASSERT_EQ(a[i].height, b[i].height);
    ASSERT_EQ(a[i].pixels.size(), b[i].pixels.size());
    int worst = 0;
    for (std::size_t p = 0; p < a[i].pixels.size(); ++p)
      worst = std::max(worst, std::abs(int(a[i].pixels[p]) - int(b[i].pixels[p])));
    EXPECT_LE(worst, tolerance) << "image " << i;
  }
}

DecodeOptions uint8_of(const ModelPreset& preset) {
  DecodeOptions options = preset.decode_options();
  options.output_type = OutputType::kUInt8;
  return options;
}

const ModelPreset& preset(const std::string& name) {
  static const PresetRegistry presets = PresetRegistry::builtin();
  return *presets.find(name);
}

TEST(OpenInferenceClient, EveryImageModelDecodesAsOverTheHuggingFaceProtocol) {
  Server server;
  Client client(quiet_options());
  for (const char* name : {"sd15", "sdxl"}) {
    const Tensor latents = latents_of({2, 4, 6, 5}, DType::kFloat16);
    Result<DecodeOutput> oip = client.decode(server.model(std::string(name) + "_decoder"),
                                             latents.view(), uint8_of(preset(name)));
    Result<DecodeOutput> hf =
        client.decode(server.hf(name, "decode"), latents.view(), uint8_of(preset(name)));
    ASSERT_THAT(oip, IsOk()) << name;
    ASSERT_THAT(hf, IsOk()) << name;
    ASSERT_EQ(oip->images.size(), 2u);
    EXPECT_EQ(oip->images[0].width, 40);
    EXPECT_EQ(oip->images[0].height, 48);
    // The latents travel as float16 raw latents here, scaled float16 there: a level apart at most.
    expect_images_near(oip->images, hf->images, 1);
  }
}

TEST(OpenInferenceClient, FloatPixelsImagesAndEveryInputDatatype) {
  for (DType datatype : {DType::kFloat16, DType::kFloat32, DType::kBFloat16}) {
    ReferenceEndpointOptions options;
    options.oip_input_datatype = datatype;
    Server server(options);
    Client client(quiet_options());
    const Tensor latents = latents_of({1, 4, 8, 8});
    DecodeOptions tensor = preset("sdxl").decode_options();
    tensor.output_type = OutputType::kFloatTensor;
    Result<DecodeOutput> floats =
        client.decode(server.model("sdxl_decoder"), latents.view(), tensor);
    ASSERT_THAT(floats, IsOk()) << dtype_name(datatype);
    EXPECT_EQ(floats->tensor.shape(), (Shape{1, 3, 64, 64}));
    EXPECT_EQ(floats->tensor.dtype(), DType::kFloat32);
    for (float value : floats->tensor.to_floats()) {
      ASSERT_GE(value, -1.0f);
      ASSERT_LE(value, 1.0f);
    }
    DecodeOptions png = preset("sdxl").decode_options();
    png.image_format = ImageFormat::kPng;
    Result<DecodeOutput> image = client.decode(server.model("sdxl_decoder"), latents.view(), png);
    ASSERT_THAT(image, IsOk());
    ASSERT_EQ(image->images.size(), 1u);
    Result<Image> decoded = decode_image(image->encoded.data(), image->encoded.size());
    ASSERT_THAT(decoded, IsOk());
    EXPECT_EQ(decoded->pixels, image->images[0].pixels);  // PNG is lossless
    Result<DecodeOutput> uint8 =
        client.decode(server.model("sdxl_decoder"), latents.view(), uint8_of(preset("sdxl")));
    ASSERT_THAT(uint8, IsOk());
    EXPECT_EQ(uint8->images[0].pixels, image->images[0].pixels);
  }
}

TEST(OpenInferenceClient, ModelsWithUint8OrFloat16OutputsGiveTheSameImages) {
  ReferenceEndpointOptions plain;
  Server float32(plain);
  ReferenceEndpointOptions uint8_options;
  uint8_options.oip_decoder_output_datatype = DType::kUInt8;
  Server uint8(uint8_options);
  ReferenceEndpointOptions half_options;
  half_options.oip_decoder_output_datatype = DType::kFloat16;
  Server half(half_options);
  Client client(quiet_options());
  const Tensor latents = latents_of({1, 4, 6, 6});
  Result<DecodeOutput> from_float =
      client.decode(float32.model("sdxl_decoder"), latents.view(), uint8_of(preset("sdxl")));
  Result<DecodeOutput> from_uint8 =
      client.decode(uint8.model("sdxl_decoder"), latents.view(), uint8_of(preset("sdxl")));
  Result<DecodeOutput> from_half =
      client.decode(half.model("sdxl_decoder"), latents.view(), uint8_of(preset("sdxl")));
  ASSERT_THAT(from_float, IsOk());
  ASSERT_THAT(from_uint8, IsOk());
  ASSERT_THAT(from_half, IsOk());
  expect_images_near(from_uint8->images, from_float->images, 0);
  expect_images_near(from_half->images, from_float->images, 1);
  // A float tensor cannot come out of a model that post-processes to uint8.
  DecodeOptions tensor = preset("sdxl").decode_options();
  tensor.output_type = OutputType::kFloatTensor;
  EXPECT_THAT(client.decode(uint8.model("sdxl_decoder"), latents.view(), tensor),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("UINT8")));
}

TEST(OpenInferenceClient, PackedFluxLatentsAreUnpackedHere) {
  Server server;
  Client client(quiet_options());
  const Tensor unpacked = latents_of({1, 16, 8, 6});
  const Tensor packed = pack_latents(unpacked.view()).value();
  DecodeOptions options = uint8_of(preset("flux"));
  options.height = 64;
  options.width = 48;
  Result<DecodeOutput> oip = client.decode(server.model("flux_decoder"), packed.view(), options);
  Result<DecodeOutput> hf = client.decode(server.hf("flux", "decode"), packed.view(), options);
  ASSERT_THAT(oip, IsOk());
  ASSERT_THAT(hf, IsOk());
  expect_images_near(oip->images, hf->images, 1);
  // The request carried the unpacked 4-D latents.
  EXPECT_GE(server.endpoint.requests_for("/v2/models/flux_decoder/infer"), 1u);
}

TEST(OpenInferenceClient, PerChannelModelsDecodeAndEncodeAlikeOverBothProtocols) {
  Server server;
  Client client(quiet_options());
  // wan2.1: video latents [1, 16, 3, 4, 5] -> 9 frames of 32x40.
  const Tensor video = latents_of({1, 16, 3, 4, 5}, DType::kBFloat16);
  Result<DecodeOutput> oip =
      client.decode(server.model("wan2.1_decoder"), video.view(), uint8_of(preset("wan2.1")));
  Result<DecodeOutput> hf =
      client.decode(server.hf("wan2.1", "decode"), video.view(), uint8_of(preset("wan2.1")));
  ASSERT_THAT(oip, IsOk());
  ASSERT_THAT(hf, IsOk());
  ASSERT_EQ(oip->images.size(), 9u);
  expect_images_near(oip->images, hf->images, 1);

  // qwen-image: packed latents [1, (H/16)(W/16), 64] -> one image.
  const Tensor unpacked = latents_of({1, 16, 4, 6});
  const Tensor packed = pack_latents(unpacked.view()).value();
  DecodeOptions qwen = uint8_of(preset("qwen-image"));
  qwen.height = 32;
  qwen.width = 48;
  Result<DecodeOutput> qwen_oip =
      client.decode(server.model("qwen-image_decoder"), packed.view(), qwen);
  Result<DecodeOutput> qwen_hf =
      client.decode(server.hf("qwen-image", "decode"), packed.view(), qwen);
  ASSERT_THAT(qwen_oip, IsOk());
  ASSERT_THAT(qwen_hf, IsOk());
  ASSERT_EQ(qwen_oip->images.size(), 1u);
  expect_images_near(qwen_oip->images, qwen_hf->images, 1);
  // Its VAE's own layout, [1, 16, 1, h, w], gives the same image as a PNG on both protocols.
  const Tensor five_d = latents_of({1, 16, 1, 4, 6});
  DecodeOptions png = preset("qwen-image").decode_options();
  png.image_format = ImageFormat::kPng;
  Result<DecodeOutput> png_oip =
      client.decode(server.model("qwen-image_decoder"), five_d.view(), png);
  Result<DecodeOutput> png_hf =
      client.decode(server.hf("qwen-image", "decode"), five_d.view(), png);
  ASSERT_THAT(png_oip, IsOk());
  ASSERT_THAT(png_hf, IsOk());
  ASSERT_EQ(png_hf->images.size(), 1u);
  EXPECT_EQ(png_hf->images[0].width, 48);
  expect_images_near(png_oip->images, png_hf->images, 1);

  // Encode an image with qwen-image over the Open Inference Protocol, decode it back: the block
  // means come back (PROTOCOL.md §6, §9), to the quantisation of a few levels.
  const Image image = testing_support::smooth_image(48, 32);
  Result<EncodeOutput> z = client.encode(server.model("qwen-image_encoder"), image,
                                         preset("qwen-image").encode_options());
  ASSERT_THAT(z, IsOk());
  EXPECT_EQ(z->latents.dtype(), DType::kFloat32);
  ASSERT_EQ(z->latents.shape().size(), 5u);
  EXPECT_EQ(z->latents.shape(), (Shape{1, 16, 1, 4, 6}));
  Result<DecodeOutput> back = client.decode(server.model("qwen-image_decoder"), z->latents.view(),
                                            uint8_of(preset("qwen-image")));
  ASSERT_THAT(back, IsOk());
  ASSERT_EQ(back->images.size(), 1u);
  // Each 8x8 block's mean survives the round trip.
  const Image& out = back->images[0];
  int worst = 0;
  for (int by = 0; by < 4; ++by) {
    for (int bx = 0; bx < 6; ++bx) {
      for (int c = 0; c < 3; ++c) {
        double sum = 0;
        for (int y = 0; y < 8; ++y)
          for (int x = 0; x < 8; ++x)
            sum += image.pixels[((by * 8 + y) * 48 + bx * 8 + x) * 3 + c];
        const int mean = static_cast<int>(std::lround(sum / 64));
        worst = std::max(worst, std::abs(mean - int(out.pixels[((by * 8) * 48 + bx * 8) * 3 + c])));
      }
    }
  }
  EXPECT_LE(worst, 3);

  // wan2.1 encodes an image as a one-frame video, on both protocols alike.
  Result<EncodeOutput> wan_oip =
      client.encode(server.model("wan2.1_encoder"), image, preset("wan2.1").encode_options());
  Result<EncodeOutput> wan_hf =
      client.encode(server.hf("wan2.1", "encode"), image, preset("wan2.1").encode_options());
  ASSERT_THAT(wan_oip, IsOk());
  ASSERT_THAT(wan_hf, IsOk());
  EXPECT_EQ(wan_oip->latents.shape(), (Shape{1, 16, 1, 4, 6}));
  ASSERT_EQ(wan_hf->latents.shape(), wan_oip->latents.shape());
  const std::vector<float> a = wan_oip->latents.to_floats();
  const std::vector<float> b = wan_hf->latents.to_floats();
  for (std::size_t i = 0; i < a.size(); ++i)
    ASSERT_NEAR(a[i], b[i], 0.03f + 0.01f * std::abs(b[i])) << i;
}

TEST(OpenInferenceClient, VideoDecodesToEveryFrame) {
  Server server;
  Client client(quiet_options());
  const Tensor latents = latents_of({1, 16, 3, 4, 4}, DType::kFloat16);
  Result<DecodeOutput> oip = client.decode(server.model("hunyuan-video_decoder"), latents.view(),
                                           uint8_of(preset("hunyuan-video")));
  Result<DecodeOutput> hf = client.decode(server.hf("hunyuan-video", "decode"), latents.view(),
                                          uint8_of(preset("hunyuan-video")));
  ASSERT_THAT(oip, IsOk());
  ASSERT_THAT(hf, IsOk());
  EXPECT_EQ(oip->images.size(), 9u);
  expect_images_near(oip->images, hf->images, 1);
  DecodeOptions mp4 = preset("hunyuan-video").decode_options();
  mp4.output_type = OutputType::kMp4;
  EXPECT_THAT(client.decode(server.model("hunyuan-video_decoder"), latents.view(), mp4),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("MP4")));
}

TEST(OpenInferenceClient, EncodeGivesTheHuggingFaceProtocolsLatents) {
  Server server;
  Client client(quiet_options());
  const Image image = testing_support::smooth_image(64, 48);
  for (const char* name : {"sd15", "sdxl", "flux"}) {
    Result<EncodeOutput> oip = client.encode(server.model(std::string(name) + "_encoder"), image,
                                             preset(name).encode_options());
    Result<EncodeOutput> hf =
        client.encode(server.hf(name, "encode"), image, preset(name).encode_options());
    ASSERT_THAT(oip, IsOk()) << name;
    ASSERT_THAT(hf, IsOk()) << name;
    ASSERT_EQ(oip->latents.shape(), hf->latents.shape()) << name;
    const std::vector<float> a = oip->latents.to_floats();
    const std::vector<float> b = hf->latents.to_floats();
    for (std::size_t i = 0; i < a.size(); ++i)
      ASSERT_NEAR(a[i], b[i], 0.02f + 0.01f * std::abs(b[i])) << name << " " << i;
  }
}

TEST(OpenInferenceClient, TilesPastTheCapLikeTheOtherProtocol) {
  ReferenceEndpointOptions capped;
  capped.max_image_side = 64;
  capped.spatial_context = true;
  Server server(capped);
  Client client(quiet_options());
  const Tensor latents = latents_of({1, 4, 16, 24});
  DecodeOptions options = uint8_of(preset("sdxl"));
  options.tiling.mode = TileMode::kOff;
  EXPECT_THAT(client.decode(server.model("sdxl_decoder"), latents.view(), options),
              IsError(ErrorCode::kInvalidArgument));
  options.tiling.mode = TileMode::kAuto;
  options.tiling.max_image_side = 64;
  options.tiling.overlap = 2;
  Result<DecodeOutput> oip = client.decode(server.model("sdxl_decoder"), latents.view(), options);
  Result<DecodeOutput> hf = client.decode(server.hf("sdxl", "decode"), latents.view(), options);
  ASSERT_THAT(oip, IsOk());
  ASSERT_THAT(hf, IsOk());
  EXPECT_EQ(oip->images[0].width, 192);
  EXPECT_EQ(oip->images[0].height, 128);
  expect_images_near(oip->images, hf->images, 1);
  EXPECT_GT(server.endpoint.requests_for("/v2/models/sdxl_decoder/infer"), 1u);
}

TEST(OpenInferenceClient, AReplicaWithTheModelLoadingIsSkipped) {
  Server loading;
  Server ready;
  loading.endpoint.set_model_loading("sdxl_decoder", true);
  Client client(quiet_options());
  const Tensor latents = latents_of({1, 4, 4, 4});
  const Endpoint endpoint({loading.model("sdxl_decoder"), ready.model("sdxl_decoder")});
  for (int i = 0; i < 3; ++i)
    ASSERT_THAT(client.decode(endpoint, latents.view(), uint8_of(preset("sdxl"))), IsOk());
  EXPECT_EQ(ready.endpoint.requests_for("/v2/models/sdxl_decoder/infer"), 3u);
  Result<EndpointStatus> status = client.check(endpoint);
  ASSERT_THAT(status, IsOk());
  EXPECT_FALSE(status->replicas[0].ready);
  EXPECT_TRUE(status->replicas[1].ready);
  ASSERT_TRUE(status->replicas[1].model.has_value());
  EXPECT_EQ(status->replicas[1].model->name, "sdxl_decoder");
  ready.endpoint.set_model_loading("sdxl_decoder", true);
  Client fresh(quiet_options());
  EXPECT_THAT(fresh.decode(endpoint, latents.view(), uint8_of(preset("sdxl"))),
              IsError(ErrorCode::kNotFound));
}

TEST(OpenInferenceClient, AReloadedModelIsFollowedToItsNewDatatype) {
  Server server;
  Client client(quiet_options());
  const Tensor latents = latents_of({1, 4, 4, 4});
  ASSERT_THAT(client.decode(server.model("sdxl_decoder"), latents.view(), uint8_of(preset("sdxl"))),
              IsOk());
  ASSERT_THAT(server.endpoint.set_input_datatype(DType::kBFloat16), IsOk());
  ASSERT_THAT(client.decode(server.model("sdxl_decoder"), latents.view(), uint8_of(preset("sdxl"))),
              IsOk());
  EXPECT_EQ(server.endpoint.requests_for("/v2/models/sdxl_decoder"), 2u);
  EXPECT_EQ(server.endpoint.requests_for("/v2/models/sdxl_decoder/infer"), 3u);
}

TEST(OpenInferenceClient, TransientFailuresAreRetriedAndRefusalsCarryTheServersMessage) {
  Server server;
  Client client(quiet_options());
  const Tensor latents = latents_of({1, 4, 4, 4});
  ASSERT_THAT(client.decode(server.model("sdxl_decoder"), latents.view(), uint8_of(preset("sdxl"))),
              IsOk());
  server.endpoint.fail_next(2, 503);
  Result<DecodeOutput> retried =
      client.decode(server.model("sdxl_decoder"), latents.view(), uint8_of(preset("sdxl")));
  ASSERT_THAT(retried, IsOk());
  EXPECT_EQ(retried->timings.attempts, 3);
  server.endpoint.fail_next(1, 400, {}, "the model is unhappy");
  Result<DecodeOutput> refused =
      client.decode(server.model("sdxl_decoder"), latents.view(), uint8_of(preset("sdxl")));
  ASSERT_THAT(refused, IsError(ErrorCode::kInvalidArgument));
  EXPECT_THAT(refused.error().server_message(), HasSubstr("the model is unhappy"));
  // Channels the model does not take are refused before sending, naming what it takes.
  const Tensor sixteen = latents_of({1, 16, 4, 4});
  EXPECT_THAT(client.decode(server.model("sdxl_decoder"), sixteen.view(), uint8_of(preset("sdxl"))),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("4")));
  EXPECT_THAT(
      client.decode(server.model("no_such_model"), latents.view(), uint8_of(preset("sdxl"))),
      IsError(ErrorCode::kNotFound));
}

TEST(OpenInferenceClient, AsyncBatchesAndCallbacksWorkAsOverTheOtherProtocol) {
  Server server;
  Client client(quiet_options());
  std::vector<Tensor> latents;
  std::vector<TensorView> views;
  for (int i = 0; i < 6; ++i)
    latents.push_back(latents_of({1, 4, 4 + i, 4}));
  for (const Tensor& tensor : latents)
    views.push_back(tensor.view());
  BatchOptions batch;
  batch.max_in_flight = 3;
  std::vector<Result<DecodeOutput>> results =
      client.decode_batch(server.model("sdxl_decoder"), views, uint8_of(preset("sdxl")), batch);
  ASSERT_EQ(results.size(), 6u);
  for (std::size_t i = 0; i < results.size(); ++i) {
    ASSERT_THAT(results[i], IsOk()) << i;
    EXPECT_EQ(results[i]->images[0].height, static_cast<int>(8 * (4 + i)));
  }
  EXPECT_EQ(server.endpoint.requests_for("/v2/models/sdxl_decoder"), 1u);
  std::promise<Result<DecodeOutput>> done;
  client.decode_async(server.model("sdxl_decoder"), views[0], uint8_of(preset("sdxl")))
      .then([&](Result<DecodeOutput> result) { done.set_value(std::move(result)); });
  EXPECT_THAT(done.get_future().get(), IsOk());
}

}  // namespace
}  // namespace rvae
