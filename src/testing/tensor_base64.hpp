// The legacy `tensor/base64` form the service's toolkit fork still accepts (a ComfyUI node sends it
// by default): a JSON body {"inputs": "<base64 of the raw tensor bytes>"} with `shape` and `dtype`
// in the query, and, for `Accept: tensor/base64`, the reply
// {"inputs": "<base64>", "parameters": {"shape": [...], "dtype": "..."}}.
#pragma once

#include <string>
#include <string_view>

#include "rvae/error.hpp"
#include "testing/inference.hpp"

namespace rvae::reference {

/// The Content-Type / Accept value of the form.
inline constexpr std::string_view kTensorBase64 = "tensor/base64";

/// The raw tensor bytes of a `tensor/base64` request body; HTTP 400 errors name what is wrong.
Result<std::string> unwrap_base64_body(std::string_view body);

/// A tensor reply rewritten as the JSON `tensor/base64` reply (no shape/dtype headers: the JSON
/// carries them).
InferenceReply to_base64_reply(InferenceReply reply);

/// Standard base64 (RFC 4648, with padding). Exposed for tests.
std::string base64_encode(std::string_view bytes);
/// Inverse of base64_encode; nullopt for anything else (bad characters, length, padding).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace rvae::reference
