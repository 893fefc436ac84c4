// The request engine over the Open Inference Protocol against a scripted Triton-like server:
// metadata read once and shared, read again after a datatype refusal, replicas whose model is
// not loaded skipped, refusals before sending, the token rules, the readiness check.
#include <atomic>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "rvae/rvae.hpp"
#include "support/result_matchers.hpp"
#include "support/scripted_server.hpp"

namespace rvae {
namespace {

using ::testing::HasSubstr;
using testing_support::IsError;
using testing_support::IsOk;
using testing_support::RecordedRequest;
using testing_support::ScriptedServer;

// A model "vae" with one input and one output, answering infer with FP32 pixels of value
// `pixel` in [B, 3, 8h, 8w]; its input datatype can change while it runs (a reloaded model).
class TritonLike {
 public:
  TritonLike() {
    server_.set_handler([this](const httplib::Request& request, httplib::Response& response) {
      answer(request, response);
    });
  }
  std::string url() const { return server_.url("/v2/models/vae"); }
  ScriptedServer& server() { return server_; }

  void set_datatype(std::string datatype) {
    std::lock_guard<std::mutex> lock(mutex_);
    datatype_ = std::move(datatype);
  }
  // After `n` more infer requests, the model switches its input to `datatype`.
  void reload_after(int n, std::string datatype) {
    std::lock_guard<std::mutex> lock(mutex_);
    reload_countdown_ = n;
    reload_datatype_ = std::move(datatype);
  }
  void set_loaded(bool loaded) { loaded_ = loaded; }
  void set_infer_status(int status) { infer_status_ = status; }
  void set_refuse_all_datatypes(bool refuse) { refuse_all_ = refuse; }

  std::vector<RecordedRequest> requests_to(const std::string& suffix) const {
    std::vector<RecordedRequest> out;
    for (const RecordedRequest& request : server_.requests()) {
      if (request.path.size() >= suffix.size() &&
          request.path.compare(request.path.size() - suffix.size(), suffix.size(), suffix) == 0) {
        out.push_back(request);
      }
    }
    return out;
  }
  std::size_t metadata_reads() const { return requests_to("/v2/models/vae").size(); }
  std::size_t infers() const { return requests_to("/infer").size(); }

 private:
  void answer(const httplib::Request& request, httplib::Response& response) {
    std::string datatype;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      datatype = datatype_;
    }
    if (!loaded_) {
      response.status =
          request.path.size() > 6 && request.path.substr(request.path.size() - 6) == "/ready" ? 400
                                                                                              : 404;
      response.set_content(
          R"({"error":"Request for unknown model: 'vae' has no available versions"})",
          "application/json");
      return;
    }
    if (request.method == "GET" && request.path == "/v2/models/vae/ready") {
      response.status = 200;
      return;
    }
    if (request.method == "GET" && request.path == "/v2/models/vae") {
      const nlohmann::json metadata = {
          {"name", "vae"},
          {"versions", {"1"}},
          {"platform", "onnxruntime_onnx"},
          {"inputs",
           {{{"name", "latent_sample"}, {"datatype", datatype}, {"shape", {-1, 4, -1, -1}}}}},
          {"outputs", {{{"name", "sample"}, {"datatype", "FP32"}, {"shape", {-1, 3, -1, -1}}}}}};
      response.set_content(metadata.dump(), "application/json");
      return;
    }
    if (request.method != "POST") {
      response.status = 405;
      return;
    }
    if (infer_status_ != 200) {
      response.status = infer_status_;
      response.set_content(R"({"error":"scripted failure"})", "application/json");
      return;
    }
    const std::size_t header_length =
        std::stoul(request.get_header_value("Inference-Header-Content-Length"));
    const nlohmann::json header = nlohmann::json::parse(request.body.substr(0, header_length));
    const nlohmann::json& input = header["inputs"][0];
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (reload_countdown_ > 0 && --reload_countdown_ == 0) datatype_ = reload_datatype_;
      datatype = datatype_;
    }
    if (refuse_all_) datatype = input["datatype"] == "FP32" ? "FP16" : "FP32";
    if (input["datatype"] != datatype) {
      response.status = 400;
      response.set_content(R"({"error":"inference input 'latent_sample' data-type is ')" +
                               input["datatype"].get<std::string>() +
                               R"(', but model 'vae' expects ')" + datatype + R"('"})",
                           "application/json");
      return;
    }
    const std::vector<std::int64_t> shape = input["shape"];
    const std::int64_t count = shape[0] * 3 * shape[2] * 8 * shape[3] * 8;
    std::string binary(static_cast<std::size_t>(count) * 4, '\0');
    const float value = 0.5f;
    for (std::int64_t i = 0; i < count; ++i)
      std::memcpy(&binary[static_cast<std::size_t>(i) * 4], &value, 4);
    const nlohmann::json reply = {{"model_name", "vae"},
                                  {"model_version", "1"},
                                  {"outputs",
                                   {{{"name", "sample"},
                                     {"datatype", "FP32"},
                                     {"shape", {shape[0], 3, shape[2] * 8, shape[3] * 8}},
                                     {"parameters", {{"binary_data_size", binary.size()}}}}}}};
    const std::string json = reply.dump();
    response.set_header("Inference-Header-Content-Length", std::to_string(json.size()));
    response.set_content(json + binary, "application/octet-stream");
  }

  ScriptedServer server_;
  std::mutex mutex_;
  std::string datatype_ = "FP16";
  int reload_countdown_ = 0;
  std::string reload_datatype_;
  std::atomic<bool> loaded_{true};
  std::atomic<int> infer_status_{200};
  std::atomic<bool> refuse_all_{false};
};

