// The reference endpoint as a server: routes, health and metrics, body limit, lifecycle,
// counters, concurrency, and every injected fault.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "reference_test_support.hpp"
#include "rvae/client.hpp"
#include "rvae/testing/reference_endpoint.hpp"

namespace rvae::testing_test {
namespace {

using rvae::reference::EndpointRole;
using rvae::reference::ReferenceEndpoint;
using rvae::reference::ReferenceEndpointOptions;
using rvae::reference::ReplyFault;
using namespace std::chrono_literals;

const rvae::Shape kShape{1, 4, 2, 2};
const std::string kQuery =
    "image_format=jpg&output_type=pt&partial_postprocess=True&shape=1&shape=4&shape=2&shape=2&"
    "dtype=float32";

class ServerTest : public EndpointTest {
 protected:
  httplib::Result decode() {
    return post("/sd15/decode/?" + kQuery, body_, "tensor/binary", "tensor/binary");
  }
  std::string decode_request_bytes(const std::string& path = "/sd15/decode/") const {
    return "POST " + path + "?" + kQuery +
           " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: tensor/binary\r\nAccept: "
           "tensor/binary\r\nConnection: close\r\nContent-Length: " +
           std::to_string(body_.size()) + "\r\n\r\n" + body_;
  }
  std::string metrics() {
    auto res = http_->Get("/metrics");
    return res ? res->body : "<no reply>";
  }
  // The body every decode of kShape returns (taken from a clean request).
  std::string clean_body() {
    auto res = decode();
    return res && res->status == 200 ? res->body : std::string();
  }

