// rvae_decode, rvae_decode_full and rvae_decode_batch against the reference endpoint: every
// output type, the bad inputs each function refuses, and server failures mapped to statuses.
#include <cstring>
#include <string>
#include <vector>

#include "capi/capi_fixture.hpp"

namespace {

using rvae_capi_test::CapiTest;
using rvae_capi_test::ErrorPtr;
using rvae_capi_test::expect_error;
using rvae_capi_test::Latents;
using rvae_capi_test::ResultPtr;

class CapiDecode : public CapiTest {
 protected:
  std::string decode_url() const { return url("/sd15/decode/"); }
};

TEST_F(CapiDecode, OneImage) {
  const Latents latents({1, 4, 8, 6});
  const rvae_tensor_view view = latents.view();
  rvae_decode_params params;
  rvae_decode_params_init(&params, "sd15");
  rvae_image image;
  rvae_error* err = nullptr;
  ASSERT_EQ(rvae_decode(client_, decode_url().c_str(), &view, &params, &image, &err), RVAE_OK)
      << rvae_error_message(err);
  EXPECT_EQ(err, nullptr);
  EXPECT_EQ(image.width, 48u);
  EXPECT_EQ(image.height, 64u);
  EXPECT_EQ(image.channels, 3u);
  ASSERT_NE(image.data, nullptr);
  rvae_image_free(&image);
  EXPECT_EQ(image.data, nullptr);
  EXPECT_EQ(image.width, 0u);
}

TEST_F(CapiDecode, NullParamsAndNullErrorAreAllowed) {
  const Latents latents({1, 4, 4, 4});
  const rvae_tensor_view view = latents.view();
  rvae_image image;
  ASSERT_EQ(rvae_decode(client_, decode_url().c_str(), &view, nullptr, &image, nullptr), RVAE_OK);
  EXPECT_EQ(image.width, 32u);
  rvae_image_free(&image);
}

TEST_F(CapiDecode, FullResultOfEachOutputType) {
  const Latents latents({2, 4, 4, 4});
  const rvae_tensor_view view = latents.view();
  rvae_decode_params params;
  rvae_decode_params_init(&params, "sd15");
  rvae_decode_result* raw = nullptr;
  rvae_error* err = nullptr;

  params.output_type = RVAE_OUTPUT_UINT8;
  ASSERT_EQ(rvae_decode_full(client_, decode_url().c_str(), &view, &params, &raw, &err), RVAE_OK)
      << rvae_error_message(err);
  ResultPtr frames(raw);
  EXPECT_EQ(frames->type, RVAE_OUTPUT_UINT8);
  ASSERT_EQ(frames->image_count, 2u);
  EXPECT_EQ(frames->images[1].width, 32u);
  EXPECT_EQ(frames->images[1].channels, 3u);
  EXPECT_EQ(frames->bytes, nullptr);

  params.output_type = RVAE_OUTPUT_FLOAT_TENSOR;
  ASSERT_EQ(rvae_decode_full(client_, decode_url().c_str(), &view, &params, &raw, &err), RVAE_OK)
      << rvae_error_message(err);
  ResultPtr tensor(raw);
  EXPECT_EQ(tensor->type, RVAE_OUTPUT_FLOAT_TENSOR);
  ASSERT_EQ(tensor->tensor.ndim, 4);
  EXPECT_EQ(tensor->tensor.shape[0], 2);
  EXPECT_EQ(tensor->tensor.shape[1], 3);
  EXPECT_EQ(tensor->tensor.shape[2], 32);
  EXPECT_NE(tensor->tensor.data, nullptr);
  EXPECT_EQ(tensor->image_count, 0u);

  const Latents one({1, 4, 4, 4});
  const rvae_tensor_view one_view = one.view();
  params.output_type = RVAE_OUTPUT_IMAGE;
  params.image_format = RVAE_IMAGE_PNG;
  ASSERT_EQ(rvae_decode_full(client_, decode_url().c_str(), &one_view, &params, &raw, &err),
            RVAE_OK)
      << rvae_error_message(err);
  ResultPtr png(raw);
  ASSERT_EQ(png->image_count, 1u);
  ASSERT_GT(png->bytes_size, 8u);
  EXPECT_EQ(std::memcmp(png->bytes, "\x89PNG", 4), 0);  // the encoded image as received
}

TEST_F(CapiDecode, Mp4OfVideoLatents) {
  const Latents latents({1, 16, 2, 4, 4});
  const rvae_tensor_view view = latents.view();
  rvae_decode_params params;
  rvae_decode_params_init(&params, "hunyuan-video");
  params.output_type = RVAE_OUTPUT_MP4;
  rvae_decode_result* raw = nullptr;
  rvae_error* err = nullptr;
  const int status =
      rvae_decode_full(client_, url("/hunyuan-video/decode/").c_str(), &view, &params, &raw, &err);
  ErrorPtr error(err);
  ResultPtr video(raw);
#if RVAE_HAVE_FFMPEG
  ASSERT_EQ(status, RVAE_OK) << rvae_error_message(err);
  EXPECT_EQ(video->type, RVAE_OUTPUT_MP4);
  ASSERT_GT(video->bytes_size, 12u);
  EXPECT_EQ(std::memcmp(video->bytes + 4, "ftyp", 4), 0);
#else
  // Without FFmpeg the endpoint refuses MP4; the refusal still arrives as a status.
  EXPECT_NE(status, RVAE_OK);
  EXPECT_EQ(video, nullptr);
#endif
}

TEST_F(CapiDecode, BatchResultsInInputOrder) {
  const Latents small({1, 4, 4, 4});
  const Latents large({1, 4, 8, 8});
  const rvae_tensor_view views[] = {large.view(), small.view(), large.view()};
  rvae_decode_params params;
  rvae_decode_params_init(&params, "sd15");
  params.output_type = RVAE_OUTPUT_UINT8;
  params.batch_max_in_flight = 2;
  rvae_decode_result* results[3];
  rvae_error* errors[3];
  rvae_error* err = nullptr;
  ASSERT_EQ(
      rvae_decode_batch(client_, decode_url().c_str(), views, 3, &params, results, errors, &err),
      RVAE_OK)
      << rvae_error_message(err);
  EXPECT_EQ(err, nullptr);
  const uint32_t widths[] = {64, 32, 64};
  for (int i = 0; i < 3; ++i) {
    ResultPtr result(results[i]);
    EXPECT_EQ(errors[i], nullptr);
    ASSERT_NE(result, nullptr);
    ASSERT_EQ(result->image_count, 1u);
    EXPECT_EQ(result->images[0].width, widths[i]) << i;
  }
}

TEST_F(CapiDecode, BatchReportsEachFailureAlone) {
  const Latents good({1, 4, 4, 4});
  const Latents wrong_channels({1, 3, 4, 4});  // sd15 wants 4 channels: the server says 400
  const rvae_tensor_view views[] = {good.view(), wrong_channels.view()};
  rvae_decode_params params;
  rvae_decode_params_init(&params, "sd15");
  params.output_type = RVAE_OUTPUT_UINT8;
  rvae_decode_result* results[2];
  rvae_error* errors[2];
  rvae_error* err = nullptr;
  const int status =
      rvae_decode_batch(client_, decode_url().c_str(), views, 2, &params, results, errors, &err);
  ResultPtr first(results[0]);
  ErrorPtr first_error(errors[0]);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first_error, nullptr);
  EXPECT_EQ(results[1], nullptr);
  EXPECT_EQ(rvae_error_http_status(errors[1]), 400);
  expect_error(status, err, RVAE_ERR_INVALID_ARGUMENT, "400");
  expect_error(rvae_error_code(errors[1]), errors[1], RVAE_ERR_INVALID_ARGUMENT, "400");
}

