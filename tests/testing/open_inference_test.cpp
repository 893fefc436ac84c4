// The reference endpoint on the Open Inference Protocol (PROTOCOL.md §8): every route, each
// model's metadata, inference in both forms with every datatype option, Triton's refusals, the
// loading fault and run-time metadata changes, the cap, context mode against the HF routes, video
// frame counts, and §9's per-channel models. Requests are built here from the document.
#include <gtest/gtest.h>
#include <httplib.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "open_inference_support.hpp"
#include "per_channel_oracle.hpp"
#include "reference_test_support.hpp"
#include "rvae/tensor.hpp"
#include "rvae/testing/reference_endpoint.hpp"

namespace rvae::testing_test {
namespace {

using nlohmann::json;
using oip::InferReply;
using rvae::reference::ReferenceEndpointOptions;
namespace pc = per_channel;

// PROTOCOL.md §1, §8, §9 typed in: channels, the rank of the VAE's latents, and an encoder.
struct ModelFacts {
  const char* preset;
  int channels;
  int rank;
  bool encoder;
};
constexpr ModelFacts kModels[] = {
    {"sd15", 4, 4, true},    {"sdxl", 4, 4, true},
    {"flux", 16, 4, true},   {"hunyuan-video", 16, 5, false},
    {"wan2.1", 16, 5, true}, {"qwen-image", 16, 5, true},
};

json spec(const std::string& name, const std::string& datatype, std::vector<int> shape) {
  return {{"name", name}, {"datatype", datatype}, {"shape", shape}};
}

class OpenInferenceTest : public EndpointTest {
 protected:
  InferReply get(const std::string& path) { return oip::take_apart(http_->Get(path)); }
  InferReply binary(const std::string& model, const json& header, const std::string& bytes) {
    return oip::take_apart(
        oip::post_binary(*http_, "/v2/models/" + model + "/infer", header.dump(), bytes));
  }
  InferReply json_form(const std::string& model, const json& request) {
    return oip::take_apart(
        oip::post_json(*http_, "/v2/models/" + model + "/infer", request.dump()));
  }
  // A decode of FP16 latents with a binary FP32 reply; `rounded` gets what the server saw.
  InferReply decode_fp16(const std::string& model, const std::vector<float>& latents,
                         const rvae::Shape& shape, std::vector<float>* rounded) {
    const std::string bytes = oip::to_float16(latents, rounded);
    json header = oip::binary_header("latent_sample", "FP16", shape, bytes.size());
    oip::ask_output(header, "sample", true);
    return binary(model, header, bytes);
  }
};

std::string error_of(const InferReply& reply) {
  return reply.json.is_object() && reply.json.contains("error") && reply.json["error"].is_string()
             ? reply.json["error"].get<std::string>()
             : "<no error: " + reply.raw.substr(0, 200) + ">";
}

TEST_F(OpenInferenceTest, ServerHealthRoutes) {
  for (const char* path : {"/v2/health/ready", "/v2/health/live"}) {
    SCOPED_TRACE(path);
    auto res = http_->Get(path);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "");
    auto post = http_->Post(path, "", "application/json");
    ASSERT_TRUE(post);
    EXPECT_EQ(post->status, 405);
  }
  EXPECT_EQ(get("/v2/nowhere").status, 404);
  EXPECT_EQ(endpoint_->requests_for("/v2/health/ready"), 2u);
}

TEST_F(OpenInferenceTest, MetadataOfEveryModel) {
  for (const ModelFacts& m : kModels) {
    SCOPED_TRACE(m.preset);
    std::vector<int> latent(static_cast<std::size_t>(m.rank), -1);
    latent[1] = m.channels;
    std::vector<int> pixels(static_cast<std::size_t>(m.rank), -1);
    pixels[1] = 3;
    const std::string decoder = std::string(m.preset) + "_decoder";
    for (const std::string& path :
         {"/v2/models/" + decoder, "/v2/models/" + decoder + "/versions/1"}) {
      const InferReply meta = get(path);
      ASSERT_EQ(meta.status, 200) << meta.raw;
      EXPECT_EQ(meta.content_type, "application/json");
      EXPECT_EQ(meta.json["name"], decoder);
      EXPECT_EQ(meta.json["versions"], json({"1"}));
      EXPECT_EQ(meta.json["platform"], "rvae_reference");
      EXPECT_EQ(meta.json["inputs"], json({spec("latent_sample", "FP16", latent)}));
      EXPECT_EQ(meta.json["outputs"], json({spec("sample", "FP32", pixels)}));
    }
    EXPECT_EQ(get("/v2/models/" + decoder + "/ready").status, 200);
    EXPECT_EQ(get("/v2/models/" + decoder + "/versions/1/ready").status, 200);
    const std::string encoder = std::string(m.preset) + "_encoder";
    const InferReply meta = get("/v2/models/" + encoder);
    if (!m.encoder) {
      EXPECT_EQ(meta.status, 404);
      EXPECT_EQ(error_of(meta), "Request for unknown model: '" + encoder + "' is not found");
      continue;
    }
    ASSERT_EQ(meta.status, 200) << meta.raw;
    EXPECT_EQ(meta.json["inputs"], json({spec("sample", "FP16", pixels)}));
    EXPECT_EQ(meta.json["outputs"], json({spec("latent_sample", "FP32", latent)}));
  }
}

TEST_F(OpenInferenceTest, UnknownModelsVersionsAndMethods) {
  InferReply unknown = get("/v2/models/sd3_decoder");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(error_of(unknown), "Request for unknown model: 'sd3_decoder' is not found");
  InferReply version = get("/v2/models/sdxl_decoder/versions/2");
  EXPECT_EQ(version.status, 404);
  EXPECT_EQ(error_of(version), "Request for unknown model: 'sdxl_decoder' version 2 is not found");
  EXPECT_EQ(get("/v2/models/sdxl_decoder/versions/2/ready").status, 404);
  EXPECT_EQ(get("/v2/models/sdxl_decoder/versions/x").status, 404);
  InferReply infer_unknown =
      binary("sd3_decoder", oip::binary_header("latent_sample", "FP16", {1, 4, 1, 1}, 8),
             std::string(8, '\0'));
  EXPECT_EQ(infer_unknown.status, 404);
  EXPECT_EQ(get("/v2/models/sdxl_decoder/infer").status, 405);
  auto post_meta = http_->Post("/v2/models/sdxl_decoder", "{}", "application/json");
  ASSERT_TRUE(post_meta);
  EXPECT_EQ(post_meta->status, 405);
  auto del = http_->Delete("/v2/models/sdxl_decoder/ready");
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 405);
}

