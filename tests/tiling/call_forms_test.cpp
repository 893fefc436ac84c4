// Every call form honours TilingOptions the same way: decode_async, decode_batch, encode_async
// and encode_batch give what the blocking call gives, against an endpoint that refuses anything
// above its cap (so a form that ignored tiling would fail).
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "rvae/client.hpp"
#include "rvae/presets.hpp"
#include "rvae/tensor.hpp"
#include "rvae/tiled.hpp"
#include "support/test_data.hpp"
#include "tiling/tiling_test_support.hpp"

namespace rvae::tiling_test {
namespace {

using testing_support::gradient_image;

class CallFormsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(servers_.start()); }

  // Latents whose decode (768 x 640 pixels) is past the test cap: tiled in kAuto mode.
  Tensor big_latents(int seed) {
    const ModelPreset& sdxl = *presets_.find("sdxl");
    std::vector<float> values = smooth_latents(4, 1, 96, 80, sdxl.scaling_factor, 0.0, seed);
    return Tensor::from_floats({1, 4, 96, 80}, values).value();
  }
  DecodeOptions decode_options() {
    const ModelPreset& sdxl = *presets_.find("sdxl");
    return test_decode_options(sdxl.scaling_factor, sdxl.shift_factor);
  }
  EncodeOptions encode_options() {
    EncodeOptions options = presets_.find("sdxl")->encode_options();
    options.tiling.max_image_side = kTestCap;
    return options;
  }
  std::string decode_url() { return servers_.capped().url("/sdxl/decode/"); }
  std::string encode_url() { return servers_.capped().url("/sdxl/encode/"); }

  ContextServers servers_;
  PresetRegistry presets_ = PresetRegistry::builtin();
  Client client_;
};

TEST_F(CallFormsTest, TheEndpointRefusesAnUntiledRequestPastItsCap) {
  // What a form that ignored tiling would get: the comparison below can fail.
  const Tensor latents = big_latents(1);
  DecodeOptions untiled = decode_options();
  untiled.tiling.mode = TileMode::kOff;
  Result<DecodeOutput> refused = client_.decode(decode_url(), latents.view(), untiled);
  ASSERT_FALSE(refused);
}

TEST_F(CallFormsTest, DecodeAsyncAndBatchTileAsTheBlockingCallDoes) {
  const Tensor a = big_latents(1);
  const Tensor b = big_latents(2);
  ASSERT_TRUE(decode_needs_tiling(a.view(), decode_options()));
  Result<DecodeOutput> sync_a = client_.decode(decode_url(), a.view(), decode_options());
  Result<DecodeOutput> sync_b = client_.decode(decode_url(), b.view(), decode_options());
  ASSERT_TRUE(sync_a) << sync_a.error().what();
  ASSERT_TRUE(sync_b) << sync_b.error().what();

  Result<DecodeOutput> async = client_.decode_async(decode_url(), a.view(), decode_options()).get();
  ASSERT_TRUE(async) << async.error().what();
  EXPECT_EQ(async->images.at(0).pixels, sync_a->images.at(0).pixels);

  std::vector<Result<DecodeOutput>> batch =
      client_.decode_batch(decode_url(), {a.view(), b.view()}, decode_options());
  ASSERT_EQ(batch.size(), 2u);
  ASSERT_TRUE(batch[0]) << batch[0].error().what();
  ASSERT_TRUE(batch[1]) << batch[1].error().what();
  EXPECT_EQ(batch[0]->images.at(0).pixels, sync_a->images.at(0).pixels);
  EXPECT_EQ(batch[1]->images.at(0).pixels, sync_b->images.at(0).pixels);
  // Each tiled result counts every request it made.
  EXPECT_GT(batch[0]->timings.attempts, 1);
}

TEST_F(CallFormsTest, EncodeAsyncAndBatchTileAsTheBlockingCallDoes) {
  const Image a = gradient_image(640, 576, 1);
  const Image b = gradient_image(576, 640, 2);
  ASSERT_TRUE(encode_needs_tiling(a.width, a.height, encode_options()));
  Result<EncodeOutput> sync_a = client_.encode(encode_url(), a, encode_options());
  Result<EncodeOutput> sync_b = client_.encode(encode_url(), b, encode_options());
  ASSERT_TRUE(sync_a) << sync_a.error().what();
  ASSERT_TRUE(sync_b) << sync_b.error().what();

  Result<EncodeOutput> async = client_.encode_async(encode_url(), a, encode_options()).get();
  ASSERT_TRUE(async) << async.error().what();
  EXPECT_EQ(async->latents.to_floats(), sync_a->latents.to_floats());

  std::vector<Result<EncodeOutput>> batch =
      client_.encode_batch(encode_url(), {ImageView(a), ImageView(b)}, encode_options());
  ASSERT_EQ(batch.size(), 2u);
  ASSERT_TRUE(batch[0]) << batch[0].error().what();
  ASSERT_TRUE(batch[1]) << batch[1].error().what();
  EXPECT_EQ(batch[0]->latents.to_floats(), sync_a->latents.to_floats());
  EXPECT_EQ(batch[1]->latents.to_floats(), sync_b->latents.to_floats());
}

TEST_F(CallFormsTest, TiledCallsHandTheirResultToThen) {
  const Tensor a = big_latents(3);
  Result<DecodeOutput> sync = client_.decode(decode_url(), a.view(), decode_options());
  ASSERT_TRUE(sync) << sync.error().what();
  std::mutex mutex;
  std::condition_variable done;
  std::optional<Result<DecodeOutput>> got;
  std::thread::id ran_on;
  client_.decode_async(decode_url(), a.view(), decode_options()).then([&](Result<DecodeOutput> r) {
    std::lock_guard<std::mutex> lock(mutex);
    got.emplace(std::move(r));
    ran_on = std::this_thread::get_id();
    done.notify_all();
  });
  std::unique_lock<std::mutex> lock(mutex);
  done.wait(lock, [&] { return got.has_value(); });
  ASSERT_TRUE(*got) << got->error().what();
  EXPECT_EQ((*got)->images.at(0).pixels, sync->images.at(0).pixels);
  EXPECT_NE(ran_on, std::this_thread::get_id());
}

TEST_F(CallFormsTest, DestroyingTheClientEndsTiledCallsInFlight) {
  const Tensor a = big_latents(4);
  servers_.capped().set_latency(std::chrono::milliseconds(5000));
  Pending<DecodeOutput> pending;
  {
    Client client;
    pending = client.decode_async(decode_url(), a.view(), decode_options());
    EXPECT_FALSE(pending.wait_for(std::chrono::milliseconds(20)));
  }  // Cancels the tiled call and waits for its thread, promptly.
  EXPECT_TRUE(pending.wait_for(std::chrono::seconds(0)));
  Result<DecodeOutput> result = pending.get();
  servers_.capped().clear_faults();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kCancelled);
}

}  // namespace
}  // namespace rvae::tiling_test
