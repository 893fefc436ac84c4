// Cancellation from another thread, deadlines and progress through the C API.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "capi/capi_fixture.hpp"

namespace {

using rvae_capi_test::CapiTest;
using rvae_capi_test::expect_error;
using rvae_capi_test::Latents;
using rvae_capi_test::ResultPtr;

TEST_F(CapiTest, CancelFromAnotherThread) {
  endpoint_.set_latency(std::chrono::seconds(30));  // the call can only end by cancellation
  const Latents latents({1, 4, 4, 4});
  const rvae_tensor_view view = latents.view();
  rvae_cancel_token* cancel = rvae_cancel_token_new();
  ASSERT_NE(cancel, nullptr);
  EXPECT_EQ(rvae_cancel_token_is_cancelled(cancel), 0);
  rvae_decode_params params;
  rvae_decode_params_init(&params, "sd15");
  params.cancel = cancel;
  std::thread canceller([this, cancel] {
    // Cancel once the request is at the server, so the cancel interrupts a transfer.
    while (endpoint_.total_requests() == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    rvae_cancel_token_cancel(cancel);
  });
  const auto start = std::chrono::steady_clock::now();
  rvae_image image;
  rvae_error* err = nullptr;
  const int status =
      rvae_decode(client_, url("/sd15/decode/").c_str(), &view, &params, &image, &err);
  canceller.join();
  expect_error(status, err, RVAE_ERR_CANCELLED, "");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(rvae_cancel_token_is_cancelled(cancel), 1);
  rvae_cancel_token_free(cancel);
  endpoint_.clear_faults();
}

TEST_F(CapiTest, CancelStopsAWholeBatch) {
  const Latents latents({1, 4, 4, 4});
  const rvae_tensor_view views[] = {latents.view(), latents.view()};
  rvae_cancel_token* cancel = rvae_cancel_token_new();
  rvae_cancel_token_cancel(cancel);
  rvae_decode_params params;
  rvae_decode_params_init(&params, "sd15");
  params.cancel = cancel;
  rvae_decode_result* results[2];
  rvae_error* errors[2];
  rvae_error* err = nullptr;
  const int status = rvae_decode_batch(client_, url("/sd15/decode/").c_str(), views, 2, &params,
                                       results, errors, &err);
  for (rvae_error* e : errors)
    expect_error(rvae_error_code(e), e, RVAE_ERR_CANCELLED, "");
  EXPECT_EQ(results[0], nullptr);
  EXPECT_EQ(results[1], nullptr);
  expect_error(status, err, RVAE_ERR_CANCELLED, "");
  rvae_cancel_token_free(cancel);
}

TEST_F(CapiTest, DeadlinePerCall) {
  endpoint_.set_latency(std::chrono::seconds(30));
  const Latents latents({1, 4, 4, 4});
  const rvae_tensor_view view = latents.view();
  rvae_decode_params params;
  rvae_decode_params_init(&params, "sd15");
  params.deadline_ms = 200;
  rvae_image image;
  rvae_error* err = nullptr;
  expect_error(rvae_decode(client_, url("/sd15/decode/").c_str(), &view, &params, &image, &err),
               err, RVAE_ERR_DEADLINE_EXCEEDED, "");
  endpoint_.clear_faults();
}

struct ProgressLog {
  std::atomic<int> calls{0};
  std::atomic<uint64_t> received{0};
  std::atomic<size_t> items_done{0};
  std::atomic<size_t> items_total{0};
};

void record_progress(const rvae_progress* progress, void* user_data) {
  auto* log = static_cast<ProgressLog*>(user_data);
  log->calls++;
  log->received = progress->bytes_received;
  log->items_done = progress->items_done;
  log->items_total = progress->items_total;
}

TEST_F(CapiTest, ProgressOfACall) {
  const Latents latents({1, 4, 32, 32});
  const rvae_tensor_view view = latents.view();
  ProgressLog log;
  rvae_decode_params params;
  rvae_decode_params_init(&params, "sd15");
  params.output_type = RVAE_OUTPUT_UINT8;
  params.progress = record_progress;
  params.progress_user_data = &log;
  rvae_image image;
  rvae_error* err = nullptr;
  ASSERT_EQ(rvae_decode(client_, url("/sd15/decode/").c_str(), &view, &params, &image, &err),
            RVAE_OK)
      << rvae_error_message(err);
  EXPECT_GT(log.calls.load(), 0);
  EXPECT_EQ(log.received.load(), 256u * 256u * 3u);  // the last report has the whole body
  EXPECT_EQ(log.items_total.load(), 1u);
  rvae_image_free(&image);
}

TEST_F(CapiTest, ProgressOfABatch) {
  const Latents latents({1, 4, 4, 4});
  const rvae_tensor_view views[] = {latents.view(), latents.view(), latents.view()};
  ProgressLog log;
  rvae_decode_params params;
  rvae_decode_params_init(&params, "sd15");
  params.progress = record_progress;
  params.progress_user_data = &log;
  rvae_decode_result* results[3];
  rvae_error* err = nullptr;
  ASSERT_EQ(rvae_decode_batch(client_, url("/sd15/decode/").c_str(), views, 3, &params, results,
                              nullptr, &err),
            RVAE_OK)
      << rvae_error_message(err);
  for (rvae_decode_result* r : results)
    rvae_decode_result_free(r);
  EXPECT_GT(log.calls.load(), 0);
  EXPECT_EQ(log.items_total.load(), 3u);
  EXPECT_EQ(log.items_done.load(), 3u);
}

TEST_F(CapiTest, LogCallbackReceivesLines) {
  // A client with a log sink; a failed call is worth a diagnostic line or more.
  struct Lines {
    std::atomic<int> count{0};
  } lines;
  rvae_client_params cp;
  rvae_client_params_init(&cp);
  cp.token_from_environment = 0;
  cp.max_attempts = 2;
  cp.log = [](rvae_log_level, const char* message, void* user_data) {
    if (message != nullptr) static_cast<Lines*>(user_data)->count++;
  };
  cp.log_user_data = &lines;
  rvae_client* client = rvae_client_new(&cp, nullptr);
  ASSERT_NE(client, nullptr);
  endpoint_.fail_next(1, 503, "0", "warming up");
  const Latents latents({1, 4, 4, 4});
  const rvae_tensor_view view = latents.view();
  rvae_image image;
  EXPECT_EQ(rvae_decode(client, url("/sd15/decode/").c_str(), &view, nullptr, &image, nullptr),
            RVAE_OK);
  rvae_image_free(&image);
  rvae_client_free(client);
  EXPECT_GT(lines.count.load(), 0);
}

}  // namespace