// sdxl's 8x8 blocks of FP32 [1, 3, 8h, 8w] against §6 on the FP16 values the server saw.
void expect_sdxl_pixels(const std::string& bytes, const std::vector<float>& z, int h, int w) {
  const ModelTable& t = table("sdxl");
  ASSERT_EQ(bytes.size(), static_cast<std::size_t>(3 * 64 * h * w * 4));
  for (int i = 0; i < h; ++i) {
    for (int j = 0; j < w; ++j) {
      std::vector<double> pixel(4);
      for (int c = 0; c < 4; ++c)
        pixel[static_cast<std::size_t>(c)] = z[static_cast<std::size_t>((c * h + i) * w + j)];
      const std::vector<double> rgb = expected_rgb(t, pixel);
      for (int k = 0; k < 3; ++k) {
        for (int y : {i * 8, i * 8 + 7}) {
          for (int x : {j * 8, j * 8 + 7}) {
            const std::size_t at = static_cast<std::size_t>((k * 8 * h + y) * 8 * w + x);
            EXPECT_NEAR(oip::float_at(bytes, at), rgb[static_cast<std::size_t>(k)], 1e-6);
          }
        }
      }
    }
  }
}

TEST_F(OpenInferenceTest, BinaryDecodeMatchesFormula) {
  const std::vector<float> latents = make_latents(4 * 2 * 3, 5);
  std::vector<float> seen;
  const InferReply reply = decode_fp16("sdxl_decoder", latents, {1, 4, 2, 3}, &seen);
  ASSERT_EQ(reply.status, 200) << reply.raw;
  EXPECT_EQ(reply.content_type, "application/octet-stream");
  ASSERT_TRUE(reply.has_header_length);
  EXPECT_EQ(reply.json["model_name"], "sdxl_decoder");
  EXPECT_EQ(reply.json["model_version"], "1");
  EXPECT_FALSE(reply.json.contains("id"));
  const json& out = reply.json["outputs"][0];
  EXPECT_EQ(out["name"], "sample");
  EXPECT_EQ(out["datatype"], "FP32");
  EXPECT_EQ(out["shape"], json({1, 3, 16, 24}));
  EXPECT_EQ(out["parameters"]["binary_data_size"], 3 * 16 * 24 * 4);
  expect_sdxl_pixels(reply.binary, seen, 2, 3);
  EXPECT_EQ(endpoint_->requests_for("/v2/models/sdxl_decoder/infer"), 1u);
  EXPECT_EQ(endpoint_->stats().inference_requests, 1u);
}