ClientOptions quiet_options() {
  ClientOptions options;
  options.token_from_environment = false;
  options.retry.initial_backoff = std::chrono::milliseconds(1);
  options.retry.max_backoff = std::chrono::milliseconds(2);
  return options;
}

Tensor latents_4x4() {
  std::vector<float> values(4 * 4 * 4);
  for (std::size_t i = 0; i < values.size(); ++i)
    values[i] = static_cast<float>(i) / 64.0f - 0.5f;
  return Tensor::from_floats({1, 4, 4, 4}, values).value();
}

DecodeOptions float_pixels() {
  DecodeOptions options;
  options.output_type = OutputType::kFloatTensor;
  options.scaling_factor = 0.5;
  return options;
}

TEST(OpenInferenceEngine, MetadataIsReadOnceAndSharedByEveryCallToTheEndpoint) {
  TritonLike triton;
  Client client(quiet_options());
  const Tensor latents = latents_4x4();
  std::vector<Pending<DecodeOutput>> calls;
  for (int i = 0; i < 4; ++i)
    calls.push_back(client.decode_async(triton.url(), latents.view(), float_pixels()));
  for (Pending<DecodeOutput>& call : calls) {
    Result<DecodeOutput> output = call.get();
    ASSERT_THAT(output, IsOk());
    EXPECT_EQ(output->tensor.shape(), (Shape{1, 3, 32, 32}));
    EXPECT_EQ(output->tensor.dtype(), DType::kFloat32);
  }
  ASSERT_THAT(client.decode(triton.url(), latents.view(), float_pixels()), IsOk());
  EXPECT_EQ(triton.metadata_reads(), 1u);
  EXPECT_EQ(triton.infers(), 5u);
}

TEST(OpenInferenceEngine, LatentsGoOutDenormalisedInTheModelsDatatypeAsBinaryData) {
  TritonLike triton;
  Client client(quiet_options());
  const Tensor latents = latents_4x4();
  ASSERT_THAT(client.decode(triton.url(), latents.view(), float_pixels()), IsOk());
  const std::vector<RecordedRequest> infers = triton.requests_to("/infer");
  ASSERT_EQ(infers.size(), 1u);
  const RecordedRequest& infer = infers[0];
  const std::size_t header_length = std::stoul(infer.header("Inference-Header-Content-Length"));
  const nlohmann::json header = nlohmann::json::parse(infer.body.substr(0, header_length));
  EXPECT_EQ(header["inputs"][0]["name"], "latent_sample");
  EXPECT_EQ(header["inputs"][0]["datatype"], "FP16");
  EXPECT_EQ(header["inputs"][0]["shape"], nlohmann::json({1, 4, 4, 4}));
  EXPECT_EQ(header["outputs"][0]["name"], "sample");
  EXPECT_EQ(header["outputs"][0]["parameters"]["binary_data"], true);
  // raw = z / 0.5, as float16.
  const std::string binary = infer.body.substr(header_length);
  ASSERT_EQ(binary.size(), 64u * 2);
  const std::vector<float> z = latents.to_floats();
  for (std::size_t i = 0; i < z.size(); ++i) {
    std::uint16_t bits = 0;
    std::memcpy(&bits, &binary[i * 2], 2);
    EXPECT_EQ(bits, float32_to_float16(z[i] / 0.5f)) << i;
  }
}