TEST_F(CapiDecode, BatchArgumentErrors) {
  const Latents good({1, 4, 4, 4});
  rvae_tensor_view views[] = {good.view(), good.view()};
  views[1].data = nullptr;
  rvae_decode_result* results[2];
  rvae_error* err = nullptr;
  expect_error(
      rvae_decode_batch(client_, decode_url().c_str(), views, 2, nullptr, results, nullptr, &err),
      err, RVAE_ERR_INVALID_ARGUMENT, "latents[1]");
  EXPECT_EQ(results[0], nullptr);
  expect_error(
      rvae_decode_batch(client_, decode_url().c_str(), views, 2, nullptr, nullptr, nullptr, &err),
      err, RVAE_ERR_INVALID_ARGUMENT, "results is NULL");
  expect_error(
      rvae_decode_batch(client_, decode_url().c_str(), nullptr, 2, nullptr, results, nullptr, &err),
      err, RVAE_ERR_INVALID_ARGUMENT, "latents is NULL");
  rvae_decode_params params;
  rvae_decode_params_init(&params, nullptr);
  params.batch_max_in_flight = 0;
  expect_error(
      rvae_decode_batch(client_, decode_url().c_str(), views, 1, &params, results, nullptr, &err),
      err, RVAE_ERR_INVALID_ARGUMENT, "batch_max_in_flight");
  // An empty batch is a success with nothing to free.
  EXPECT_EQ(
      rvae_decode_batch(client_, decode_url().c_str(), views, 0, nullptr, results, nullptr, &err),
      RVAE_OK);
}