  const std::vector<float> latents_ = make_latents(16, 3);
  const std::string body_ = to_body(latents_);
};

TEST_F(ServerTest, HealthAndMetrics) {
  for (const char* path : {"/", "/health"}) {
    auto res = http_->Get(path);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "Ok");
  }
  EXPECT_EQ(metrics(), "inf_batch_current_size 0\ninf_queue_size 0\n");
}

TEST_F(ServerTest, RouteVariantsAndUnknownRoutes) {
  for (const char* path : {"/sd15/decode/", "/sd15/decode", "/sd15/decode/predict"}) {
    SCOPED_TRACE(path);
    auto res = post(std::string(path) + "?" + kQuery, body_, "tensor/binary", "tensor/binary");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << res->body;
  }
  auto unknown_model = post("/sd3/decode/?" + kQuery, body_, "tensor/binary", "tensor/binary");
  ASSERT_TRUE(unknown_model);
  EXPECT_EQ(unknown_model->status, 404);
  EXPECT_EQ(error_text(unknown_model->body),
            "Unknown model `sd3`; this endpoint serves sd15, sdxl, flux, hunyuan-video, wan2.1, "
            "qwen-image.");
  auto unknown_route = http_->Get("/nowhere");
  ASSERT_TRUE(unknown_route);
  EXPECT_EQ(unknown_route->status, 404);
  EXPECT_EQ(unknown_route->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(error_text(unknown_route->body), "Not Found: GET /nowhere");
  // Without a root binding, POST / is not a model.
  auto root = post("/?" + kQuery, body_, "tensor/binary", "tensor/binary");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->status, 404);
  EXPECT_EQ(error_text(root->body),
            "No model is bound to /; use /<model>/decode/ or /<model>/encode/.");
}

TEST_F(ServerTest, RootBinding) {
  ReferenceEndpointOptions options;
  options.root = rvae::reference::RootBinding{"sd15", EndpointRole::kDecode};
  start_with(options);
  const std::string expected =
      post("/sd15/decode/?" + kQuery, body_, "tensor/binary", "tensor/binary")->body;
  ASSERT_FALSE(expected.empty());
  for (const char* path : {"/", "/predict"}) {
    auto res = post(std::string(path) + "?" + kQuery, body_, "tensor/binary", "tensor/binary");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << res->body;
    EXPECT_EQ(res->body, expected);
  }
  {
    // rvae::Client at the root URL, as with a real Inference Endpoint. (Scoped: a client that
    // keeps an idle connection open makes stop() wait for the keep-alive timeout.)
    rvae::Client client;
    rvae::DecodeOptions decode_options;
    decode_options.output_type = rvae::OutputType::kUInt8;
    rvae::Result<rvae::DecodeOutput> out =
        client.decode(endpoint_->url("/"), view_of(latents_, kShape), decode_options);
    ASSERT_TRUE(out) << out.error().what();
    ASSERT_EQ(out->images.size(), 1u);
    EXPECT_EQ(std::string(out->images[0].pixels.begin(), out->images[0].pixels.end()), expected);
  }

  options.root = rvae::reference::RootBinding{"sdxl", EndpointRole::kEncode};
  start_with(options);
  rvae::Image image;
  image.width = 8;
  image.height = 8;
  image.channels = 3;
  image.pixels.assign(8 * 8 * 3, 200);
  rvae::Client client;
  rvae::Result<rvae::Tensor> latents = latents_only(client.encode(endpoint_->url("/"), image));
  ASSERT_TRUE(latents) << latents.error().what();
  EXPECT_EQ(latents->shape(), (rvae::Shape{1, 4, 1, 1}));
}

TEST_F(ServerTest, InvalidOptionsAndLifecycle) {
  auto start_error = [](ReferenceEndpointOptions options) {
    ReferenceEndpoint endpoint(std::move(options));
    rvae::Result<void> started = endpoint.start();
    return started ? std::string("started") : started.error().message();
  };
  ReferenceEndpointOptions bad;
  bad.root = rvae::reference::RootBinding{"sd3", EndpointRole::kDecode};
  EXPECT_EQ(start_error(bad), "root binding names unknown model 'sd3'");
  bad.root = rvae::reference::RootBinding{"hunyuan-video", EndpointRole::kEncode};
  EXPECT_EQ(start_error(bad), "root binding: model 'hunyuan-video' has no encoder");
  bad = {};
  bad.worker_threads = 0;
  EXPECT_EQ(start_error(bad), "worker_threads must be at least 1, got 0");
  bad = {};
  bad.max_image_side = 4;
  EXPECT_EQ(start_error(bad), "max_image_side must be at least 8, got 4");
  bad = {};
  bad.port = 70000;
  EXPECT_EQ(start_error(bad), "port must be 0..65535, got 70000");
  bad = {};
  bad.keep_alive_timeout = std::chrono::seconds(-1);
  EXPECT_EQ(start_error(bad), "keep_alive_timeout must not be negative");
  bad = {};
  bad.port = endpoint_->port();  // taken by the fixture's endpoint
  {
    ReferenceEndpoint clash(bad);
    rvae::Result<void> started = clash.start();
    ASSERT_FALSE(started);
    EXPECT_EQ(started.error().code(), rvae::ErrorCode::kUnavailable);
  }

  // Twice, and after stop.
  rvae::Result<void> again = endpoint_->start();
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), rvae::ErrorCode::kInternal);
  ReferenceEndpoint stopped;
  stopped.stop();
  EXPECT_FALSE(stopped.start());
  EXPECT_EQ(stopped.port(), -1);

  // Stop right after start, many times over: must neither hang nor crash.
  for (int i = 0; i < 20; ++i) {
    ReferenceEndpoint quick;
    ASSERT_TRUE(quick.start());
    EXPECT_GT(quick.port(), 0);
    quick.stop();
    quick.stop();  // idempotent
  }
}