TEST(OpenInferenceEngine, ADatatypeRefusalReadsTheMetadataAgainOnceAndResends) {
  TritonLike triton;
  Client client(quiet_options());
  const Tensor latents = latents_4x4();
  ASSERT_THAT(client.decode(triton.url(), latents.view(), float_pixels()), IsOk());
  triton.reload_after(1, "FP32");  // The next request finds the model reloaded as FP32.
  ASSERT_THAT(client.decode(triton.url(), latents.view(), float_pixels()), IsOk());
  EXPECT_EQ(triton.metadata_reads(), 2u);
  const std::vector<RecordedRequest> infers = triton.requests_to("/infer");
  ASSERT_EQ(infers.size(), 3u);
  EXPECT_THAT(infers[2].body, HasSubstr("\"FP32\""));
  // Later calls use the new metadata without reading it again.
  ASSERT_THAT(client.decode(triton.url(), latents.view(), float_pixels()), IsOk());
  EXPECT_EQ(triton.metadata_reads(), 2u);
}

TEST(OpenInferenceEngine, ARefusalThatPersistsAfterTheRereadEndsTheCall) {
  TritonLike triton;
  Client client(quiet_options());
  const Tensor latents = latents_4x4();
  ASSERT_THAT(client.decode(triton.url(), latents.view(), float_pixels()), IsOk());
  // Its metadata keeps naming FP16 while it refuses FP16: one re-read, then the refusal.
  triton.set_refuse_all_datatypes(true);
  Result<DecodeOutput> refused = client.decode(triton.url(), latents.view(), float_pixels());
  ASSERT_THAT(refused, IsError(ErrorCode::kInvalidArgument, HasSubstr("HTTP 400")));
  EXPECT_THAT(refused.error().server_message(), HasSubstr("data-type"));
  EXPECT_EQ(triton.metadata_reads(), 2u);
  EXPECT_EQ(triton.infers(), 3u);
}

TEST(OpenInferenceEngine, ARefusalForAnotherReasonReadsNoMetadata) {
  TritonLike triton;
  Client client(quiet_options());
  const Tensor latents = latents_4x4();
  ASSERT_THAT(client.decode(triton.url(), latents.view(), float_pixels()), IsOk());
  triton.set_infer_status(400);
  Result<DecodeOutput> refused = client.decode(triton.url(), latents.view(), float_pixels());
  ASSERT_THAT(refused, IsError(ErrorCode::kInvalidArgument, HasSubstr("HTTP 400")));
  EXPECT_THAT(refused.error().server_message(), HasSubstr("scripted failure"));
  EXPECT_EQ(triton.metadata_reads(), 1u);
}

TEST(OpenInferenceEngine, AReplicaWhoseModelIsNotLoadedIsSkippedForTheOthers) {
  TritonLike loading;
  TritonLike ready;
  loading.set_loaded(false);
  Client client(quiet_options());
  const Tensor latents = latents_4x4();
  const Endpoint endpoint({loading.url(), ready.url()});
  for (int i = 0; i < 4; ++i) {
    ASSERT_THAT(client.decode(endpoint, latents.view(), float_pixels()), IsOk());
  }
  EXPECT_EQ(ready.infers(), 4u);
  // The loading replica was asked at most once per request kind, then cooled down.
  EXPECT_LE(loading.server().requests().size(), 2u);
}

TEST(OpenInferenceEngine, WhenEveryReplicaRefusesTheCallFailsWithNotFound) {
  TritonLike first;
  TritonLike second;
  first.set_loaded(false);
  second.set_loaded(false);
  Client client(quiet_options());
  const Tensor latents = latents_4x4();
  Result<DecodeOutput> refused =
      client.decode(Endpoint({first.url(), second.url()}), latents.view(), float_pixels());
  ASSERT_THAT(refused, IsError(ErrorCode::kNotFound, HasSubstr("HTTP 404")));
  EXPECT_THAT(refused.error().server_message(), HasSubstr("no available versions"));
  EXPECT_EQ(first.infers() + first.metadata_reads(), 1u);
  EXPECT_EQ(second.infers() + second.metadata_reads(), 1u);
}

TEST(OpenInferenceEngine, WhatNoConversionCanServeIsRefusedBeforeTheInferRequest) {
  TritonLike triton;
  Client client(quiet_options());
  const Tensor latents = latents_4x4();
  DecodeOptions mp4 = float_pixels();
  mp4.output_type = OutputType::kMp4;
  EXPECT_THAT(client.decode(triton.url(), latents.view(), mp4),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("MP4")));
  DecodeOptions server_scaling;
  server_scaling.do_scaling = true;
  EXPECT_THAT(client.decode(triton.url(), latents.view(), server_scaling),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("Hugging Face protocol")));
  const Tensor eight = Tensor::zeros({1, 8, 4, 4}, DType::kFloat32).value();
  EXPECT_THAT(client.decode(triton.url(), eight.view(), float_pixels()),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("4")));
  EXPECT_THAT(client.decode(Endpoint(triton.url()).with_tensor_names("z", ""), latents.view(),
                            float_pixels()),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("latent_sample")));
  EXPECT_EQ(triton.infers(), 0u);
}

