// Helpers for the Open Inference Protocol tests of the reference endpoint: requests in the binary
// and JSON forms, built here from PROTOCOL.md §8 (not with the library's protocol layer), and
// their replies taken apart.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reference_test_support.hpp"
#include "rvae/tensor.hpp"

namespace rvae::testing_test::oip {

/// A reply taken apart: status, its JSON (the header of a binary reply, or the whole JSON
/// reply), and the bytes after the header.
struct InferReply {
  int status = 0;
  std::string content_type;
  bool has_header_length = false;
  nlohmann::json json;
  std::string binary;
  std::string raw;
};

inline InferReply take_apart(const httplib::Result& res) {
  InferReply out;
  if (!res) return out;
  out.status = res->status;
  out.raw = res->body;
  out.content_type = res->get_header_value("Content-Type");
  std::size_t header = res->body.size();
  if (res->has_header("Inference-Header-Content-Length")) {
    out.has_header_length = true;
    header = std::stoul(res->get_header_value("Inference-Header-Content-Length"));
  }
  out.json = nlohmann::json::parse(res->body.substr(0, header), nullptr, false);
  if (header < res->body.size()) out.binary = res->body.substr(header);
  return out;
}

/// The JSON header of a binary request with one input of `bytes` bytes.
inline nlohmann::json binary_header(const std::string& input, const std::string& datatype,
                                    const rvae::Shape& shape, std::size_t bytes) {
  return {{"inputs",
           {{{"name", input},
             {"datatype", datatype},
             {"shape", shape},
             {"parameters", {{"binary_data_size", bytes}}}}}}};
}

/// Asks for `output` in binary (or JSON) form.
inline void ask_output(nlohmann::json& request, const std::string& output, bool binary) {
  request["outputs"] = {{{"name", output}, {"parameters", {{"binary_data", binary}}}}};
}

/// POSTs a binary-form request: the header's JSON, then `bytes`.
inline httplib::Result post_binary(httplib::Client& http, const std::string& path,
                                   const std::string& header_json, const std::string& bytes) {
  httplib::Headers headers{{"Inference-Header-Content-Length", std::to_string(header_json.size())}};
  return http.Post(path, headers, header_json + bytes, "application/octet-stream");
}

inline httplib::Result post_json(httplib::Client& http, const std::string& path,
                                 const std::string& json) {
  return http.Post(path, json, "application/json");
}

/// float32 values as float16 bytes, and the float16 values themselves (what the server sees).
inline std::string to_float16(const std::vector<float>& values, std::vector<float>* rounded) {
  std::string bytes(values.size() * 2, '\0');
  rounded->resize(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::uint16_t bits = rvae::float32_to_float16(values[i]);
    std::memcpy(&bytes[i * 2], &bits, 2);
    (*rounded)[i] = rvae::float16_to_float32(bits);
  }
  return bytes;
}

/// float32 values as bfloat16 bytes (rounded to nearest even), and the values the server sees.
inline std::string to_bfloat16(const std::vector<float>& values, std::vector<float>* rounded) {
  std::string bytes(values.size() * 2, '\0');
  rounded->resize(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::uint16_t bits = rvae::float32_to_bfloat16(values[i]);
    std::memcpy(&bytes[i * 2], &bits, 2);
    (*rounded)[i] = rvae::bfloat16_to_float32(bits);
  }
  return bytes;
}

inline float float_at(const std::string& bytes, std::size_t index) {
  float value;
  std::memcpy(&value, bytes.data() + index * 4, 4);
  return value;
}

}  // namespace rvae::testing_test::oip
