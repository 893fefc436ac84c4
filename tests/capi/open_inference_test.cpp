// The C API over the Open Inference Protocol against the reference endpoint (both protocols on
// one port): a model URL selects it (or params->protocol does), the model's preset de-normalises
// the latents, per-channel models included; the token rule's switch; bad protocol values.
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "capi/capi_fixture.hpp"

namespace {

using rvae_capi_test::CapiTest;
using rvae_capi_test::expect_error;
using rvae_capi_test::Latents;
using rvae_capi_test::ResultPtr;
using rvae_capi_test::store_raw;

class CapiOpenInference : public CapiTest {
 protected:
  // Decodes to uint8 frames over `endpoint` with `params`; the frames' bytes, concatenated.
  std::vector<unsigned char> frames(const std::string& endpoint, const Latents& latents,
                                    rvae_decode_params params, std::size_t* count) {
    const rvae_tensor_view view = latents.view();
    params.output_type = RVAE_OUTPUT_UINT8;
    rvae_decode_result* raw = nullptr;
    rvae_error* err = nullptr;
    const int status = rvae_decode_full(client_, endpoint.c_str(), &view, &params, &raw, &err);
    EXPECT_EQ(status, RVAE_OK) << rvae_error_message(err);
    rvae_error_free(err);
    ResultPtr result(raw);
    std::vector<unsigned char> bytes;
    *count = result ? result->image_count : 0;
    for (std::size_t i = 0; i < *count; ++i) {
      const rvae_image& image = result->images[i];
      bytes.insert(bytes.end(), image.data,
                   image.data + std::size_t{image.width} * image.height * image.channels);
    }
    return bytes;
  }
};

// At most one level apart (float16 raw latents there, scaled ones here).
void expect_near(const std::vector<unsigned char>& a, const std::vector<unsigned char>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    ASSERT_LE(std::abs(int(a[i]) - int(b[i])), 1) << i;
}

TEST_F(CapiOpenInference, AModelUrlDecodesAsTheHuggingFaceRouteDoes) {
  const Latents latents({1, 4, 6, 4});
  rvae_decode_params params;
  rvae_decode_params_init(&params, "sdxl");
  std::size_t oip_count = 0;
  std::size_t hf_count = 0;
  const std::vector<unsigned char> oip =
      frames(url("/v2/models/sdxl_decoder"), latents, params, &oip_count);
  const std::vector<unsigned char> hf = frames(url("/sdxl/decode/"), latents, params, &hf_count);
  EXPECT_EQ(oip_count, 1u);
  EXPECT_EQ(hf_count, 1u);
  expect_near(oip, hf);
  EXPECT_EQ(endpoint_.requests_for("/v2/models/sdxl_decoder/infer"), 1u);

  // One image, PNG-encoded here.
  const rvae_tensor_view view = latents.view();
  rvae_image image;
  rvae_error* err = nullptr;
  ASSERT_EQ(
      rvae_decode(client_, url("/v2/models/sdxl_decoder").c_str(), &view, &params, &image, &err),
      RVAE_OK)
      << rvae_error_message(err);
  EXPECT_EQ(image.width, 32u);
  EXPECT_EQ(image.height, 48u);
  rvae_image_free(&image);
}

TEST_F(CapiOpenInference, APerChannelModelIsDeNormalisedByName) {
  const Latents video({1, 16, 2, 4, 4});
  rvae_decode_params params;
  rvae_decode_params_init(&params, "wan2.1");
  EXPECT_EQ(params.has_scaling_factor, 0);
  std::size_t oip_count = 0;
  std::size_t hf_count = 0;
  const std::vector<unsigned char> oip =
      frames(url("/v2/models/wan2.1_decoder"), video, params, &oip_count);
  const std::vector<unsigned char> hf = frames(url("/wan2.1/decode/"), video, params, &hf_count);
  EXPECT_EQ(oip_count, 5u);  // 4(T - 1) + 1
  EXPECT_EQ(hf_count, 5u);
  expect_near(oip, hf);
}

TEST_F(CapiOpenInference, TheProtocolFieldAndTensorNamesAreChecked) {
  const Latents latents({1, 4, 4, 4});
  const rvae_tensor_view view = latents.view();
  rvae_decode_params params;
  rvae_decode_params_init(&params, "sdxl");
  EXPECT_EQ(params.protocol, RVAE_PROTOCOL_AUTO);
  EXPECT_EQ(params.input_name, nullptr);
  rvae_decode_result* raw = nullptr;
  rvae_error* err = nullptr;

  store_raw(&params.protocol, 7);
  expect_error(
      rvae_decode_full(client_, url("/v2/models/sdxl_decoder").c_str(), &view, &params, &raw, &err),
      err, RVAE_ERR_INVALID_ARGUMENT, "protocol");

  params.protocol = RVAE_PROTOCOL_OPEN_INFERENCE;
  expect_error(rvae_decode_full(client_, url("/sdxl/decode/").c_str(), &view, &params, &raw, &err),
               err, RVAE_ERR_INVALID_ARGUMENT, "/v2/models/NAME");

  params.input_name = "no_such_input";
  expect_error(
      rvae_decode_full(client_, url("/v2/models/sdxl_decoder").c_str(), &view, &params, &raw, &err),
      err, RVAE_ERR_INVALID_ARGUMENT, "latent_sample");

  params.input_name = "latent_sample";
  params.output_name = "sample";
  params.output_type = RVAE_OUTPUT_UINT8;
  ASSERT_EQ(
      rvae_decode_full(client_, url("/v2/models/sdxl_decoder").c_str(), &view, &params, &raw, &err),
      RVAE_OK)
      << rvae_error_message(err);
  rvae_decode_result_free(raw);

  // Told Hugging Face, a model URL is posted to as it is: the model route refuses a POST.
  params.protocol = RVAE_PROTOCOL_HUGGING_FACE;
  params.input_name = nullptr;
  params.output_name = nullptr;
  EXPECT_NE(
      rvae_decode_full(client_, url("/v2/models/sdxl_decoder").c_str(), &view, &params, &raw, &err),
      RVAE_OK);
  rvae_error_free(err);
}

TEST_F(CapiOpenInference, EncodeOverTheOpenInferenceProtocol) {
  std::vector<unsigned char> pixels(32 * 24 * 3);
  for (std::size_t i = 0; i < pixels.size(); ++i)
    pixels[i] = static_cast<unsigned char>(i * 13);
  rvae_image image{32, 24, 3, pixels.data()};
  rvae_encode_params params;
  rvae_encode_params_init(&params, "sdxl");
  rvae_tensor oip;
  rvae_tensor hf;
  rvae_error* err = nullptr;
  ASSERT_EQ(
      rvae_encode(client_, url("/v2/models/sdxl_encoder").c_str(), &image, &params, &oip, &err),
      RVAE_OK)
      << rvae_error_message(err);
  ASSERT_EQ(rvae_encode(client_, url("/sdxl/encode/").c_str(), &image, &params, &hf, &err), RVAE_OK)
      << rvae_error_message(err);
  ASSERT_EQ(oip.ndim, 4);
  EXPECT_EQ(oip.shape[1], 4);
  EXPECT_EQ(oip.shape[2], 3);
  EXPECT_EQ(oip.shape[3], 4);
  EXPECT_EQ(oip.dtype, RVAE_DTYPE_FLOAT32);
  rvae_tensor_free(&oip);
  rvae_tensor_free(&hf);
}

TEST(CapiTokenOverHttp, AGivenTokenIsNotSentInClearToAnotherMachineUnlessAllowed) {
  rvae_client_params params;
  rvae_client_params_init(&params);
  EXPECT_EQ(params.allow_token_over_http, 0);
  params.token = "secret";
  params.token_from_environment = 0;
  params.max_attempts = 1;
  params.connect_timeout_ms = 200;
  params.deadline_ms = 500;
  rvae_error* err = nullptr;
  rvae_client* client = rvae_client_new(&params, &err);
  ASSERT_NE(client, nullptr);
  const Latents latents({1, 4, 4, 4});
  const rvae_tensor_view view = latents.view();
  rvae_image image;
  expect_error(
      rvae_decode(client, "http://192.0.2.1:8000/v2/models/m", &view, nullptr, &image, &err), err,
      RVAE_ERR_INVALID_ARGUMENT, "in clear");
  rvae_client_free(client);

  // Allowed, it is tried (nothing answers at that documentation address: a network error).
  params.allow_token_over_http = 1;
  client = rvae_client_new(&params, &err);
  ASSERT_NE(client, nullptr);
  rvae_decode_params decode;
  rvae_decode_params_init(&decode, "sdxl");
  const int status =
      rvae_decode(client, "http://192.0.2.1:8000/v2/models/m", &view, &decode, &image, &err);
  EXPECT_NE(status, RVAE_OK);
  EXPECT_NE(status, RVAE_ERR_INVALID_ARGUMENT);
  rvae_error_free(err);
  rvae_client_free(client);
}

}  // namespace