TEST_F(ServerTest, BlockingRunStopsFromAnotherThread) {
  ReferenceEndpoint endpoint;
  std::atomic<bool> returned{false};
  rvae::Result<void> result;
  std::thread runner([&] {
    result = endpoint.run();
    returned = true;
  });
  // Wait for the port (bound inside run) and talk to it.
  while (endpoint.port() < 0)
    std::this_thread::yield();
  httplib::Client client("127.0.0.1", endpoint.port());
  auto res = client.Get("/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, "Ok");
  endpoint.stop();
  runner.join();
  EXPECT_TRUE(returned);
  EXPECT_TRUE(result);

  // stop() racing run() from the start still ends run().
  for (int i = 0; i < 10; ++i) {
    ReferenceEndpoint racing;
    std::thread t([&] { (void)racing.run(); });
    racing.stop();
    t.join();
  }
}

TEST_F(ServerTest, OversizedBodyIsRefusedWithoutBuffering) {
  ReferenceEndpointOptions options;
  options.max_body_bytes = 1000;
  start_with(options);
  const std::string big(2000, 'x');
  auto res = post("/sd15/decode/?" + kQuery, big, "tensor/binary", "tensor/binary");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(error_text(res->body), "Request body of 2000 bytes exceeds the limit of 1000 bytes.");

  // With "Expect: 100-continue" the refusal comes before any body byte is sent: this request
  // declares 1 TB and sends nothing, yet gets its answer.
  const std::string request = "POST /sd15/decode/?" + kQuery +
                              " HTTP/1.1\r\nHost: x\r\nContent-Type: tensor/binary\r\n"
                              "Content-Length: 1000000000000\r\nExpect: 100-continue\r\n"
                              "Connection: close\r\n\r\n";
  const auto [head, body] = split_reply(raw_exchange(endpoint_->port(), request));
  EXPECT_EQ(head.rfind("HTTP/1.1 413", 0), 0u) << head;
  EXPECT_EQ(error_text(body),
            "Request body of 1000000000000 bytes exceeds the limit of 1000 bytes.");
  // A body under the limit still works after that.
  auto ok = post("/sd15/decode/?" + kQuery, body_, "tensor/binary", "tensor/binary");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST_F(ServerTest, FormEncodedBodiesGetTheServiceError) {
  // Form bodies are not parsed by the server: the handler refuses the type like any other.
  auto res =
      post("/sd15/encode/", std::string(10000, 'a'), "application/x-www-form-urlencoded", "*/*");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(error_text(res->body),
            "Content-Type `application/x-www-form-urlencoded` is not supported for encode; send a "
            "PNG/JPEG body with no Content-Type, image/png or image/jpeg, or a tensor with "
            "tensor/binary.");
}

TEST_F(ServerTest, MalformedChunkedBodyIsRefused) {
  // A chunked body with a malformed chunk size is refused by libmicrohttpd before any handler
  // runs (with its own short HTML page: such framing errors never reach the service's handler
  // either), and the connection is closed.
  const std::string request = "POST /sd15/decode/?" + kQuery +
                              " HTTP/1.1\r\nHost: x\r\nContent-Type: tensor/binary\r\n"
                              "Transfer-Encoding: chunked\r\n\r\n"
                              "zz\r\nabc\r\n0\r\n\r\n";
  const auto [head, body] = split_reply(raw_exchange(endpoint_->port(), request));
  EXPECT_EQ(head.rfind("HTTP/1.1 400", 0), 0u) << head;
  EXPECT_EQ(endpoint_->stats().inference_requests, 0u);
}

TEST_F(ServerTest, ErrorBodiesStayValidJsonForNonUtf8Input) {
  const RawReply reply = raw_post(endpoint_->port(), "/sd15/decode/?" + kQuery, body_,
                                  {"Content-Type: tensor/\xff\xfe", "Accept: tensor/binary"});
  EXPECT_EQ(reply.status, 400);
  const nlohmann::json parsed = nlohmann::json::parse(reply.body, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << reply.body;
  ASSERT_TRUE(parsed.contains("error"));
  const std::string message = parsed["error"].get<std::string>();
  EXPECT_EQ(message.rfind("Content-Type `tensor/", 0), 0u) << message;
  EXPECT_NE(message.find("\xEF\xBF\xBD"), std::string::npos);  // U+FFFD replaced the bytes
}

TEST_F(ServerTest, CountsRequestsPerPath) {
  ASSERT_TRUE(http_->Get("/health"));
  ASSERT_TRUE(decode());
  ASSERT_TRUE(decode());
  ASSERT_TRUE(post("/sdxl/decode?" + kQuery, body_, "tensor/binary", "tensor/binary"));
  EXPECT_EQ(endpoint_->total_requests(), 4u);
  EXPECT_EQ(endpoint_->requests_for("/sd15/decode/"), 2u);
  EXPECT_EQ(endpoint_->requests_for("/sdxl/decode"), 1u);
  EXPECT_EQ(endpoint_->requests_for("/health"), 1u);
  EXPECT_EQ(endpoint_->requests_for("/flux/decode/"), 0u);
  const rvae::reference::EndpointStats stats = endpoint_->stats();
  EXPECT_EQ(stats.total_requests, 4u);
  EXPECT_EQ(stats.inference_requests, 3u);
  EXPECT_EQ(stats.per_path.size(), 3u);
}

TEST_F(ServerTest, ConcurrentRequestsAllGetTheirOwnAnswer) {
  constexpr int kThreads = 6;
  constexpr int kRequestsEach = 8;
  std::vector<std::string> expected(kThreads);
  std::vector<std::vector<float>> inputs(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    inputs[static_cast<std::size_t>(i)] = make_latents(16, 100 + i);
    auto res = post("/sd15/decode/?" + kQuery, to_body(inputs[static_cast<std::size_t>(i)]),
                    "tensor/binary", "tensor/binary");
    ASSERT_TRUE(res);
    expected[static_cast<std::size_t>(i)] = res->body;
  }
  rvae::Client client;
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      rvae::DecodeOptions options;
      options.output_type = rvae::OutputType::kUInt8;
      for (int r = 0; r < kRequestsEach; ++r) {
        rvae::Result<rvae::DecodeOutput> out =
            client.decode(endpoint_->url("/sd15/decode/"),
                          view_of(inputs[static_cast<std::size_t>(i)], kShape), options);
        if (!out || out->images.size() != 1 ||
            std::string(out->images[0].pixels.begin(), out->images[0].pixels.end()) !=
                expected[static_cast<std::size_t>(i)]) {
          ++mismatches;
        }
      }
    });
  }
  for (std::thread& t : threads)
    t.join();
  EXPECT_EQ(mismatches, 0);
  EXPECT_EQ(endpoint_->requests_for("/sd15/decode/"),
            static_cast<std::uint64_t>(kThreads * (kRequestsEach + 1)));
  EXPECT_EQ(metrics(), "inf_batch_current_size 0\ninf_queue_size 0\n");
}

