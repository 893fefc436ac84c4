// An inference request in the binary form, as tritonclient builds it for one binary input and
// one binary output: the JSON header, then the input's bytes borrowed from the caller.
#include <exception>
#include <string>

#include <nlohmann/json.hpp>

#include "protocol/open_inference.hpp"
#include "protocol/protocol_internal.hpp"

namespace rvae::protocol::oip {
namespace {

using protocol::internal::invalid_argument;

// A JSON string literal; nullopt for text that is not UTF-8 (nlohmann refuses to write it).
std::optional<std::string> json_string(std::string_view text) {
  try {
    return nlohmann::json(std::string(text)).dump();
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

Result<http::HttpRequest> build_infer_request(std::string_view input_name, const TensorView& input,
                                              std::string_view output_name) {
  if (Result<void> ok = input.validate(); !ok) {
    return invalid_argument("input tensor: " + ok.error().message());
  }
  const auto input_json = json_string(input_name);
  const auto output_json = json_string(output_name);
  if (input_name.empty() || output_name.empty() || !input_json || !output_json) {
    return invalid_argument("tensor names must be non-empty UTF-8 text");
  }
  // Key order and compact form as tritonclient's json.dumps writes them.
  std::string header = "{\"inputs\":[{\"name\":" + *input_json + ",\"shape\":[";
  for (std::size_t i = 0; i < input.shape.size(); ++i) {
    if (i > 0) header += ',';
    header += std::to_string(input.shape[i]);
  }
  header += "],\"datatype\":\"" + std::string(datatype_name(input.dtype)) +
            "\",\"parameters\":{\"binary_data_size\":" + std::to_string(input.size_bytes) +
            "}}],\"outputs\":[{\"name\":" + *output_json +
            ",\"parameters\":{\"binary_data\":true}}]}";

  http::HttpRequest request;
  request.method = "POST";
  request.headers.push_back({"Content-Type", "application/octet-stream"});
  request.headers.push_back({"Inference-Header-Content-Length", std::to_string(header.size())});
  request.body.append_owned(Bytes(header.begin(), header.end()));
  request.body.append_borrowed(static_cast<const std::uint8_t*>(input.data), input.size_bytes);
  return request;
}

}  // namespace rvae::protocol::oip
