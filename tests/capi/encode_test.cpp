// rvae_encode against the reference endpoint, and the inputs it refuses.
#include <string>
#include <vector>

#include "capi/capi_fixture.hpp"

namespace {

using rvae_capi_test::CapiTest;
using rvae_capi_test::expect_error;

class CapiEncode : public CapiTest {
 protected:
  std::string encode_url() const { return url("/sd15/encode/"); }
  std::vector<uint8_t> pixels_ = std::vector<uint8_t>(40 * 24 * 3, 100);
  rvae_image image_{40, 24, 3, pixels_.data()};
};

TEST_F(CapiEncode, ImageToLatents) {
  rvae_encode_params params;
  rvae_encode_params_init(&params, "sd15");
  rvae_tensor latents;
  rvae_error* err = nullptr;
  ASSERT_EQ(rvae_encode(client_, encode_url().c_str(), &image_, &params, &latents, &err), RVAE_OK)
      << rvae_error_message(err);
  EXPECT_EQ(err, nullptr);
  ASSERT_EQ(latents.ndim, 4);
  EXPECT_EQ(latents.shape[0], 1);
  EXPECT_EQ(latents.shape[1], 4);
  EXPECT_EQ(latents.shape[2], 3);
  EXPECT_EQ(latents.shape[3], 5);
  EXPECT_NE(latents.data, nullptr);
  rvae_tensor_free(&latents);
  EXPECT_EQ(latents.data, nullptr);
  EXPECT_EQ(latents.ndim, 0);
}

TEST_F(CapiEncode, RgbaAndNullParams) {
  std::vector<uint8_t> rgba(16 * 16 * 4, 200);
  const rvae_image image{16, 16, 4, rgba.data()};
  rvae_tensor latents;
  ASSERT_EQ(rvae_encode(client_, encode_url().c_str(), &image, nullptr, &latents, nullptr),
            RVAE_OK);
  EXPECT_EQ(latents.shape[2], 2);
  rvae_tensor_free(&latents);
}

TEST_F(CapiEncode, BadInputsAreRefusedBeforeSending) {
  struct Case {
    rvae_image image;
    const char* fragment;
  };
  const Case cases[] = {
      {{40, 24, 3, nullptr}, "image->data is NULL"},
      {{0, 24, 3, pixels_.data()}, "each side must be 1..65535"},
      {{40, 70000, 3, pixels_.data()}, "each side must be 1..65535"},
      {{40, 24, 2, pixels_.data()}, "image->channels is 2"},
  };
  rvae_tensor latents;
  rvae_error* err = nullptr;
  for (const Case& c : cases) {
    expect_error(rvae_encode(client_, encode_url().c_str(), &c.image, nullptr, &latents, &err), err,
                 RVAE_ERR_INVALID_ARGUMENT, c.fragment);
    EXPECT_EQ(latents.data, nullptr);
  }
  expect_error(rvae_encode(client_, encode_url().c_str(), nullptr, nullptr, &latents, &err), err,
               RVAE_ERR_INVALID_ARGUMENT, "image is NULL");
  expect_error(rvae_encode(nullptr, encode_url().c_str(), &image_, nullptr, &latents, &err), err,
               RVAE_ERR_INVALID_ARGUMENT, "client is NULL");
  expect_error(rvae_encode(client_, encode_url().c_str(), &image_, nullptr, nullptr, &err), err,
               RVAE_ERR_INVALID_ARGUMENT, "out is NULL");
  rvae_encode_params params;
  rvae_encode_params_init(&params, "sd15");
  params.struct_size = 4;
  expect_error(rvae_encode(client_, encode_url().c_str(), &image_, &params, &latents, &err), err,
               RVAE_ERR_INVALID_ARGUMENT, "struct_size");
  rvae_encode_params_init(&params, "sdxxl");
  expect_error(rvae_encode(client_, encode_url().c_str(), &image_, &params, &latents, &err), err,
               RVAE_ERR_INVALID_ARGUMENT, "unknown model 'sdxxl'");
  rvae_encode_params_init(&params, "sd15");
  params.deadline_ms = -1;
  expect_error(rvae_encode(client_, encode_url().c_str(), &image_, &params, &latents, &err), err,
               RVAE_ERR_INVALID_ARGUMENT, "deadline_ms");
  // hunyuan-video has no encode endpoint to default to.
  rvae_encode_params_init(&params, "hunyuan-video");
  expect_error(rvae_encode(client_, nullptr, &image_, &params, &latents, &err), err,
               RVAE_ERR_INVALID_ARGUMENT, "no default encode endpoint");
  EXPECT_EQ(endpoint_.total_requests(), 0u);
}

TEST_F(CapiEncode, ServerErrorIsReported) {
  endpoint_.fail_next(1, 403, {}, "no access");
  rvae_tensor latents;
  rvae_error* err = nullptr;
  expect_error(rvae_encode(client_, encode_url().c_str(), &image_, nullptr, &latents, &err), err,
               RVAE_ERR_PERMISSION_DENIED, "no access");
}

}  // namespace