TEST(OpenInferenceEngine, EndpointsSayTheirProtocolOrHaveItGuessedFromThePath) {
  TritonLike triton;
  Client client(quiet_options());
  const Tensor latents = latents_4x4();
  // Told explicitly: a URL that is not a model's is refused for this protocol.
  EXPECT_THAT(client.decode(
                  Endpoint(triton.server().url("/vae")).with_protocol(WireProtocol::kOpenInference),
                  latents.view(), float_pixels()),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("/v2/models/NAME")));
  // Replicas of one endpoint speak one protocol.
  EXPECT_THAT(client.decode(Endpoint({triton.url(), triton.server().url("/decode")}),
                            latents.view(), float_pixels()),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("one protocol")));
  // A trailing slash and a version are model URLs too.
  ASSERT_THAT(client.decode(triton.url() + "/", latents.view(), float_pixels()), IsOk());
  EXPECT_EQ(triton.server().requests().back().path, "/v2/models/vae/infer");
  // Told Hugging Face, a model URL is posted to as is.
  (void)client.decode(Endpoint(triton.url()).with_protocol(WireProtocol::kHuggingFace),
                      latents.view(), float_pixels());
  EXPECT_EQ(triton.server().requests().back().path, "/v2/models/vae");
  EXPECT_EQ(triton.server().requests().back().method, "POST");
}

TEST(OpenInferenceEngine, AGivenTokenGoesWithTheMetadataAndInferRequests) {
  TritonLike triton;
  ClientOptions options = quiet_options();
  options.token = "given_token";
  Client client(options);
  const Tensor latents = latents_4x4();
  ASSERT_THAT(client.decode(triton.url(), latents.view(), float_pixels()), IsOk());
  for (const RecordedRequest& request : triton.server().requests())
    EXPECT_EQ(request.header("Authorization"), "Bearer given_token") << request.path;
}

TEST(OpenInferenceEngine, EncodeSendsFloatPixelsAndNormalisesTheRawLatent) {
  ScriptedServer server;
  server.set_handler([](const httplib::Request& request, httplib::Response& response) {
    if (request.method == "GET") {
      response.set_content(
          R"({"name":"enc","platform":"p","inputs":[{"name":"sample","datatype":"FP32","shape":[-1,3,-1,-1]}],)"
          R"("outputs":[{"name":"latent_sample","datatype":"FP32","shape":[-1,4,-1,-1]}]})",
          "application/json");
      return;
    }
    const std::size_t count = 4 * 2 * 2;
    std::string binary(count * 4, '\0');
    for (std::size_t i = 0; i < count; ++i) {
      const float value = static_cast<float>(i);
      std::memcpy(&binary[i * 4], &value, 4);
    }
    const std::string json =
        R"({"model_name":"enc","outputs":[{"name":"latent_sample","datatype":"FP32","shape":[1,4,2,2],)"
        R"("parameters":{"binary_data_size":64}}]})";
    response.set_header("Inference-Header-Content-Length", std::to_string(json.size()));
    response.set_content(json + binary, "application/octet-stream");
  });
  Client client(quiet_options());
  Image image;
  image.width = 16;
  image.height = 16;
  image.channels = 3;
  image.pixels.assign(16 * 16 * 3, 255);
  EncodeOptions options;
  options.scaling_factor = 2.0;
  options.shift_factor = 1.0;
  Result<EncodeOutput> output = client.encode(server.url("/v2/models/enc"), image, options);
  ASSERT_THAT(output, IsOk());
  ASSERT_EQ(output->latents.shape(), (Shape{1, 4, 2, 2}));
  const std::vector<float> z = output->latents.to_floats();
  for (std::size_t i = 0; i < z.size(); ++i)
    EXPECT_FLOAT_EQ(z[i], (static_cast<float>(i) - 1.0f) * 2.0f) << i;
  const RecordedRequest infer = server.requests().back();
  const std::size_t header_length = std::stoul(infer.header("Inference-Header-Content-Length"));
  const nlohmann::json header = nlohmann::json::parse(infer.body.substr(0, header_length));
  EXPECT_EQ(header["inputs"][0]["shape"], nlohmann::json({1, 3, 16, 16}));
  EXPECT_EQ(header["inputs"][0]["datatype"], "FP32");
  float first = 0;
  std::memcpy(&first, &infer.body[header_length], 4);
  EXPECT_FLOAT_EQ(first, 1.0f);  // 255 -> 1.0 in [-1, 1]
}