TEST_F(CapiDecode, BadArgumentsAreRefusedBeforeSending) {
  const Latents latents({1, 4, 4, 4});
  const std::string endpoint = decode_url();
  rvae_image image;
  rvae_error* err = nullptr;
  auto decode_view = [&](const rvae_tensor_view& view) {
    return rvae_decode(client_, endpoint.c_str(), &view, nullptr, &image, &err);
  };
  rvae_tensor_view view = latents.view();
  view.ndim = 0;
  expect_error(decode_view(view), err, RVAE_ERR_INVALID_ARGUMENT, "latents->ndim is 0");
  view = latents.view();
  view.ndim = 6;
  expect_error(decode_view(view), err, RVAE_ERR_INVALID_ARGUMENT, "latents->ndim is 6");
  view = latents.view();
  view.shape = nullptr;
  expect_error(decode_view(view), err, RVAE_ERR_INVALID_ARGUMENT, "latents->shape is NULL");
  view = latents.view();
  view.data = nullptr;
  expect_error(decode_view(view), err, RVAE_ERR_INVALID_ARGUMENT, "latents->data is NULL");
  view = latents.view();
  rvae_capi_test::store_raw(&view.dtype, 42);
  expect_error(decode_view(view), err, RVAE_ERR_INVALID_ARGUMENT, "not an rvae_dtype");
  const int64_t negative[] = {1, 4, -4, 4};
  view = latents.view();
  view.shape = negative;
  expect_error(decode_view(view), err, RVAE_ERR_INVALID_ARGUMENT, "latents:");
  view = latents.view();
  expect_error(rvae_decode(client_, endpoint.c_str(), nullptr, nullptr, &image, &err), err,
               RVAE_ERR_INVALID_ARGUMENT, "latents is NULL");
  expect_error(rvae_decode(nullptr, endpoint.c_str(), &view, nullptr, &image, &err), err,
               RVAE_ERR_INVALID_ARGUMENT, "client is NULL");
  expect_error(rvae_decode(client_, endpoint.c_str(), &view, nullptr, nullptr, &err), err,
               RVAE_ERR_INVALID_ARGUMENT, "out is NULL");
  rvae_decode_result* result = nullptr;
  expect_error(rvae_decode_full(client_, endpoint.c_str(), &view, nullptr, nullptr, &err), err,
               RVAE_ERR_INVALID_ARGUMENT, "out is NULL");
  expect_error(rvae_decode_full(nullptr, endpoint.c_str(), &view, nullptr, &result, &err), err,
               RVAE_ERR_INVALID_ARGUMENT, "client is NULL");
  EXPECT_EQ(result, nullptr);
  EXPECT_EQ(endpoint_.total_requests(), 0u);
}

TEST_F(CapiDecode, BadParamsAreRefusedBeforeSending) {
  const Latents latents({1, 4, 4, 4});
  const rvae_tensor_view view = latents.view();
  const std::string endpoint = decode_url();
  struct Case {
    void (*spoil)(rvae_decode_params*);
    int status;
    const char* fragment;
  };
  const Case cases[] = {
      {[](rvae_decode_params* p) { p->struct_size = sizeof(*p) + 1; }, RVAE_ERR_INVALID_ARGUMENT,
       "struct_size"},
      {[](rvae_decode_params* p) { p->model = "sd4"; }, RVAE_ERR_INVALID_ARGUMENT,
       "unknown model 'sd4'"},
      {[](rvae_decode_params* p) { rvae_capi_test::store_raw(&p->output_type, 9); },
       RVAE_ERR_INVALID_ARGUMENT, "not an rvae_output_type"},
      {[](rvae_decode_params* p) { rvae_capi_test::store_raw(&p->image_format, 9); },
       RVAE_ERR_INVALID_ARGUMENT, "not an rvae_image_format"},
      {[](rvae_decode_params* p) { p->height = -1; }, RVAE_ERR_INVALID_ARGUMENT, "negative"},
      {[](rvae_decode_params* p) { p->temporal_compression = 0; }, RVAE_ERR_INVALID_ARGUMENT,
       "temporal_compression"},
      {[](rvae_decode_params* p) { p->deadline_ms = -5; }, RVAE_ERR_INVALID_ARGUMENT,
       "deadline_ms"},
      // rvae_decode gives one image; the other outputs need rvae_decode_full.
      {[](rvae_decode_params* p) { p->output_type = RVAE_OUTPUT_FLOAT_TENSOR; },
       RVAE_ERR_INVALID_ARGUMENT, "use rvae_decode_full"},
  };
  for (const Case& c : cases) {
    rvae_decode_params params;
    rvae_decode_params_init(&params, "sd15");
    c.spoil(&params);
    rvae_image image;
    rvae_error* err = nullptr;
    expect_error(rvae_decode(client_, endpoint.c_str(), &view, &params, &image, &err), err,
                 c.status, c.fragment);
    EXPECT_EQ(image.data, nullptr);
  }
  // A batch or a video would give several images: refused rather than cut to one.
  const Latents batch({2, 4, 4, 4});
  const rvae_tensor_view batch_view = batch.view();
  rvae_image image;
  rvae_error* err = nullptr;
  expect_error(rvae_decode(client_, endpoint.c_str(), &batch_view, nullptr, &image, &err), err,
               RVAE_ERR_INVALID_ARGUMENT, "more than one image");
  EXPECT_EQ(endpoint_.total_requests(), 0u);
}

