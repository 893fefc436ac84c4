// tensor/base64: JSON-wrapped base64 tensors, as the service's toolkit fork reads and writes them.
#include "testing/tensor_base64.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "rvae/tensor.hpp"
#include "testing/inference_util.hpp"

namespace rvae::reference {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int sextet(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v =
        (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16) |
        (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8) |
        static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t v = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (rest == 2) v |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const int pad = last ? (text[i + 3] == '=') + (text[i + 2] == '=' && text[i + 3] == '=') : 0;
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const int s = k >= 4 - static_cast<std::size_t>(pad) ? 0 : sextet(text[i + k]);
      if (s < 0) return std::nullopt;
      v = (v << 6) | static_cast<std::uint32_t>(s);
    }
    out += static_cast<char>((v >> 16) & 0xff);
    if (pad < 2) out += static_cast<char>((v >> 8) & 0xff);
    if (pad < 1) out += static_cast<char>(v & 0xff);
  }
  return out;
}

Result<std::string> unwrap_base64_body(std::string_view body) {
  const nlohmann::json parsed = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return bad_request("A `tensor/base64` body must be a JSON object {\"inputs\": \"<base64>\"}.");
  }
  const auto inputs = parsed.find("inputs");
  if (inputs == parsed.end() || !inputs->is_string()) {
    return bad_request(
        "A `tensor/base64` body needs `inputs`: the tensor's bytes as a base64 string.");
  }
  std::optional<std::string> bytes = base64_decode(inputs->get_ref<const std::string&>());
  if (!bytes) return bad_request("`inputs` of the `tensor/base64` body is not valid base64.");
  return std::move(*bytes);
}

InferenceReply to_base64_reply(InferenceReply reply) {
  nlohmann::json json;
  json["inputs"] = base64_encode(
      std::string_view(reinterpret_cast<const char*>(reply.body.data()), reply.body.size()));
  json["parameters"]["shape"] = reply.shape;
  json["parameters"]["dtype"] = std::string(dtype_name(reply.dtype));
  const std::string text = json.dump();
  reply.body.assign(text.begin(), text.end());
  reply.content_type = std::string(kTensorBase64);
  reply.is_tensor = false;
  return reply;
}

}  // namespace rvae::reference