// ---- Fault injection

TEST_F(ServerTest, LatencyDelaysRepliesAndShowsInTheQueue) {
  endpoint_->set_latency(300ms);
  const auto start = std::chrono::steady_clock::now();
  auto res = decode();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_GE(elapsed, 300ms);

  // A long delay: the request waits in the queue (metrics), and clear_faults releases it.
  endpoint_->set_latency(60s);
  std::thread waiting([&] {
    httplib::Client other("127.0.0.1", endpoint_->port());
    other.set_read_timeout(60, 0);
    httplib::Headers headers{{"Accept", "tensor/binary"}};
    auto r = other.Post("/sd15/decode/?" + kQuery, headers, body_, "tensor/binary");
    EXPECT_TRUE(r);
    if (r) {
      EXPECT_EQ(r->status, 200);
    }
  });
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (metrics() != "inf_batch_current_size 0\ninf_queue_size 1\n" &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_EQ(metrics(), "inf_batch_current_size 0\ninf_queue_size 1\n");
  endpoint_->clear_faults();
  waiting.join();
}

TEST_F(ServerTest, FailNextAnswersWithStatusAndRetryAfter) {
  endpoint_->fail_next(2, 503, "7", "503 Service Unavailable");
  for (int i = 0; i < 2; ++i) {
    auto res = decode();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 503);
    EXPECT_EQ(res->get_header_value("Retry-After"), "7");
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
    EXPECT_EQ(res->body, "{\"error\": \"503 Service Unavailable\"}");
  }
  auto ok = decode();
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);

  EXPECT_EQ(endpoint_->stats().failed_by_injection, 2u);

  // The client sees the status, the server's message, and that a retry may help. (Enough
  // failures queued that client-side retries, if any, fail too.)
  endpoint_->fail_next(1000, 429);
  rvae::Client client;
  rvae::DecodeOptions options;
  options.output_type = rvae::OutputType::kUInt8;
  rvae::Result<rvae::DecodeOutput> out =
      client.decode(endpoint_->url("/sd15/decode/"), view_of(latents_, kShape), options);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().http_status(), 429);
  EXPECT_EQ(out.error().server_message(), "Injected failure");
  EXPECT_TRUE(out.error().retryable());
  endpoint_->clear_faults();
  auto after = decode();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
  EXPECT_FALSE(after->has_header("Retry-After"));
}