TEST(OpenInferenceEngine, DeadlinesCancellationAndProgressCoverTheMetadataAndInferRequests) {
  ScriptedServer stalled;
  stalled.set_handler([&](const httplib::Request&, httplib::Response&) { stalled.stall(); });
  Client client(quiet_options());
  const Tensor latents = latents_4x4();
  // A metadata read that never answers ends at the call's deadline.
  DecodeOptions short_deadline = float_pixels();
  short_deadline.control.deadline = std::chrono::milliseconds(200);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(client.decode(stalled.url("/v2/models/vae"), latents.view(), short_deadline),
              IsError(ErrorCode::kDeadlineExceeded));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));

  // Cancelled while its metadata is being read.
  CancelToken cancel;
  DecodeOptions cancellable = float_pixels();
  cancellable.control.cancel = cancel;
  Pending<DecodeOutput> pending =
      client.decode_async(stalled.url("/v2/models/vae"), latents.view(), cancellable);
  cancel.cancel();
  EXPECT_THAT(pending.get(), IsError(ErrorCode::kCancelled));
  stalled.release_stalls();

  // Progress reports the infer request's upload.
  TritonLike triton;
  std::atomic<std::uint64_t> most_sent{0};
  DecodeOptions watched = float_pixels();
  watched.control.on_progress = [&](const TransferProgress& progress) {
    most_sent = std::max<std::uint64_t>(most_sent.load(), progress.uploaded);
  };
  ASSERT_THAT(client.decode(triton.url(), latents.view(), watched), IsOk());
  EXPECT_GE(most_sent.load(), 64u * 2);  // at least the latents' bytes
}

TEST(OpenInferenceEngine, ACallLetsGoOfEverythingItHeldOnceItsResultIsTaken) {
  TritonLike triton;
  Client client(quiet_options());
  const Tensor latents = latents_4x4();
  // The call keeps its options (and this callback) while it runs, and no longer: a call that
  // held itself through its own Pending would keep them, and its latents and reply, for ever.
  const auto sentinel = std::make_shared<int>(0);
  DecodeOptions options = float_pixels();
  options.control.on_progress = [sentinel](const TransferProgress&) {};
  for (int i = 0; i < 3; ++i) {
    ASSERT_THAT(client.decode(triton.url(), latents.view(), options), IsOk());
    Pending<DecodeOutput> pending = client.decode_async(triton.url(), latents.view(), options);
    ASSERT_THAT(pending.get(), IsOk());
  }
  DecodeOptions mp4 = options;
  mp4.output_type = OutputType::kMp4;  // refused by the plan, after the metadata
  EXPECT_THAT(client.decode(triton.url(), latents.view(), mp4),
              IsError(ErrorCode::kInvalidArgument));
  options = {};
  mp4 = {};
  // The network thread lets go of a finished transfer just after handing over its result.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (sentinel.use_count() > 1 && std::chrono::steady_clock::now() < give_up)
    std::this_thread::yield();
  EXPECT_EQ(sentinel.use_count(), 1);
}

TEST(OpenInferenceEngine, CheckReportsReadinessAndMetadataPerReplica) {
  TritonLike ready;
  TritonLike loading;
  loading.set_loaded(false);
  Client client(quiet_options());
  Result<EndpointStatus> status = client.check(Endpoint({ready.url(), loading.url()}));
  ASSERT_THAT(status, IsOk());
  ASSERT_EQ(status->replicas.size(), 2u);
  EXPECT_TRUE(status->ready());
  EXPECT_TRUE(status->replicas[0].ready);
  ASSERT_TRUE(status->replicas[0].model.has_value());
  EXPECT_EQ(status->replicas[0].model->inputs[0].name, "latent_sample");
  EXPECT_EQ(status->replicas[0].model->inputs[0].datatype, "FP16");
  EXPECT_EQ(status->replicas[0].model->inputs[0].shape, (std::vector<std::int64_t>{-1, 4, -1, -1}));
  EXPECT_FALSE(status->replicas[1].ready);
  EXPECT_THAT(status->replicas[1].detail, HasSubstr("no available versions"));

  Result<EndpointStatus> only_loading = client.check(loading.url());
  ASSERT_THAT(only_loading, IsOk());
  EXPECT_FALSE(only_loading->ready());
  EXPECT_THAT(client.check(ready.server().url("/sdxl/decode")),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("readiness")));
}

}  // namespace
}  // namespace rvae