TEST_F(OpenInferenceTest, JsonFormBothWaysAndTheOutputChoice) {
  ReferenceEndpointOptions options;
  options.oip_input_datatype = rvae::DType::kFloat32;
  start_with(options);
  const std::vector<float> latents = make_latents(4 * 2 * 3, 6);
  // Nested data, [1][4][2][3].
  json nested = json::array();
  json batch = json::array();
  for (int c = 0; c < 4; ++c) {
    json rows = json::array();
    for (int i = 0; i < 2; ++i) {
      json row = json::array();
      for (int j = 0; j < 3; ++j)
        row.push_back(latents[static_cast<std::size_t>((c * 2 + i) * 3 + j)]);
      rows.push_back(row);
    }
    batch.push_back(rows);
  }
  nested.push_back(batch);
  json request = {{"id", "req-7"},
                  {"inputs",
                   {{{"name", "latent_sample"},
                     {"datatype", "FP32"},
                     {"shape", {1, 4, 2, 3}},
                     {"data", nested}}}}};
  const InferReply as_json = json_form("sdxl_decoder", request);
  ASSERT_EQ(as_json.status, 200) << as_json.raw;
  EXPECT_EQ(as_json.content_type, "application/json");
  EXPECT_FALSE(as_json.has_header_length);
  EXPECT_EQ(as_json.json["id"], "req-7");
  const json& out = as_json.json["outputs"][0];
  EXPECT_FALSE(out.contains("parameters"));  // Triton's C++ client fails on one without a size
  EXPECT_EQ(out["shape"], json({1, 3, 16, 24}));
  ASSERT_EQ(out["data"].size(), 3u * 16u * 24u);
  std::string from_json;
  for (const json& v : out["data"]) {
    const float f = v.get<float>();
    from_json.append(reinterpret_cast<const char*>(&f), 4);
  }
  expect_sdxl_pixels(from_json, latents, 2, 3);

  // The flat JSON form with a binary output asked by the request-level default.
  json flat = request;
  flat["inputs"][0]["data"] = latents;
  flat["parameters"] = {{"binary_data_output", true}};
  const InferReply json_in = json_form("sdxl_decoder", flat);
  ASSERT_EQ(json_in.status, 200) << json_in.raw;
  EXPECT_TRUE(json_in.has_header_length);
  EXPECT_EQ(json_in.binary, from_json);  // 9 significant digits read back the same float

  // Binary in, JSON out (an output listed without binary_data overrides nothing: JSON).
  const std::string bytes(reinterpret_cast<const char*>(latents.data()), latents.size() * 4);
  json header = oip::binary_header("latent_sample", "FP32", {1, 4, 2, 3}, bytes.size());
  header["outputs"] = {{{"name", "sample"}}};
  const InferReply binary_in = binary("sdxl_decoder", header, bytes);
  ASSERT_EQ(binary_in.status, 200) << binary_in.raw;
  EXPECT_EQ(binary_in.content_type, "application/json");
  EXPECT_EQ(binary_in.json["outputs"][0]["data"], out["data"]);
  // An empty id is not echoed.
  header["id"] = "";
  EXPECT_FALSE(binary("sdxl_decoder", header, bytes).json.contains("id"));
}

TEST_F(OpenInferenceTest, EveryInputDatatypeOption) {
  const std::vector<float> latents = make_latents(4 * 2 * 2, 7);
  for (rvae::DType dtype : {rvae::DType::kFloat16, rvae::DType::kFloat32, rvae::DType::kBFloat16}) {
    const std::string name = dtype == rvae::DType::kFloat16   ? "FP16"
                             : dtype == rvae::DType::kFloat32 ? "FP32"
                                                              : "BF16";
    SCOPED_TRACE(name);
    ReferenceEndpointOptions options;
    options.oip_input_datatype = dtype;
    start_with(options);
    EXPECT_EQ(get("/v2/models/sdxl_decoder").json["inputs"][0]["datatype"], name);
    EXPECT_EQ(get("/v2/models/sdxl_encoder").json["inputs"][0]["datatype"], name);
    std::vector<float> seen = latents;
    std::string bytes;
    if (dtype == rvae::DType::kFloat16) bytes = oip::to_float16(latents, &seen);
    if (dtype == rvae::DType::kBFloat16) bytes = oip::to_bfloat16(latents, &seen);
    if (dtype == rvae::DType::kFloat32) {
      bytes.assign(reinterpret_cast<const char*>(latents.data()), latents.size() * 4);
    }
    json header = oip::binary_header("latent_sample", name, {1, 4, 2, 2}, bytes.size());
    oip::ask_output(header, "sample", true);
    const InferReply ok = binary("sdxl_decoder", header, bytes);
    ASSERT_EQ(ok.status, 200) << ok.raw;
    expect_sdxl_pixels(ok.binary, seen, 2, 2);
    // Any other datatype is refused as Triton refuses it.
    const std::string other = dtype == rvae::DType::kFloat32 ? "FP16" : "FP32";
    const std::size_t other_size = other == "FP32" ? 4 : 2;
    const InferReply refused = binary(
        "sdxl_decoder", oip::binary_header("latent_sample", other, {1, 4, 2, 2}, 16 * other_size),
        std::string(16 * other_size, '\0'));
    EXPECT_EQ(refused.status, 400);
    EXPECT_EQ(error_of(refused), "inference input 'latent_sample' data-type is '" + other +
                                     "', but model 'sdxl_decoder' expects '" + name + "'");
    // The model's own datatype in JSON: only FP32 has a JSON form (Triton refuses the others).
    const json in_json = {{"inputs",
                           {{{"name", "latent_sample"},
                             {"datatype", name},
                             {"shape", {1, 4, 1, 1}},
                             {"data", {0.5, 0.25, -0.5, 1}}}}}};
    const InferReply json_reply = json_form("sdxl_decoder", in_json);
    if (dtype == rvae::DType::kFloat32) {
      EXPECT_EQ(json_reply.status, 200) << json_reply.raw;
    } else {
      EXPECT_EQ(json_reply.status, 400);
      EXPECT_EQ(error_of(json_reply), "receiving " + name +
                                          " data via JSON is not supported. Please use the "
                                          "binary data format for input latent_sample");
    }
  }
}

