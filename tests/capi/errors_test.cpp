// The C API's error plumbing, client construction and presets: every argument error is
// reported with a code and a message naming it, never a crash.
#include <cstddef>
#include <string>

#include "capi/capi_fixture.hpp"
#include "rvae/error.hpp"

namespace {

using rvae_capi_test::ErrorPtr;
using rvae_capi_test::expect_error;

TEST(CapiErrors, StatusNamesMatchTheCppCodes) {
  EXPECT_STREQ(rvae_status_name(RVAE_OK), "OK");
  EXPECT_STREQ(rvae_status_name(RVAE_ERR_INVALID_ARGUMENT), "InvalidArgument");
  EXPECT_STREQ(rvae_status_name(RVAE_ERR_CANCELLED), "Cancelled");
  EXPECT_STREQ(rvae_status_name(11), "Unknown");
  EXPECT_STREQ(rvae_status_name(-1), "Unknown");
  // Each C status is its rvae::ErrorCode plus one; the names prove the two lists line up.
  for (int code = RVAE_ERR_INVALID_ARGUMENT; code <= RVAE_ERR_CANCELLED; ++code) {
    EXPECT_STREQ(rvae_status_name(code), rvae::to_string(static_cast<rvae::ErrorCode>(code - 1)));
  }
}

TEST(CapiErrors, AccessorsAcceptNull) {
  EXPECT_STREQ(rvae_error_message(nullptr), "");
  EXPECT_STREQ(rvae_error_server_message(nullptr), "");
  EXPECT_EQ(rvae_error_code(nullptr), RVAE_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(rvae_error_http_status(nullptr), 0);
  EXPECT_EQ(rvae_error_retryable(nullptr), 0);
  rvae_error_free(nullptr);
  rvae_image_free(nullptr);
  rvae_tensor_free(nullptr);
  rvae_decode_result_free(nullptr);
  rvae_client_free(nullptr);
  rvae_cancel_token_free(nullptr);
  rvae_cancel_token_cancel(nullptr);
  EXPECT_EQ(rvae_cancel_token_is_cancelled(nullptr), 0);
}

TEST(CapiErrors, VersionIsTheLibrarys) {
  EXPECT_STREQ(rvae_version(), RVAE_VERSION_STRING);
}

TEST(CapiClient, NullParamsMeanDefaults) {
  rvae_error* err = reinterpret_cast<rvae_error*>(0x1);  // overwritten with NULL on success
  rvae_client* client = rvae_client_new(nullptr, &err);
  EXPECT_NE(client, nullptr);
  EXPECT_EQ(err, nullptr);
  rvae_client_free(client);
}

TEST(CapiClient, WrongStructSizeIsRefused) {
  rvae_client_params params;
  rvae_client_params_init(&params);
  params.struct_size = sizeof(params) + 8;  // a newer header than this library
  rvae_error* err = nullptr;
  EXPECT_EQ(rvae_client_new(&params, &err), nullptr);
  expect_error(rvae_error_code(err), err, RVAE_ERR_INVALID_ARGUMENT, "struct_size");
  params.struct_size = 0;  // never initialised
  EXPECT_EQ(rvae_client_new(&params, &err), nullptr);
  expect_error(rvae_error_code(err), err, RVAE_ERR_INVALID_ARGUMENT, "params_init");
  // Without an error out-parameter the failure still shows as NULL.
  EXPECT_EQ(rvae_client_new(&params, nullptr), nullptr);
}

TEST(CapiClient, BadValuesAreRefused) {
  struct Case {
    void (*spoil)(rvae_client_params*);
    const char* fragment;
  };
  const Case cases[] = {
      {[](rvae_client_params* p) { p->connect_timeout_ms = 0; }, "timeouts must be positive"},
      {[](rvae_client_params* p) { p->attempt_timeout_ms = -1; }, "timeouts must be positive"},
      {[](rvae_client_params* p) { p->deadline_ms = 0; }, "timeouts must be positive"},
      {[](rvae_client_params* p) { p->max_attempts = 0; }, "max_attempts"},
      {[](rvae_client_params* p) { p->max_in_flight = 0; }, "max_in_flight"},
      {[](rvae_client_params* p) { p->decode_threads = 0; }, "decode_threads must be at least 1"},
  };
  for (const Case& c : cases) {
    rvae_client_params params;
    rvae_client_params_init(&params);
    c.spoil(&params);
    rvae_error* err = nullptr;
    EXPECT_EQ(rvae_client_new(&params, &err), nullptr);
    expect_error(rvae_error_code(err), err, RVAE_ERR_INVALID_ARGUMENT, c.fragment);
  }
}

TEST(CapiClient, ParamsInitGivesTheCppDefaults) {
  rvae_client_params params;
  rvae_client_params_init(&params);
  EXPECT_EQ(params.struct_size, sizeof(rvae_client_params));
  EXPECT_EQ(params.connect_timeout_ms, 10'000);
  EXPECT_EQ(params.deadline_ms, 900'000);
  EXPECT_EQ(params.max_attempts, 5);
  EXPECT_EQ(params.max_in_flight, 64u);
  EXPECT_EQ(params.token_from_environment, 1);
  EXPECT_EQ(params.token, nullptr);
  EXPECT_EQ(params.decode_threads, 2);
  rvae_client_params_init_sized(nullptr, sizeof(rvae_client_params));  // no crash
  (rvae_client_params_init)(nullptr);
}

// A program built against the first rvae.h passes a struct that ends before decode_threads:
// accepted, with the default for the field it does not know.
TEST(CapiClient, ParamsFromTheFirstHeaderAreAccepted) {
  rvae_client_params params;
  rvae_client_params_init(&params);
  params.decode_threads = 0;  // beyond the older struct: must not be read
  params.struct_size = offsetof(rvae_client_params, decode_threads);
  rvae_error* err = nullptr;
  rvae_client* client = rvae_client_new(&params, &err);
  EXPECT_NE(client, nullptr) << (err != nullptr ? rvae_error_message(err) : "");
  EXPECT_EQ(err, nullptr);
  rvae_client_free(client);
  rvae_error_free(err);
  params.struct_size = offsetof(rvae_client_params, decode_threads) - 1;
  EXPECT_EQ(rvae_client_new(&params, &err), nullptr);
  expect_error(rvae_error_code(err), err, RVAE_ERR_INVALID_ARGUMENT, "struct_size");
}

TEST(CapiPresets, BuiltinModelsAndTheirEndpoints) {
  rvae_preset preset;
  preset.struct_size = sizeof(preset);
  rvae_error* err = nullptr;
  ASSERT_EQ(rvae_preset_get("flux", &preset, &err), RVAE_OK);
  EXPECT_EQ(err, nullptr);
  EXPECT_STREQ(preset.name, "flux");
  EXPECT_EQ(preset.latent_channels, 16);
  EXPECT_DOUBLE_EQ(preset.scaling_factor, 0.3611);
  EXPECT_EQ(preset.has_shift_factor, 1);
  EXPECT_DOUBLE_EQ(preset.shift_factor, 0.1159);
  EXPECT_EQ(preset.dtype, RVAE_DTYPE_BFLOAT16);
  EXPECT_EQ(preset.packed_latents, 1);
  EXPECT_STREQ(rvae_preset_decode_endpoint("flux"), preset.decode_endpoint);
  EXPECT_STREQ(rvae_preset_encode_endpoint("flux"), preset.encode_endpoint);
  EXPECT_EQ(std::string(preset.decode_endpoint).rfind("https://", 0), 0u);
  // hunyuan-video has no encode endpoint; unknown names and NULL have none at all.
  EXPECT_NE(rvae_preset_decode_endpoint("hunyuan-video"), nullptr);
  EXPECT_EQ(rvae_preset_encode_endpoint("hunyuan-video"), nullptr);
  EXPECT_EQ(rvae_preset_decode_endpoint("nope"), nullptr);
  EXPECT_EQ(rvae_preset_decode_endpoint(nullptr), nullptr);
}

TEST(CapiPresets, BadLookupsAreReported) {
  rvae_preset preset;
  preset.struct_size = sizeof(preset);
  rvae_error* err = nullptr;
  expect_error(rvae_preset_get("sd3", &preset, &err), err, RVAE_ERR_NOT_FOUND,
               "unknown model 'sd3' (known: sd15, sdxl, flux, hunyuan-video, wan2.1, qwen-image)");
  expect_error(rvae_preset_get(nullptr, &preset, &err), err, RVAE_ERR_INVALID_ARGUMENT,
               "model is NULL");
  expect_error(rvae_preset_get("sd15", nullptr, &err), err, RVAE_ERR_INVALID_ARGUMENT,
               "out is NULL");
  preset.struct_size = 3;
  expect_error(rvae_preset_get("sd15", &preset, &err), err, RVAE_ERR_INVALID_ARGUMENT,
               "struct_size");
}

TEST(CapiPresets, ParamsInitTakesThePresetsFactors) {
  rvae_decode_params decode;
  rvae_decode_params_init(&decode, "sd15");
  EXPECT_EQ(decode.struct_size, sizeof(decode));
  EXPECT_STREQ(decode.model, "sd15");
  EXPECT_EQ(decode.has_scaling_factor, 1);
  EXPECT_DOUBLE_EQ(decode.scaling_factor, 0.18215);
  EXPECT_EQ(decode.has_shift_factor, 0);
  rvae_decode_params_init(&decode, "hunyuan-video");
  EXPECT_EQ(decode.temporal_compression, 4);
  rvae_decode_params_init(&decode, nullptr);
  EXPECT_EQ(decode.has_scaling_factor, 0);
  EXPECT_EQ(decode.output_type, RVAE_OUTPUT_IMAGE);
  EXPECT_EQ(decode.batch_max_in_flight, 8u);
  rvae_encode_params encode;
  rvae_encode_params_init(&encode, "flux");
  EXPECT_EQ(encode.has_shift_factor, 1);
  EXPECT_DOUBLE_EQ(encode.shift_factor, 0.1159);
  rvae_decode_params_init_sized(nullptr, sizeof(rvae_decode_params), "sd15");  // no crash
  rvae_encode_params_init_sized(nullptr, sizeof(rvae_encode_params), "sd15");
  (rvae_decode_params_init)(nullptr, "sd15");
  (rvae_encode_params_init)(nullptr, "sd15");
}

}  // namespace
