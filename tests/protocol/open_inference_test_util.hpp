// Shared helpers for the Open Inference Protocol tests: replies built by hand, in the binary
// and the JSON form, and model metadata.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "protocol/open_inference.hpp"
#include "protocol_test_util.hpp"

namespace rvae::protocol::oip::test {

using protocol::test::make_response;
using protocol::test::pattern_bytes;
using protocol::test::pattern_image;
using protocol::test::to_bytes;

inline std::string shape_json(const Shape& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i)
    out += (i ? "," : "") + std::to_string(shape[i]);
  return out + "]";
}

/// One output of a binary reply: its JSON entry gets binary_data_size = bytes.size().
struct BinaryOutput {
  std::string name;
  std::string datatype;
  Shape shape;
  Bytes bytes;
};

/// A reply in the binary form: JSON header, then each output's bytes in order.
inline http::HttpResponse binary_reply(const std::vector<BinaryOutput>& outputs) {
  std::string header = R"({"model_name":"vae","model_version":"1","outputs":[)";
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const BinaryOutput& o = outputs[i];
    header += (i ? "," : "") + std::string(R"({"name":")") + o.name + R"(","datatype":")" +
              o.datatype + R"(","shape":)" + shape_json(o.shape) +
              R"(,"parameters":{"binary_data_size":)" + std::to_string(o.bytes.size()) + "}}";
  }
  header += "]}";
  Bytes body = to_bytes(header);
  for (const BinaryOutput& o : outputs)
    body.insert(body.end(), o.bytes.begin(), o.bytes.end());
  return make_response(200,
                       {{"Content-Type", "application/octet-stream"},
                        {"Inference-Header-Content-Length", std::to_string(header.size())}},
                       std::move(body));
}

/// A reply of `header` JSON then `tail` bytes, with the header length given as `length`.
inline http::HttpResponse raw_binary_reply(const std::string& header, const Bytes& tail,
                                           std::string length) {
  Bytes body = to_bytes(header);
  body.insert(body.end(), tail.begin(), tail.end());
  return make_response(200,
                       {{"Content-Type", "application/octet-stream"},
                        {"Inference-Header-Content-Length", std::move(length)}},
                       std::move(body));
}
inline http::HttpResponse raw_binary_reply(const std::string& header, const Bytes& tail) {
  return raw_binary_reply(header, tail, std::to_string(header.size()));
}

/// A reply in the JSON form.
inline http::HttpResponse json_reply(const std::string& json, int status = 200) {
  return make_response(status, {{"Content-Type", "application/json"}}, to_bytes(json));
}

/// A reply in the JSON form holding one output with `data` written as given.
inline http::HttpResponse json_data_reply(const std::string& name, const std::string& datatype,
                                          const Shape& shape, const std::string& data) {
  return json_reply(R"({"model_name":"vae","outputs":[{"name":")" + name + R"(","datatype":")" +
                    datatype + R"(","shape":)" + shape_json(shape) + R"(,"data":)" + data + "}]}");
}

template <typename T>
Bytes bytes_of(const std::vector<T>& values) {
  Bytes out(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(out.data(), values.data(), out.size());
  return out;
}

inline TensorMetadata tensor(std::string name, std::string datatype, Shape shape) {
  return TensorMetadata{std::move(name), std::move(datatype), std::move(shape)};
}

/// A VAE model's metadata with one input and one output.
inline ModelMetadata vae_model(TensorMetadata input, TensorMetadata output,
                               std::string name = "sdxl_decoder") {
  ModelMetadata m;
  m.name = std::move(name);
  m.versions = {"1"};
  m.platform = "onnxruntime_onnx";
  m.inputs.push_back(std::move(input));
  m.outputs.push_back(std::move(output));
  return m;
}

/// The JSON header of a request body (its first piece) and the piece after it.
struct RequestParts {
  std::string header;
  http::BodyPiece tensor;
};
inline RequestParts request_parts(const http::HttpRequest& request) {
  RequestParts parts;
  const auto& pieces = request.body.pieces();
  if (pieces.size() != 2) return parts;
  parts.header.assign(reinterpret_cast<const char*>(pieces[0].data), pieces[0].size);
  parts.tensor = pieces[1];
  return parts;
}

}  // namespace rvae::protocol::oip::test