TEST_F(OpenInferenceTest, Fp16AndUint8DecoderOutputs) {
  const std::vector<float> latents = make_latents(4 * 2 * 2, 8);
  ReferenceEndpointOptions fp16;
  fp16.oip_decoder_output_datatype = rvae::DType::kFloat16;
  start_with(fp16);
  EXPECT_EQ(get("/v2/models/sdxl_decoder").json["outputs"][0],
            spec("sample", "FP16", {-1, 3, -1, -1}));
  std::vector<float> seen;
  const InferReply half = decode_fp16("sdxl_decoder", latents, {1, 4, 2, 2}, &seen);
  ASSERT_EQ(half.status, 200) << half.raw;
  EXPECT_EQ(half.json["outputs"][0]["datatype"], "FP16");
  ASSERT_EQ(half.binary.size(), 3u * 16u * 16u * 2u);
  const ModelTable& t = table("sdxl");
  for (int k = 0; k < 3; ++k) {
    std::vector<double> pixel(4);
    for (int c = 0; c < 4; ++c)
      pixel[static_cast<std::size_t>(c)] = seen[static_cast<std::size_t>(c * 4 + 3)];  // (1, 1)
    const double expected = expected_rgb(t, pixel)[static_cast<std::size_t>(k)];
    const std::size_t at = static_cast<std::size_t>((k * 16 + 12) * 16 + 12);
    EXPECT_NEAR(
        pc::from_float16(reinterpret_cast<const unsigned char*>(half.binary.data()) + 2 * at),
        expected, 1e-3);
  }
  // Triton sends no FP16 in JSON either.
  json header = oip::binary_header("latent_sample", "FP16", {1, 4, 2, 2}, 32);
  const InferReply json_half = binary("sdxl_decoder", header, std::string(32, '\0'));
  EXPECT_EQ(json_half.status, 400);
  EXPECT_NE(error_of(json_half).find("FP16"), std::string::npos);

  ReferenceEndpointOptions uint8;
  uint8.oip_decoder_output_datatype = rvae::DType::kUInt8;
  start_with(uint8);
  EXPECT_EQ(get("/v2/models/sdxl_decoder").json["outputs"][0],
            spec("sample", "UINT8", {-1, -1, -1, 3}));
  EXPECT_EQ(get("/v2/models/wan2.1_decoder").json["outputs"][0],
            spec("sample", "UINT8", {-1, -1, -1, -1, 3}));
  const InferReply pixels = decode_fp16("sdxl_decoder", latents, {1, 4, 2, 2}, &seen);
  ASSERT_EQ(pixels.status, 200) << pixels.raw;
  EXPECT_EQ(pixels.json["outputs"][0]["shape"], json({1, 16, 16, 3}));
  ASSERT_EQ(pixels.binary.size(), 16u * 16u * 3u);
  int mismatches = 0;
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 2; ++j) {
      std::vector<double> pixel(4);
      for (int c = 0; c < 4; ++c)
        pixel[static_cast<std::size_t>(c)] = seen[static_cast<std::size_t>((c * 2 + i) * 2 + j)];
      const std::vector<double> rgb = expected_rgb(t, pixel);
      for (int k = 0; k < 3; ++k) {
        bool near_tie = false;
        const int level = expected_level(rgb[static_cast<std::size_t>(k)], &near_tie);
        const int got = static_cast<unsigned char>(
            pixels.binary[static_cast<std::size_t>(((i * 8 + 4) * 16 + j * 8 + 4) * 3 + k)]);
        if (got != level && !(near_tie && std::abs(got - level) == 1)) ++mismatches;
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
  // UINT8 goes in JSON as integers.
  const InferReply as_json = binary("sdxl_decoder", header, oip::to_float16(latents, &seen));
  ASSERT_EQ(as_json.status, 200) << as_json.raw;
  ASSERT_EQ(as_json.json["outputs"][0]["data"].size(), pixels.binary.size());
  EXPECT_EQ(as_json.json["outputs"][0]["data"][5].get<int>(),
            static_cast<unsigned char>(pixels.binary[5]));
}

TEST_F(OpenInferenceTest, RefusalsOfMalformedRequests) {
  const std::string bytes(32, '\0');  // FP16 [1, 4, 2, 2]
  const json good = oip::binary_header("latent_sample", "FP16", {1, 4, 2, 2}, 32);
  ASSERT_EQ(binary("sdxl_decoder", good, bytes).status, 200);
  struct Case {
    const char* what;
    json header;
    std::string body;
    std::string message;  // a part of the error text
  };
  json rank = oip::binary_header("latent_sample", "FP16", {1, 4, 8}, 64);
  json channels = oip::binary_header("latent_sample", "FP16", {1, 16, 1, 1}, 32);
  json size = oip::binary_header("latent_sample", "FP16", {1, 4, 2, 2}, 30);
  json name = oip::binary_header("latents", "FP16", {1, 4, 2, 2}, 32);
  json two = good;
  two["inputs"].push_back(good["inputs"][0]);
  json triton = good;
  triton["parameters"] = {{"triton_enable_empty_final_response", true}};
  json output = good;
  output["outputs"] = {{{"name", "image"}}};
  const std::vector<Case> cases = {
      {"rank", rank, std::string(64, '\0'),
       "unexpected shape for input 'latent_sample' for model 'sdxl_decoder'. Expected "
       "[-1,4,-1,-1], got [1,4,8]"},
      {"channels", channels, bytes, "Expected [-1,4,-1,-1], got [1,16,1,1]"},
      {"size", size, std::string(30, '\0'), "binary_data_size 30"},
      {"extra bytes", good, bytes + "xx", "unexpected additional input data"},
      {"short body", good, std::string(20, '\0'), "names 32 bytes of binary data"},
      {"name", name, bytes, "unexpected inference input 'latents' for model 'sdxl_decoder'"},
      {"two inputs", two, bytes + bytes, "expected 1 inputs but got 2 inputs"},
      {"triton_", triton, bytes, "triton_enable_empty_final_response"},
      {"output name", output, bytes, "unexpected inference output 'image'"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const InferReply reply = binary("sdxl_decoder", c.header, c.body);
    EXPECT_EQ(reply.status, 400);
    EXPECT_EQ(reply.content_type, "application/json");
    EXPECT_NE(error_of(reply).find(c.message), std::string::npos) << error_of(reply);
  }

  // Header lengths: beyond the body, zero (raw binary), not a number.
  const std::string text = good.dump();
  for (const std::string& length : {std::to_string(text.size() + 100), std::string("0")}) {
    SCOPED_TRACE(length);
    auto res =
        http_->Post("/v2/models/sdxl_decoder/infer", {{"Inference-Header-Content-Length", length}},
                    text + bytes, "application/octet-stream");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400);
    EXPECT_NE(error_text(res->body).find("Inference-Header-Content-Length"), std::string::npos)
        << res->body;
  }
  const RawReply not_number = raw_post(endpoint_->port(), "/v2/models/sdxl_decoder/infer",
                                       text + bytes, {"Inference-Header-Content-Length: 1e3"});
  EXPECT_EQ(not_number.status, 400);

  // The JSON form: FP16 refused as Triton does, non-numbers, malformed and deep JSON.
  json fp16 = {{"inputs",
                {{{"name", "latent_sample"},
                  {"datatype", "FP16"},
                  {"shape", {1, 4, 1, 1}},
                  {"data", {1, 2, 3, 4}}}}}};
  const InferReply json_fp16 = json_form("sdxl_decoder", fp16);
  EXPECT_EQ(json_fp16.status, 400);
  EXPECT_EQ(error_of(json_fp16),
            "receiving FP16 data via JSON is not supported. Please use the binary data format "
            "for input latent_sample");
  json strings = fp16;
  strings["inputs"][0]["data"] = {1, "2", 3, 4};
  EXPECT_EQ(json_form("sdxl_decoder", strings).status, 400);
  for (const std::string& body :
       {std::string("{\"inputs\": [{\"name\": \"latent_sample\", \"data\": [1, NaN]}]}"),
        std::string("{\"inputs\": ["), std::string(100, '[') + std::string(100, ']'),
        std::string("{\"inputs\":[{\"name\":\"latent_sample\",\"datatype\":\"FP32\",\"shape\":[1,"
                    "4,1,1],\"data\":[1,2,3,1e39]}]}")}) {
    SCOPED_TRACE(body.substr(0, 60));
    auto res = oip::post_json(*http_, "/v2/models/sdxl_decoder/infer", body);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400);
    EXPECT_NE(error_text(res->body).find("failed to parse"), std::string::npos) << res->body;
  }
}