TEST_F(CapiDecode, EndpointFromThePresetOrRefused) {
  const Latents latents({1, 4, 4, 4});
  const rvae_tensor_view view = latents.view();
  rvae_image image;
  rvae_error* err = nullptr;
  expect_error(rvae_decode(client_, nullptr, &view, nullptr, &image, &err), err,
               RVAE_ERR_INVALID_ARGUMENT, "name no model");
  // With a model, NULL means the preset's URL. A cancelled token ends the call before any
  // connection, so the test stays offline: Cancelled (not InvalidArgument) shows the URL was
  // found.
  rvae_cancel_token* cancel = rvae_cancel_token_new();
  rvae_cancel_token_cancel(cancel);
  rvae_decode_params params;
  rvae_decode_params_init(&params, "sd15");
  params.cancel = cancel;
  expect_error(rvae_decode(client_, nullptr, &view, &params, &image, &err), err, RVAE_ERR_CANCELLED,
               "");
  rvae_cancel_token_free(cancel);
}

TEST_F(CapiDecode, ServerFailuresKeepTheirStatus) {
  const Latents latents({1, 4, 4, 4});
  const rvae_tensor_view view = latents.view();
  struct Case {
    int http;
    int status;
  };
  const Case cases[] = {{401, RVAE_ERR_UNAUTHENTICATED}, {403, RVAE_ERR_PERMISSION_DENIED},
                        {404, RVAE_ERR_NOT_FOUND},       {429, RVAE_ERR_RESOURCE_EXHAUSTED},
                        {500, RVAE_ERR_INTERNAL},        {503, RVAE_ERR_UNAVAILABLE}};
  for (const Case& c : cases) {
    endpoint_.fail_next(1, c.http, {}, "injected " + std::to_string(c.http));
    rvae_image image;
    rvae_error* err = nullptr;
    const int status = rvae_decode(client_, decode_url().c_str(), &view, nullptr, &image, &err);
    EXPECT_EQ(rvae_error_http_status(err), c.http);
    EXPECT_STREQ(rvae_error_server_message(err), ("injected " + std::to_string(c.http)).c_str());
    EXPECT_EQ(rvae_error_retryable(err), c.http == 429 || c.http == 503 ? 1 : 0) << c.http;
    expect_error(status, err, c.status, std::to_string(c.http));
  }
}

TEST_F(CapiDecode, BrokenRepliesAreDataLoss) {
  const Latents latents({1, 4, 4, 4});
  const rvae_tensor_view view = latents.view();
  rvae_decode_params params;
  rvae_decode_params_init(&params, "sd15");
  params.output_type = RVAE_OUTPUT_UINT8;
  endpoint_.set_reply_fault(rvae::reference::ReplyFault::kWrongShapeHeader, 1);
  rvae_image image;
  rvae_error* err = nullptr;
  expect_error(rvae_decode(client_, decode_url().c_str(), &view, &params, &image, &err), err,
               RVAE_ERR_DATA_LOSS, "");
  EXPECT_EQ(image.data, nullptr);
}

TEST_F(CapiDecode, NothingListeningIsUnavailable) {
  const Latents latents({1, 4, 4, 4});
  const rvae_tensor_view view = latents.view();
  const std::string closed = decode_url();
  endpoint_.stop();
  rvae_image image;
  rvae_error* err = nullptr;
  expect_error(rvae_decode(client_, closed.c_str(), &view, nullptr, &image, &err), err,
               RVAE_ERR_UNAVAILABLE, "");
}

}  // namespace
