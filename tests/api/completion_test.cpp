// Pending's completion callback, its use after the result was taken, batches' cancellation, and
// a moved-from Client.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "rvae/call_window.hpp"
#include "rvae/client.hpp"
#include "rvae/tensor.hpp"
#include "support/scripted_server.hpp"

namespace rvae {
namespace {

using ::testing::HasSubstr;
using testing_support::ScriptedServer;

// Float tensor replies: the smallest decode reply to check.
DecodeOptions tensor_options() {
  DecodeOptions options;
  options.output_type = OutputType::kFloatTensor;
  return options;
}

// Answers every decode with a [1,3,8,8] float32 tensor of zeros.
void answer_tensors(ScriptedServer& server) {
  server.set_handler([](const httplib::Request&, httplib::Response& response) {
    response.set_header("shape", "[1, 3, 8, 8]");
    response.set_header("dtype", "float32");
    response.set_content(std::string(3 * 8 * 8 * 4, '\0'), "tensor/binary");
  });
}

ClientOptions quick_options() {
  ClientOptions options;
  options.token_from_environment = false;
  options.retry.max_attempts = 1;
  return options;
}

// Waits for a callback's result.
template <typename T>
class Landing {
 public:
  typename Pending<T>::Callback callback() {
    return [this](Result<T> result) {
      std::lock_guard<std::mutex> lock(mutex_);
      ++calls_;
      thread_ = std::this_thread::get_id();
      result_.emplace(std::move(result));
      landed_.notify_all();
    };
  }
  Result<T> wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    landed_.wait(lock, [this] { return result_.has_value(); });
    return std::move(*result_);
  }
  int calls() {
    std::lock_guard<std::mutex> lock(mutex_);
    return calls_;
  }
  std::thread::id thread() {
    std::lock_guard<std::mutex> lock(mutex_);
    return thread_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable landed_;
  std::optional<Result<T>> result_;
  int calls_ = 0;
  std::thread::id thread_;
};

class CompletionTest : public ::testing::Test {
 protected:
  void SetUp() override { answer_tensors(server_); }
  Tensor latents_ = Tensor::zeros({1, 4, 1, 1}, DType::kFloat32).value();
  ScriptedServer server_;
};

TEST_F(CompletionTest, ThenRunsOnceOffTheCallingThreadWithTheParsedResult) {
  Client client(quick_options());
  Landing<DecodeOutput> landing;
  Pending<DecodeOutput> pending =
      client.decode_async(server_.url(), latents_.view(), tensor_options());
  pending.then(landing.callback());
  EXPECT_FALSE(pending.valid());
  Result<DecodeOutput> result = landing.wait();
  ASSERT_TRUE(result) << result.error().what();
  EXPECT_EQ(result->tensor.shape(), (Shape{1, 3, 8, 8}));
  EXPECT_NE(landing.thread(), std::this_thread::get_id());
  EXPECT_EQ(landing.calls(), 1);
}

TEST_F(CompletionTest, ThenAfterTheResultArrivedStillRunsOnAWorker) {
  Client client(quick_options());
  Pending<DecodeOutput> pending =
      client.decode_async(server_.url(), latents_.view(), tensor_options());
  pending.wait();
  Landing<DecodeOutput> landing;
  pending.then(landing.callback());
  ASSERT_TRUE(landing.wait());
  EXPECT_NE(landing.thread(), std::this_thread::get_id());
}

TEST_F(CompletionTest, CallbacksMayStartCallsAndDropPendings) {
  Client client(quick_options());
  Landing<DecodeOutput> second;
  client.decode_async(server_.url(), latents_.view(), tensor_options())
      .then([&](Result<DecodeOutput> first) {
        ASSERT_TRUE(first);
        // A call started and dropped at once (cancelled and waited for), then one chained.
        {
          Pending<DecodeOutput> dropped =
              client.decode_async(server_.url(), latents_.view(), tensor_options());
        }
        client.decode_async(server_.url(), latents_.view(), tensor_options())
            .then(second.callback());
      });
  Result<DecodeOutput> result = second.wait();
  ASSERT_TRUE(result) << result.error().what();
}

TEST_F(CompletionTest, DestroyingTheClientStillRunsEachCallbackOnce) {
  std::atomic<int> calls{0};
  std::atomic<int> cancelled{0};
  server_.set_handler([&](const httplib::Request&, httplib::Response&) { server_.stall(); });
  {
    Client client(quick_options());
    for (int i = 0; i < 4; ++i) {
      client.decode_async(server_.url(), latents_.view(), tensor_options())
          .then([&](Result<DecodeOutput> result) {
            ++calls;
            if (!result && result.error().code() == ErrorCode::kCancelled) ++cancelled;
          });
    }
  }
  server_.release_stalls();
  EXPECT_EQ(calls.load(), 4);
  EXPECT_EQ(cancelled.load(), 4);
}

TEST_F(CompletionTest, CallsThatCallbacksStartWhileTheClientEndsEndAsCancelled) {
  std::atomic<int> chained{0};
  std::atomic<int> chained_cancelled{0};
  server_.set_handler([&](const httplib::Request&, httplib::Response&) { server_.stall(); });
  {
    Client client(quick_options());
    for (int i = 0; i < 3; ++i) {
      client.decode_async(server_.url(), latents_.view(), tensor_options())
          .then([&](Result<DecodeOutput>) {
            // The Client is being destroyed: this call ends at once, and its callback runs too.
            client.decode_async(server_.url(), latents_.view(), tensor_options())
                .then([&](Result<DecodeOutput> result) {
                  ++chained;
                  if (!result && result.error().code() == ErrorCode::kCancelled) {
                    ++chained_cancelled;
                  }
                });
          });
    }
  }
  server_.release_stalls();
  EXPECT_EQ(chained.load(), 3);
  EXPECT_EQ(chained_cancelled.load(), 3);
}

TEST_F(CompletionTest, APendingWhoseResultWasTakenIsSafeToUse) {
  Client client(quick_options());
  Pending<DecodeOutput> pending =
      client.decode_async(server_.url(), latents_.view(), tensor_options());
  ASSERT_TRUE(pending.get());
  EXPECT_FALSE(pending.valid());
  pending.wait();  // Returned at once: nothing left to wait for.
  EXPECT_TRUE(pending.wait_for(std::chrono::seconds(0)));
  pending.cancel();
  Result<DecodeOutput> again = pending.get();
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(again.error().message(), HasSubstr("already taken"));
  Landing<DecodeOutput> landing;
  pending.then(landing.callback());
  EXPECT_EQ(landing.wait().error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(CompletionTest, AMovedFromClientAnswersEveryCallWithAnError) {
  Client client(quick_options());
  Client moved = std::move(client);
  Result<DecodeOutput> decoded = client.decode(server_.url(), latents_.view(), tensor_options());
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(decoded.error().message(), HasSubstr("moved from"));
  EXPECT_EQ(client.decode_async(server_.url(), latents_.view()).get().error().code(),
            ErrorCode::kInvalidArgument);
  const Image image{8, 8, 3, Bytes(8 * 8 * 3, 0)};
  EXPECT_FALSE(client.encode(server_.url(), image));
  std::vector<Result<EncodeOutput>> batch = client.encode_batch(server_.url(), {image, image});
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_FALSE(batch[1]);
  client.recycle(Bytes(16));  // Ignored.
  EXPECT_EQ(client.options().max_in_flight, ClientOptions().max_in_flight);
  // The one moved to works.
  ASSERT_TRUE(moved.decode(server_.url(), latents_.view(), tensor_options()));
}

TEST_F(CompletionTest, ABatchIsCancelledByItsOwnTokenAndByTheCallsTokenAlike) {
  server_.set_handler([&](const httplib::Request&, httplib::Response&) { server_.stall(); });
  Client client(quick_options());
  const std::vector<TensorView> inputs(3, latents_.view());
  for (const bool by_call : {true, false}) {
    CancelToken call_token;
    CancelToken batch_token;
    DecodeOptions options = tensor_options();
    options.control.cancel = call_token;
    BatchOptions batch;
    batch.cancel = batch_token;
    batch.max_in_flight = 2;
    std::thread canceller([&] {
      // Once the first requests reached the server.
      while (server_.requests().empty())
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      (by_call ? call_token : batch_token).cancel();
    });
    const auto started = std::chrono::steady_clock::now();
    std::vector<Result<DecodeOutput>> results =
        client.decode_batch(server_.url(), inputs, options, batch);
    canceller.join();
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
    ASSERT_EQ(results.size(), 3u);
    for (const Result<DecodeOutput>& result : results) {
      ASSERT_FALSE(result) << (by_call ? "call token" : "batch token");
      EXPECT_EQ(result.error().code(), ErrorCode::kCancelled);
    }
  }
}

TEST_F(CompletionTest, TheWindowKeepsItsLimitAndHandsResultsOverAsTheyLand) {
  Client client(quick_options());
  std::atomic<int> in_flight{0};
  std::atomic<int> most{0};
  server_.set_handler([&](const httplib::Request&, httplib::Response& response) {
    const int now = ++in_flight;
    int seen = most.load();
    while (now > seen && !most.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    --in_flight;
    response.set_header("shape", "[1, 3, 8, 8]");
    response.set_header("dtype", "float32");
    response.set_content(std::string(3 * 8 * 8 * 4, '\0'), "tensor/binary");
  });
  std::vector<std::size_t> order;
  WindowJobs<DecodeOutput> jobs;
  jobs.count = 9;
  jobs.limit = 3;
  jobs.start = [&](std::size_t, const CancelToken& cancel) {
    DecodeOptions options = tensor_options();
    options.control.cancel = cancel;
    return client.decode_async(server_.url(), latents_.view(), options);
  };
  jobs.finish = [&](std::size_t index, Result<DecodeOutput> result) {
    EXPECT_TRUE(result);
    order.push_back(index);
    return WindowStep::kGoOn;
  };
  const WindowSummary summary = run_window(jobs);
  EXPECT_EQ(summary.started, 9u);
  EXPECT_EQ(summary.finished, 9u);
  EXPECT_FALSE(summary.stopped);
  EXPECT_EQ(order.size(), 9u);
  EXPECT_LE(most.load(), 3);
  EXPECT_GE(most.load(), 2);  // The window did run calls side by side.
}

TEST(CallWindowTest, WeightsCountRequestsAndAHeavyCallStartsAlone) {
  // Calls that finish at once: the window starts as many as fit before it takes any result.
  const std::vector<std::size_t> weights = {3, 3, 1, 1, 9, 2, 2};
  std::size_t load = 0;
  std::size_t calls = 0;
  std::size_t most = 0;
  bool heavy_alone = false;
  WindowJobs<int> jobs;
  jobs.count = weights.size();
  jobs.limit = 4;
  jobs.weight = [&](std::size_t index) { return weights[index]; };
  jobs.start = [&](std::size_t index, const CancelToken&) {
    load += weights[index];
    ++calls;
    if (weights[index] > jobs.limit)
      heavy_alone = calls == 1;
    else
      most = std::max(most, load);
    return make_ready_pending<int>(static_cast<int>(index));
  };
  std::vector<int> order;
  jobs.finish = [&](std::size_t index, Result<int> result) {
    load -= weights[index];
    --calls;
    order.push_back(*result);
    return WindowStep::kGoOn;
  };
  const WindowSummary summary = run_window(jobs);
  EXPECT_EQ(summary.finished, weights.size());
  EXPECT_LE(most, 4u);
  EXPECT_EQ(most, 4u);  // 3 + 1 fill the window: it is used, not just bounded.
  EXPECT_TRUE(heavy_alone);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6}));
}

TEST_F(CompletionTest, AWindowStoppedByAResultCancelsTheRestAndStartsNoMore) {
  server_.set_handler([&](const httplib::Request& request, httplib::Response& response) {
    if (request.target.find("fail") != std::string::npos) {
      response.status = 400;
      return;
    }
    server_.stall();
  });
  Client client(quick_options());
  WindowJobs<DecodeOutput> jobs;
  jobs.count = 10;
  jobs.limit = 3;
  jobs.start = [&](std::size_t index, const CancelToken& cancel) {
    DecodeOptions options = tensor_options();
    options.control.cancel = cancel;
    return client.decode_async(server_.url(index == 2 ? "/fail" : "/"), latents_.view(), options);
  };
  std::vector<ErrorCode> codes;
  jobs.finish = [&](std::size_t, Result<DecodeOutput> result) {
    codes.push_back(result ? ErrorCode::kInternal : result.error().code());
    return result ? WindowStep::kGoOn : WindowStep::kStop;
  };
  const WindowSummary summary = run_window(jobs);
  EXPECT_TRUE(summary.stopped);
  EXPECT_EQ(summary.started, 3u);
  ASSERT_EQ(codes.size(), 3u);
  EXPECT_EQ(codes[0], ErrorCode::kInvalidArgument);
  EXPECT_EQ(codes[1], ErrorCode::kCancelled);
  EXPECT_EQ(codes[2], ErrorCode::kCancelled);
  server_.release_stalls();
}

}  // namespace
}  // namespace rvae