TEST_F(OpenInferenceTest, JsonCountAndCapsOnBodiesAndHeaders) {
  ReferenceEndpointOptions options;
  options.oip_input_datatype = rvae::DType::kFloat32;
  options.max_json_body_bytes = 4096;
  options.max_json_header_bytes = 1024;
  start_with(options);
  json request = {{"inputs",
                   {{{"name", "latent_sample"},
                     {"datatype", "FP32"},
                     {"shape", {1, 4, 1, 2}},
                     {"data", {1, 2, 3, 4, 5, 6, 7}}}}}};
  const InferReply count = json_form("sdxl_decoder", request);
  EXPECT_EQ(count.status, 400);
  EXPECT_NE(error_of(count).find("'data' holds 7"), std::string::npos) << error_of(count);
  request["inputs"][0]["data"] = std::vector<float>(2000, 0.5f);  // > 4096 bytes of JSON
  auto big = oip::post_json(*http_, "/v2/models/sdxl_decoder/infer", request.dump());
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  json header = oip::binary_header("latent_sample", "FP32", {1, 4, 1, 1}, 16);
  header["id"] = std::string(2000, 'x');
  const InferReply long_header = binary("sdxl_decoder", header, std::string(16, '\0'));
  EXPECT_EQ(long_header.status, 400);
  EXPECT_NE(error_of(long_header).find("exceeds the limit of 1024"), std::string::npos);
}