TEST_F(ServerTest, TruncatedBodyDeclaresFullLength) {
  const std::string full = clean_body();
  ASSERT_EQ(full.size(), 16u * 16 * 3);
  endpoint_->set_reply_fault(ReplyFault::kTruncateBody, 1);
  const auto [head, body] = split_reply(raw_exchange(endpoint_->port(), decode_request_bytes()));
  EXPECT_EQ(head.rfind("HTTP/1.1 200", 0), 0u) << head;
  EXPECT_EQ(raw_header(head, "Content-Length"), std::to_string(full.size()));
  EXPECT_EQ(body, full.substr(0, full.size() / 2));
  // count = 1: the next reply is whole again.
  auto res = decode();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, full);

  endpoint_->set_reply_fault(ReplyFault::kTruncateBody);  // every reply until cleared
  rvae::Client client;
  rvae::DecodeOptions options;
  options.output_type = rvae::OutputType::kUInt8;
  for (int i = 0; i < 2; ++i) {
    rvae::Result<rvae::DecodeOutput> out =
        client.decode(endpoint_->url("/sd15/decode/"), view_of(latents_, kShape), options);
    EXPECT_FALSE(out);
  }
  endpoint_->clear_faults();
  const std::uint64_t faulted = endpoint_->stats().faulted_replies;
  EXPECT_GE(faulted, 3u);  // one raw, then at least one per client call
  EXPECT_TRUE(client.decode(endpoint_->url("/sd15/decode/"), view_of(latents_, kShape), options));
  EXPECT_EQ(endpoint_->stats().faulted_replies, faulted);
}

TEST_F(ServerTest, CloseMidReplyEndsAChunkedBodyEarly) {
  const std::string full = clean_body();
  endpoint_->set_reply_fault(ReplyFault::kCloseMidReply, 1);
  const auto [head, body] = split_reply(raw_exchange(endpoint_->port(), decode_request_bytes()));
  EXPECT_EQ(head.rfind("HTTP/1.1 200", 0), 0u) << head;
  EXPECT_EQ(raw_header(head, "Transfer-Encoding"), "chunked");
  EXPECT_EQ(raw_header(head, "Content-Length"), "");
  // De-chunk what arrived: half the body, and no terminating zero-size chunk.
  std::string payload;
  std::size_t at = 0;
  bool terminated = false;
  while (at < body.size()) {
    const std::size_t line_end = body.find("\r\n", at);
    if (line_end == std::string::npos) break;
    const std::size_t size = std::stoul(body.substr(at, line_end - at), nullptr, 16);
    if (size == 0) {
      terminated = true;
      break;
    }
    payload += body.substr(line_end + 2, size);
    at = line_end + 2 + size + 2;
  }
  EXPECT_FALSE(terminated);
  EXPECT_EQ(payload, full.substr(0, full.size() / 2));

  endpoint_->set_reply_fault(ReplyFault::kCloseMidReply);  // also for any client retries
  rvae::Client client;
  rvae::DecodeOptions options;
  options.output_type = rvae::OutputType::kUInt8;
  EXPECT_FALSE(client.decode(endpoint_->url("/sd15/decode/"), view_of(latents_, kShape), options));
}