TEST_F(OpenInferenceTest, LoadingModelAndRunTimeMetadataChange) {
  endpoint_->set_model_loading("sdxl_decoder", true);
  const InferReply ready = get("/v2/models/sdxl_decoder/ready");
  EXPECT_EQ(ready.status, 400);
  EXPECT_EQ(error_of(ready), "Request for unknown model: 'sdxl_decoder' has no available versions");
  EXPECT_EQ(get("/v2/models/sdxl_decoder").status, 404);
  const json header = oip::binary_header("latent_sample", "FP16", {1, 4, 1, 1}, 8);
  const InferReply infer = binary("sdxl_decoder", header, std::string(8, '\0'));
  EXPECT_EQ(infer.status, 404);
  EXPECT_EQ(error_of(infer), "Request for unknown model: 'sdxl_decoder' has no available versions");
  EXPECT_EQ(get("/v2/models/sdxl_encoder/ready").status, 200);  // only that model
  EXPECT_EQ(get("/v2/health/ready").status, 200);
  endpoint_->set_model_loading("sdxl_decoder", false);
  EXPECT_EQ(get("/v2/models/sdxl_decoder/ready").status, 200);
  EXPECT_EQ(binary("sdxl_decoder", header, std::string(8, '\0')).status, 200);

  // A reloaded model names another datatype: the old one is refused, the metadata says so.
  ASSERT_TRUE(endpoint_->set_input_datatype(rvae::DType::kFloat32));
  EXPECT_FALSE(endpoint_->set_input_datatype(rvae::DType::kUInt8));
  const InferReply refused = binary("sdxl_decoder", header, std::string(8, '\0'));
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(error_of(refused),
            "inference input 'latent_sample' data-type is 'FP16', but model 'sdxl_decoder' "
            "expects 'FP32'");
  EXPECT_EQ(get("/v2/models/sdxl_decoder").json["inputs"][0]["datatype"], "FP32");
  EXPECT_EQ(binary("sdxl_decoder", oip::binary_header("latent_sample", "FP32", {1, 4, 1, 1}, 16),
                   std::string(16, '\0'))
                .status,
            200);
  endpoint_->set_model_loading("flux_decoder", true);
  endpoint_->clear_faults();  // loading is a fault like the others
  EXPECT_EQ(get("/v2/models/flux_decoder/ready").status, 200);
}

TEST_F(OpenInferenceTest, InjectedFaultsApplyToInfer) {
  const json header = oip::binary_header("latent_sample", "FP16", {1, 4, 1, 1}, 8);
  endpoint_->fail_next(1, 503, "", "Injected overload");
  const InferReply failed = binary("sdxl_decoder", header, std::string(8, '\0'));
  EXPECT_EQ(failed.status, 503);
  EXPECT_EQ(error_of(failed), "Injected overload");
  EXPECT_EQ(binary("sdxl_decoder", header, std::string(8, '\0')).status, 200);
  EXPECT_EQ(endpoint_->stats().failed_by_injection, 1u);

  endpoint_->set_reply_fault(rvae::reference::ReplyFault::kTruncateBody, 1);
  const std::string text = header.dump();
  const std::string reply = raw_exchange(
      endpoint_->port(),
      "POST /v2/models/sdxl_decoder/infer HTTP/1.1\r\nHost: x\r\n"
      "Inference-Header-Content-Length: " +
          std::to_string(text.size()) + "\r\nContent-Length: " + std::to_string(text.size() + 8) +
          "\r\nConnection: close\r\n\r\n" + text + std::string(8, '\0'));
  const auto [head, body] = split_reply(reply);
  const std::size_t declared = std::stoul(raw_header(head, "Content-Length"));
  EXPECT_LT(body.size(), declared);
  EXPECT_EQ(endpoint_->stats().faulted_replies, 1u);
}

TEST_F(OpenInferenceTest, TheServiceCapAppliesToInfer) {
  ReferenceEndpointOptions options;
  options.max_image_side = 64;
  options.oip_input_datatype = rvae::DType::kFloat32;
  start_with(options);
  const std::string ok(4 * 8 * 8 * 4, '\0');
  EXPECT_EQ(binary("sd15_decoder",
                   oip::binary_header("latent_sample", "FP32", {1, 4, 8, 8}, ok.size()), ok)
                .status,
            200);
  const std::string over(4 * 9 * 8 * 4, '\0');
  const InferReply refused = binary(
      "sd15_decoder", oip::binary_header("latent_sample", "FP32", {1, 4, 8, 9}, over.size()), over);
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(error_of(refused), "Output of 72x64 pixels exceeds the service cap of 64x64.");
  const std::string image(3 * 72 * 64 * 4, '\0');
  const InferReply encode = binary(
      "sd15_encoder", oip::binary_header("sample", "FP32", {1, 3, 72, 64}, image.size()), image);
  EXPECT_EQ(encode.status, 400);
  EXPECT_EQ(error_of(encode), "Image height 72 exceeds the service cap of 64x64.");
}

// Context mode computes the same on both protocols: the OIP UINT8 decoder against the HF
// route's partial_postprocess=True reply on the same raw latents.
TEST_F(OpenInferenceTest, ContextModeEqualsTheHfRoute) {
  ReferenceEndpointOptions options;
  options.spatial_context = true;
  options.oip_input_datatype = rvae::DType::kFloat32;
  options.oip_decoder_output_datatype = rvae::DType::kUInt8;
  start_with(options);
  struct Case {
    const char* preset;
    rvae::Shape hf;
    rvae::Shape oip;
  };
  const std::vector<Case> cases = {
      {"sd15", {1, 4, 5, 6}, {1, 4, 5, 6}},
      {"hunyuan-video", {1, 16, 2, 4, 4}, {1, 16, 2, 4, 4}},
      {"wan2.1", {1, 16, 2, 4, 5}, {1, 16, 2, 4, 5}},
      {"qwen-image", {1, 16, 5, 4}, {1, 16, 1, 5, 4}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.preset);
    std::size_t count = 1;
    for (std::int64_t d : c.hf)
      count *= static_cast<std::size_t>(d);
    const std::vector<float> latents = make_latents(count, 9);
    auto hf =
        post(std::string("/") + c.preset + "/decode/?output_type=pt&partial_postprocess=True&" +
                 shape_query(c.hf) + "&dtype=float32",
             to_body(latents), "tensor/binary", "tensor/binary");
    ASSERT_TRUE(hf);
    ASSERT_EQ(hf->status, 200) << hf->body;
    json header = oip::binary_header("latent_sample", "FP32", c.oip, count * 4);
    oip::ask_output(header, "sample", true);
    const InferReply reply = binary(std::string(c.preset) + "_decoder", header, to_body(latents));
    ASSERT_EQ(reply.status, 200) << reply.raw;
    EXPECT_TRUE(reply.binary == hf->body);
  }
}

TEST_F(OpenInferenceTest, VideoFrameCounts) {
  struct Case {
    const char* model;
    int latent_frames;
    int frames;  // PROTOCOL.md §1 and §9: 4(T - 1) + 1
  };
  for (const Case& c : {Case{"hunyuan-video_decoder", 3, 9}, Case{"wan2.1_decoder", 2, 5},
                        Case{"qwen-image_decoder", 1, 1}}) {
    SCOPED_TRACE(c.model);
    const std::vector<float> latents =
        make_latents(static_cast<std::size_t>(16 * c.latent_frames), static_cast<int>(c.frames));
    std::vector<float> seen;
    const InferReply reply = decode_fp16(c.model, latents, {1, 16, c.latent_frames, 1, 1}, &seen);
    ASSERT_EQ(reply.status, 200) << reply.raw;
    EXPECT_EQ(reply.json["outputs"][0]["shape"], json({1, 3, c.frames, 8, 8}));
    if (std::string(c.model) != "hunyuan-video_decoder") continue;
    // Frame f of channel k shows latent frame 0 (f = 0) or (f - 1) / 4 + 1.
    const ModelTable& t = table("hunyuan-video");
    for (int f = 0; f < c.frames; ++f) {
      const int latent_frame = f == 0 ? 0 : (f - 1) / 4 + 1;
      std::vector<double> pixel(16);
      for (int ch = 0; ch < 16; ++ch)
        pixel[static_cast<std::size_t>(ch)] =
            seen[static_cast<std::size_t>(ch * c.latent_frames + latent_frame)];
      const std::vector<double> rgb = expected_rgb(t, pixel);
      for (int k = 0; k < 3; ++k) {
        const std::size_t at = static_cast<std::size_t>(((k * c.frames + f) * 8 + 3) * 8 + 3);
        EXPECT_NEAR(oip::float_at(reply.binary, at), rgb[static_cast<std::size_t>(k)], 1e-6);
      }
    }
  }
  std::vector<float> seen;
  const InferReply two_frames =
      decode_fp16("qwen-image_decoder", make_latents(32, 1), {1, 16, 2, 1, 1}, &seen);
  EXPECT_EQ(two_frames.status, 400);
  EXPECT_EQ(decode_fp16("sdxl_decoder", make_latents(8, 1), {1, 4, 2, 1, 1}, &seen).status, 400);
}