TEST_F(ServerTest, WrongShapeAndDtypeHeaders) {
  const std::string full = clean_body();
  endpoint_->set_reply_fault(ReplyFault::kWrongShapeHeader, 1);
  auto shape = decode();
  ASSERT_TRUE(shape);
  EXPECT_EQ(shape->get_header_value("shape"), "[1,16,16,4]");
  EXPECT_EQ(shape->get_header_value("dtype"), "uint8");
  EXPECT_EQ(shape->body, full);

  endpoint_->set_reply_fault(ReplyFault::kWrongDtypeHeader, 1);
  auto dtype = decode();
  ASSERT_TRUE(dtype);
  EXPECT_EQ(dtype->get_header_value("shape"), "[1,16,16,3]");
  EXPECT_EQ(dtype->get_header_value("dtype"), "float16");
  EXPECT_EQ(dtype->body, full);

  // float replies come in the VAE's dtype: float16 (sd15) -> float32, bfloat16 (flux) ->
  // float32, whatever the latents' dtype.
  endpoint_->set_reply_fault(ReplyFault::kWrongDtypeHeader, 3);
  const std::string float_query =
      "output_type=pt&partial_postprocess=False&shape=1&shape=4&shape=2&shape=2&dtype=";
  auto f32 =
      post("/sd15/decode/?" + float_query + "float32", body_, "tensor/binary", "tensor/binary");
  ASSERT_TRUE(f32);
  EXPECT_EQ(f32->get_header_value("dtype"), "float32");
  EXPECT_EQ(f32->body.size(), 3u * 16 * 16 * 2);  // float16 bytes under a float32 header
  const std::vector<float> flux_latents = make_latents(16 * 4, 3);
  auto bf16 = post(
      "/flux/decode/?output_type=pt&partial_postprocess=False&shape=1&shape=16&shape=2&shape=2&"
      "dtype=float32",
      to_body(flux_latents), "tensor/binary", "tensor/binary");
  ASSERT_TRUE(bf16);
  EXPECT_EQ(bf16->get_header_value("dtype"), "float32");
  EXPECT_EQ(bf16->body.size(), 3u * 16 * 16 * 2);
  rvae::Result<rvae::Tensor> half = rvae::convert(view_of(latents_, kShape), rvae::DType::kFloat16);
  ASSERT_TRUE(half);
  auto f16 = post("/sd15/decode/?" + float_query + "float16",
                  std::string(reinterpret_cast<const char*>(half->data()), half->size_bytes()),
                  "tensor/binary", "tensor/binary");
  ASSERT_TRUE(f16);
  EXPECT_EQ(f16->get_header_value("dtype"), "float32");

  // Images carry no such headers: the fault waits for the next tensor reply.
  endpoint_->set_reply_fault(ReplyFault::kWrongShapeHeader, 1);
  auto image = post(
      "/sd15/decode/?output_type=pil&image_format=png&shape=1&shape=4&shape=2&"
      "shape=2&dtype=float32",
      body_, "tensor/binary", "image/png");
  ASSERT_TRUE(image);
  EXPECT_EQ(image->status, 200);
  EXPECT_FALSE(image->has_header("shape"));
  auto next = decode();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->get_header_value("shape"), "[1,16,16,4]");

  // The client must notice.
  rvae::Client client;
  rvae::DecodeOptions options;
  options.output_type = rvae::OutputType::kUInt8;
  for (ReplyFault fault : {ReplyFault::kWrongShapeHeader, ReplyFault::kWrongDtypeHeader}) {
    endpoint_->set_reply_fault(fault);  // also for any client retries
    rvae::Result<rvae::DecodeOutput> out =
        client.decode(endpoint_->url("/sd15/decode/"), view_of(latents_, kShape), options);
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error().code(), rvae::ErrorCode::kDataLoss) << out.error().what();
  }
}

TEST_F(ServerTest, StallHoldsTheBodyUntilReleased) {
  const std::string full = clean_body();
  endpoint_->set_reply_fault(ReplyFault::kStallMidBody, 1);
  std::string reply;
  std::thread client([&] { reply = raw_exchange(endpoint_->port(), decode_request_bytes()); });
  ASSERT_TRUE(endpoint_->wait_until_stalled(1, 30s));
  EXPECT_EQ(endpoint_->stalled_replies(), 1u);
  // The stalled reply is in flight.
  EXPECT_EQ(metrics(), "inf_batch_current_size 1\ninf_queue_size 0\n");
  endpoint_->release_stalled();
  client.join();
  const auto [head, body] = split_reply(reply);
  EXPECT_EQ(body, full);
  EXPECT_EQ(endpoint_->stalled_replies(), 0u);
  EXPECT_EQ(metrics(), "inf_batch_current_size 0\ninf_queue_size 0\n");
}

TEST_F(ServerTest, StopReleasesStalledAndDelayedRequests) {
  const std::string full = clean_body();
  endpoint_->set_reply_fault(ReplyFault::kStallMidBody);
  std::string stalled_reply;
  std::thread stalled(
      [&] { stalled_reply = raw_exchange(endpoint_->port(), decode_request_bytes()); });
  ASSERT_TRUE(endpoint_->wait_until_stalled(1, 30s));
  endpoint_->set_latency(3600s);
  std::string delayed_reply;
  std::thread delayed(
      [&] { delayed_reply = raw_exchange(endpoint_->port(), decode_request_bytes()); });
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (metrics().find("inf_queue_size 1") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  const auto start = std::chrono::steady_clock::now();
  endpoint_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  stalled.join();
  delayed.join();
  // The stalled reply was cut at half its declared length.
  const auto [head, body] = split_reply(stalled_reply);
  EXPECT_EQ(raw_header(head, "Content-Length"), std::to_string(full.size()));
  EXPECT_EQ(body, full.substr(0, full.size() / 2));
}

TEST_F(ServerTest, WaitUntilStalledTimesOut) {
  EXPECT_FALSE(endpoint_->wait_until_stalled(1, 10ms));
  endpoint_->set_reply_fault(ReplyFault::kStallMidBody, 0);  // count 0: no fault
  auto res = decode();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(endpoint_->stats().faulted_replies, 0u);
}

}  // namespace
}  // namespace rvae::testing_test