TEST_F(OpenInferenceTest, PerChannelDecodeAndEncodeMatchSection9) {
  ReferenceEndpointOptions options;
  options.oip_input_datatype = rvae::DType::kFloat32;
  start_with(options);
  // Decode: wan2.1, one latent frame of 2x2.
  const std::vector<float> latents = pc::raw_latents(16 * 4, 4, 4);
  json header = oip::binary_header("latent_sample", "FP32", {1, 16, 1, 2, 2}, latents.size() * 4);
  oip::ask_output(header, "sample", true);
  const InferReply decoded = binary("wan2.1_decoder", header, to_body(latents));
  ASSERT_EQ(decoded.status, 200) << decoded.raw;
  EXPECT_EQ(decoded.json["outputs"][0]["shape"], json({1, 3, 1, 16, 16}));
  for (int p = 0; p < 4; ++p) {
    std::array<double, 16> raw{};
    for (int c = 0; c < 16; ++c)
      raw[static_cast<std::size_t>(c)] = latents[static_cast<std::size_t>(c * 4 + p)];
    const std::array<double, 3> rgb = pc::decode_pixel(raw);
    for (int k = 0; k < 3; ++k) {
      const std::size_t at = static_cast<std::size_t>((k * 16 + (p / 2) * 8) * 16 + (p % 2) * 8);
      EXPECT_NEAR(oip::float_at(decoded.binary, at), rgb[static_cast<std::size_t>(k)], 1e-6);
    }
  }
  // Encode: qwen-image takes a one-frame video; wan2.1 4n + 1 frames.
  for (int frames : {1, 5}) {
    SCOPED_TRACE(frames);
    const char* model = frames == 1 ? "qwen-image_encoder" : "wan2.1_encoder";
    std::vector<float> pixels(static_cast<std::size_t>(3 * frames * 8 * 8));
    for (std::size_t i = 0; i < pixels.size(); ++i)
      pixels[i] = static_cast<float>(0.8 * std::sin(0.11 * static_cast<double>(i)));
    json request = oip::binary_header("sample", "FP32", {1, 3, frames, 8, 8}, pixels.size() * 4);
    oip::ask_output(request, "latent_sample", true);
    const InferReply encoded = binary(model, request, to_body(pixels));
    ASSERT_EQ(encoded.status, 200) << encoded.raw;
    const int latent_frames = (frames - 1) / 4 + 1;
    EXPECT_EQ(encoded.json["outputs"][0]["shape"], json({1, 16, latent_frames, 1, 1}));
    EXPECT_EQ(encoded.json["outputs"][0]["datatype"], "FP32");
    for (int t = 0; t < latent_frames; ++t) {
      const int first = t == 0 ? 0 : 4 * t - 3, last = t == 0 ? 0 : 4 * t;
      std::array<double, 3> rgb{};
      for (int k = 0; k < 3; ++k) {
        double sum = 0.0;
        for (int f = first; f <= last; ++f)
          for (int i = 0; i < 64; ++i)
            sum += pixels[static_cast<std::size_t>((k * frames + f) * 64 + i)];
        rgb[static_cast<std::size_t>(k)] = sum / (64.0 * (last - first + 1));
      }
      const std::array<double, 16> raw = pc::encode_pixel(rgb);
      for (int c = 0; c < 16; ++c) {
        EXPECT_NEAR(oip::float_at(encoded.binary, static_cast<std::size_t>(c * latent_frames + t)),
                    raw[static_cast<std::size_t>(c)], 1e-4)
            << "channel " << c << ", latent frame " << t;
      }
    }
  }
  const std::string four(3 * 4 * 64 * 4, '\0');
  const InferReply refused = binary(
      "wan2.1_encoder", oip::binary_header("sample", "FP32", {1, 3, 4, 8, 8}, four.size()), four);
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(error_of(refused), "wan2.1 encodes 4n + 1 frames; got 4.");
}

// The scalar models' encoder gives the raw latent the HF route gives without factors, from
// FP32 pixels and from FP16 ones (the default input datatype).
TEST_F(OpenInferenceTest, EncoderMatchesTheHfRoute) {
  std::vector<float> pixels(3 * 16 * 8);
  for (std::size_t i = 0; i < pixels.size(); ++i)
    pixels[i] = static_cast<float>(0.9 * std::cos(0.07 * static_cast<double>(i)));
  std::vector<float> rounded;
  const std::string half = oip::to_float16(pixels, &rounded);
  // FP16 input on the default server: the HF route gets the same rounded pixels as float32.
  json fp16 = oip::binary_header("sample", "FP16", {1, 3, 16, 8}, half.size());
  oip::ask_output(fp16, "latent_sample", true);
  const InferReply from_half = binary("sd15_encoder", fp16, half);
  ASSERT_EQ(from_half.status, 200) << from_half.raw;

  ReferenceEndpointOptions options;
  options.oip_input_datatype = rvae::DType::kFloat32;
  start_with(options);
  json fp32 = oip::binary_header("sample", "FP32", {1, 3, 16, 8}, rounded.size() * 4);
  oip::ask_output(fp32, "latent_sample", true);
  EXPECT_EQ(binary("sd15_encoder", fp32, to_body(rounded)).binary, from_half.binary);

  for (const char* preset : {"sd15", "flux"}) {
    SCOPED_TRACE(preset);
    auto hf = post(
        std::string("/") + preset + "/encode/?" + shape_query({1, 3, 16, 8}) + "&dtype=float32",
        to_body(pixels), "tensor/binary", "tensor/binary");
    ASSERT_TRUE(hf);
    ASSERT_EQ(hf->status, 200) << hf->body;
    json request = oip::binary_header("sample", "FP32", {1, 3, 16, 8}, pixels.size() * 4);
    request["parameters"] = {{"binary_data_output", true}};
    const InferReply reply = binary(std::string(preset) + "_encoder", request, to_body(pixels));
    ASSERT_EQ(reply.status, 200) << reply.raw;
    const rvae::DType hf_dtype = rvae::dtype_from_name(hf->get_header_value("dtype")).value();
    const std::size_t count = hf->body.size() / 2;
    ASSERT_EQ(reply.binary.size(), count * 4);
    for (std::size_t i = 0; i < count; ++i) {
      // The HF route answers in the VAE's 2-byte dtype: the OIP's FP32 rounds to the same bits.
      const float value = oip::float_at(reply.binary, i);
      const std::uint16_t bits = hf_dtype == rvae::DType::kFloat16
                                     ? rvae::float32_to_float16(value)
                                     : rvae::float32_to_bfloat16(value);
      std::uint16_t hf_bits;
      std::memcpy(&hf_bits, hf->body.data() + i * 2, 2);
      EXPECT_EQ(bits, hf_bits) << i;
    }
  }
}

}  // namespace
}  // namespace rvae::testing_test
